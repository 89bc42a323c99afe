"""One speaker across the forms a transcript names them in.

"NATO Secretary General Mark Rutte", "Mark Rutte:" and "Rutte:" are one speaker (id
"mark-rutte", role "NATO Secretary General"); a bare "Moderator:" is the moderator the transcript
named; unnamed questioners are one speaker per outlet ("Question [Reuters]:" is
"question--reuters", "Question [BBC]:" is "question--bbc"), and "question" when no outlet is
given, so no questioner's attribution is lost to another's. A speaker keeps the first
affiliation given; a label giving another one is kept on its turn (``turn_affiliation``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from transcript.domain.labels import SpeakerRef
from transcript.domain.model import Speaker
from transcript.domain.text import fold, slugify

MODERATOR_ID = "moderator"
QUESTION_ID = "question"
UNKNOWN_ID = "unknown-speaker"
UNKNOWN_NAME = "Unknown speaker"
# Slugs never hold two dashes in a row, so no person's id can look like a questioner's.
_QUESTION_PREFIX = f"{QUESTION_ID}--"


def question_id(affiliation: str | None) -> str:
    """The speaker id of the unnamed questioner from this outlet."""
    outlet = slugify(affiliation or "")
    return f"{_QUESTION_PREFIX}{outlet}" if outlet else QUESTION_ID


def is_question(speaker_id: str) -> bool:
    return speaker_id == QUESTION_ID or speaker_id.startswith(_QUESTION_PREFIX)


def is_keyword_speaker(speaker_id: str) -> bool:
    """The moderator, questioners and the unknown speaker: named by a keyword, not a person."""
    return speaker_id in (MODERATOR_ID, UNKNOWN_ID) or is_question(speaker_id)


@dataclass(slots=True)
class _Entry:
    name: str
    role: str | None = None
    affiliation: str | None = None
    is_moderator: bool = False


class SpeakerRegistry:
    """Speakers in order of first mention, found again by full name, a longer known name
    ending the label, a unique surname, or a unique role."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._surnames: dict[str, set[str]] = {}
        self._roles: dict[str, set[str]] = {}
        self._moderator_id: str | None = None
        # _match_person depends only on which speakers exist: its answers hold until one is
        # added (a transcript names the same few people in hundreds of turns).
        self._matches: dict[tuple[tuple[str, ...], str | None], tuple[str, tuple[str, ...]] | None]
        self._matches = {}
        # resolve() is a function of the registry's state: an answer given without changing
        # anything holds until something changes (counted by _changes). Kept by the ref's
        # label, with the ref it answers: a str hashes in C, a SpeakerRef in a Python call
        # (a tenth of a millisecond per MB of text, three lookups per turn).
        self._changes = 0
        self._unchanged_answers: dict[str, tuple[int, SpeakerRef, str]] = {}

    def add(
        self,
        name: str,
        role: str | None = None,
        affiliation: str | None = None,
        is_moderator: bool = False,
        speaker_id: str | None = None,
    ) -> str:
        """Register a speaker, or complete the details of the one already known by that id."""
        speaker_id = speaker_id or slugify(name) or f"speaker-{len(self._entries) + 1}"
        entry = self._entries.get(speaker_id)
        if entry is None:
            entry = self._entries[speaker_id] = _Entry(name)
            self._matches.clear()
            self._changes += 1
            if not is_keyword_speaker(speaker_id):
                surname = slugify(name.split(" ")[-1])
                self._surnames.setdefault(surname, set()).add(speaker_id)
        if entry.role is None and role:
            entry.role = role
            self._roles.setdefault(fold(role), set()).add(speaker_id)
            self._changes += 1
        affiliation = entry.affiliation or affiliation
        if affiliation != entry.affiliation:
            entry.affiliation = affiliation
            self._changes += 1
        if is_moderator and not (entry.is_moderator and self._moderator_id):
            entry.is_moderator = True
            self._moderator_id = self._moderator_id or speaker_id
            self._changes += 1
        return speaker_id

    def turn_affiliation(self, speaker_id: str, label_affiliation: str | None) -> str | None:
        """The affiliation a label gave this speaker's turn, when it is not the speaker's own
        (call once every label is resolved)."""
        if not label_affiliation or label_affiliation == self._entries[speaker_id].affiliation:
            return None
        return label_affiliation

    def knows(self, ref: SpeakerRef) -> bool:
        if ref.kind in ("moderator", "question"):
            return True
        if ref.kind == "title":
            return self._by_role(ref.title) is not None
        return self._match_person(ref) is not None

    def resolve(self, ref: SpeakerRef) -> str:
        """The id of the speaker a label names, registering or completing it as needed."""
        answer = self._unchanged_answers.get(ref.label)
        if answer is not None:
            changes, answered, speaker_id = answer
            if changes == self._changes and (answered is ref or answered == ref):
                return speaker_id
        changes = self._changes
        speaker_id = self._resolve(ref)
        if self._changes == changes:
            self._unchanged_answers[ref.label] = (changes, ref, speaker_id)
        return speaker_id

    def _resolve(self, ref: SpeakerRef) -> str:
        if ref.kind == "moderator":
            if self._moderator_id is not None:
                return self.add("", affiliation=ref.affiliation, speaker_id=self._moderator_id)
            name = _keyword_name(ref.label)
            return self.add(name, None, ref.affiliation, True, speaker_id=MODERATOR_ID)
        if ref.kind == "question":
            name = _keyword_name(ref.label)
            return self.add(
                name, affiliation=ref.affiliation, speaker_id=question_id(ref.affiliation)
            )
        if ref.kind == "title":
            known = self._by_role(ref.title)
            name = self._entries[known].name if known else ref.label
            return self.add(name, ref.title, ref.affiliation, ref.is_moderator, known)
        match = self._match_person(ref)
        if match is None:
            return self.add(ref.name or ref.label, ref.title, ref.affiliation, ref.is_moderator)
        speaker_id, title_words = match
        role = " ".join(title_words) or ref.title
        return self.add("", role, ref.affiliation, ref.is_moderator, speaker_id=speaker_id)

    def speakers(self) -> list[Speaker]:
        return [
            Speaker(sid, e.name, e.role, e.affiliation, e.is_moderator)
            for sid, e in self._entries.items()
        ]

    def _match_person(self, ref: SpeakerRef) -> tuple[str, tuple[str, ...]] | None:
        key = (ref.tokens, ref.name)
        if key in self._matches:
            return self._matches[key]
        found = self._matches[key] = self._find_person(ref)
        return found

    def _find_person(self, ref: SpeakerRef) -> tuple[str, tuple[str, ...]] | None:
        tokens = ref.tokens
        for size in range(len(tokens), 0, -1):
            speaker_id = slugify(" ".join(tokens[-size:]))
            if speaker_id in self._entries and not is_keyword_speaker(speaker_id):
                return speaker_id, tokens[:-size] if size < len(tokens) else ()
        if ref.name and " " not in ref.name:
            same_surname = self._surnames.get(slugify(ref.name), set())
            if len(same_surname) == 1:
                return next(iter(same_surname)), ()
        return None

    def _by_role(self, title: str | None) -> str | None:
        if not title:
            return None
        found = self._roles.get(fold(title), set())
        return next(iter(found)) if len(found) == 1 else None


def _keyword_name(label: str) -> str:
    """ "QUESTION" in shouted subtitles is the same "Question" as elsewhere."""
    return label.capitalize() if label.isupper() else label


def evidence_test(known: SpeakerRegistry, refs: list[SpeakerRef]) -> Callable[[SpeakerRef], bool]:
    """Decide which labels really name a speaker rather than being a short line of speech.

    A label counts when it says so itself (a keyword, a group like "(Moderator)", a title before
    a name, a full name before a colon), when it names someone the roster or such a label
    introduced, or when it recurs.
    ``known`` is consumed: the explicit labels are registered in it.
    """
    # Counted per distinct ref (the readers give one object per distinct label), then by key.
    distinct = {id(ref): ref for ref in refs}
    counts: Counter[str] = Counter()
    for ref_id, occurrences in Counter(map(id, refs)).items():
        counts[distinct[ref_id].key] += occurrences
    for ref in refs:
        if ref.explicit and ref.kind == "person":
            known.resolve(ref)

    def counts_as_speaker(ref: SpeakerRef) -> bool:
        return (
            ref.explicit
            or ref.kind in ("moderator", "question")
            or counts[ref.key] >= 2
            or known.knows(ref)
        )

    return counts_as_speaker


def resolve_all(registry: SpeakerRegistry, refs: list[SpeakerRef]) -> list[str]:
    """Speaker ids for the labels, in order. Full names are registered before surnames and
    keywords, so "Rutte:" and a bare "Moderator:" find the person named later in the text."""
    persons = [ref for ref in refs if ref.kind == "person"]
    for ref in sorted(persons, key=lambda r: -(r.name or "").count(" ")):  # most words first
        registry.resolve(ref)
    return [registry.resolve(ref) for ref in refs]
