"""Transcript ingestion, reading and search repair with fakes: what is stored, published,
indexed and refused, decided without a database (see tests/integration/transcript for the
same on the real broker and database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from portal_shared.clock import ManualClock
from portal_shared.events.base import CloudEvent
from portal_shared.pagination import BadCursor
from transcript.adapters.revisions import RevisionSummary, StoredRevision
from transcript.adapters.search_index import SegmentHit
from transcript.domain.errors import (
    EmptyTranscriptError,
    QueryEmpty,
    RevisionNotFound,
    SpeakerNotFound,
    TranscriptNotFound,
    TranscriptParseError,
    TranscriptTooLargeError,
    UnreadableTranscriptError,
    UntimedTranscriptError,
)
from transcript.domain.model import Transcript
from transcript.domain.search import SearchPosition, encode_search_cursor
from transcript.service_layer import ingest
from transcript.service_layer.indexing import SearchRepair
from transcript.service_layer.ingest import Ingestion, Submission
from transcript.service_layer.reading import Reading

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TEXT = "Mark Rutte [NATO]: Hello there.\n\nChristiane Amanpour: Thank you, Secretary General."
VTT = "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Mark Rutte>Welcome to Munich.\n"
SEGMENT = "portal.transcript.TranscriptSegmentPublished.v1"
PUBLISHED = "portal.transcript.TranscriptPublished.v1"


@dataclass
class FakeRevisions:
    stored: dict[tuple[str, int], StoredRevision] = field(default_factory=dict)
    events: dict[tuple[str, int], list[CloudEvent]] = field(default_factory=dict)
    heads: dict[str, int] = field(default_factory=dict)
    refuse_insert: bool = False

    async def allocate_revision(self, video_id: str, now: datetime) -> int:
        self.heads[video_id] = self.heads.get(video_id, 0) + 1
        return self.heads[video_id]

    async def insert(self, stored: StoredRevision, events: Sequence[CloudEvent]) -> None:
        if self.refuse_insert:
            raise TranscriptTooLargeError("more than one stored revision may hold")
        self.stored[(stored.video_id, stored.revision)] = stored
        self.events[(stored.video_id, stored.revision)] = list(events)

    async def get(self, video_id: str, revision: int | None = None) -> StoredRevision | None:
        if revision is None:
            numbers = await self.revision_numbers(video_id)
            revision = numbers[0] if numbers else 0
        return self.stored.get((video_id, revision))

    async def latest_summary(self, video_id: str) -> RevisionSummary | None:
        latest = await self.get(video_id)
        return RevisionSummary(latest.revision, latest.source_sha256) if latest else None

    async def revision_numbers(self, video_id: str) -> list[int]:
        return sorted((r for v, r in self.stored if v == video_id), reverse=True)


@dataclass
class FakeIndex:
    indexed: dict[str, tuple[int, Transcript]] = field(default_factory=dict)
    searches: list[tuple[list[str], int, str | None, SearchPosition | None]] = field(
        default_factory=list
    )
    hits: list[SegmentHit] = field(default_factory=list)

    async def indexed_revision(self, video_id: str) -> int | None:
        return self.indexed[video_id][0] if video_id in self.indexed else None

    async def index(self, video_id: str, revision: int, transcript: Transcript) -> None:
        self.indexed[video_id] = (revision, transcript)

    async def search(
        self,
        terms: list[str],
        *,
        limit: int,
        video_id: str | None = None,
        after: SearchPosition | None = None,
    ) -> tuple[list[SegmentHit], bool]:
        self.searches.append((terms, limit, video_id, after))
        return self.hits[:limit], len(self.hits) > limit


@dataclass
class World:
    revisions: FakeRevisions = field(default_factory=FakeRevisions)
    index: FakeIndex = field(default_factory=FakeIndex)
    clock: ManualClock = field(default_factory=lambda: ManualClock(START))
    nudges: int = 0

    def nudge(self) -> None:
        self.nudges += 1

    @property
    def ingestion(self) -> Ingestion:
        return Ingestion(self.revisions, self.index, self.clock, self.nudge)

    @property
    def reading(self) -> Reading:
        return Reading(self.revisions, self.index, max_hits=50)

    def nothing_happened(self) -> bool:
        return not self.revisions.stored and not self.index.indexed and self.nudges == 0


@pytest.fixture
def world() -> World:
    return World()


def submission(content: bytes | str = TEXT, video: str = "msc-2026") -> Submission:
    return Submission(video, content, "en", "editor-1")


async def test_a_submission_is_stored_with_its_events_published_and_indexed(world: World) -> None:
    submitted = await world.ingestion.submit(submission())
    assert (submitted.revision, submitted.supersedes_revision, submitted.created) == (1, None, True)
    assert [s.name for s in submitted.speakers] == ["Mark Rutte", "Christiane Amanpour"]
    stored = world.revisions.stored[("msc-2026", 1)]
    assert (stored.submitted_by, stored.submitted_at, stored.language) == ("editor-1", START, "en")
    events = world.revisions.events[("msc-2026", 1)]
    assert [e.type for e in events] == [SEGMENT, SEGMENT, PUBLISHED]  # two turns, one summary
    assert {e.subject for e in events} == {"msc-2026"} and {e.time for e in events} == {START}
    assert world.nudges == 1  # the relay is woken for the stored events
    assert world.index.indexed["msc-2026"][0] == 1


async def test_a_new_submission_supersedes_and_an_unchanged_one_is_skipped(world: World) -> None:
    await world.ingestion.submit(submission())
    second = await world.ingestion.submit(submission(VTT))
    assert (second.revision, second.supersedes_revision) == (2, 1)
    again = await world.ingestion.submit(submission(VTT), skip_unchanged=True)
    assert (again.revision, again.created) == (2, False)
    assert sorted(world.revisions.stored) == [("msc-2026", 1), ("msc-2026", 2)]
    assert world.nudges == 2 and world.index.indexed["msc-2026"][0] == 2


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("", EmptyTranscriptError),
        ("just words, nobody speaking", EmptyTranscriptError),
        (b"\x00\x01\x02binary\xff\xfe\x00", UnreadableTranscriptError),
        ("WEBVTT\n\n00:00:05.000 --> 00:00:01.000 oops\n<v A>x\n", TranscriptParseError),
    ],
)
async def test_unreadable_input_is_refused_before_anything_is_stored(
    world: World, content: bytes | str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        await world.ingestion.submit(submission(content))
    assert world.nothing_happened() and world.revisions.heads == {}


async def test_too_many_turns_are_refused(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "MAX_SEGMENTS", 1)
    with pytest.raises(TranscriptTooLargeError, match="at most 1"):
        await world.ingestion.submit(submission())
    assert world.nothing_happened()


async def test_a_revision_too_large_to_store_is_neither_indexed_nor_announced(
    world: World,
) -> None:
    world.revisions.refuse_insert = True
    with pytest.raises(TranscriptTooLargeError):
        await world.ingestion.submit(submission())
    assert world.nothing_happened()


async def test_reading_raises_domain_errors_only(world: World) -> None:
    with pytest.raises(TranscriptNotFound):
        await world.reading.revision("none")
    with pytest.raises(TranscriptNotFound):
        await world.reading.revision_numbers("none")
    await world.ingestion.submit(submission())
    with pytest.raises(RevisionNotFound) as missing:
        await world.reading.revision("msc-2026", 2)
    assert missing.value.revision == 2
    with pytest.raises(SpeakerNotFound):
        await world.reading.speaker_segments("msc-2026", "nobody")
    found = await world.reading.speaker_segments("msc-2026", "mark-rutte")
    assert [s.text for s in found.segments] == ["Hello there."]
    with pytest.raises(UntimedTranscriptError):
        await world.reading.export("msc-2026", "vtt")
    _, text = await world.reading.export("msc-2026", "txt")
    assert "Hello there." in text
    assert await world.reading.revision_numbers("msc-2026") == [1]


async def test_search_folds_the_query_bounds_the_page_and_checks_the_cursor(world: World) -> None:
    with pytest.raises(QueryEmpty):
        await world.reading.search("… !", limit=10)
    with pytest.raises(BadCursor):
        await world.reading.search("store", limit=10, cursor="not-ours")
    hit = SegmentHit("v1", 1, 4, "jonas-gahr-store", "Jonas Gahr Støre", "Støre", None, None)
    world.index.hits = [hit, hit]
    after = SearchPosition("v0", 9)
    found = await world.reading.search(
        "STØRE l’OTAN", limit=500, cursor=encode_search_cursor(after)
    )
    terms, limit, _, position = world.index.searches[-1]
    assert terms == ["store", "lotan", "l", "otan"] and position == after
    assert limit == 50  # never more than the service's bound
    assert found.next_cursor is None
    page = await world.reading.search("store", limit=1)
    assert page.next_cursor == encode_search_cursor(SearchPosition("v1", 4))


async def test_search_repair_indexes_only_a_newer_known_revision(world: World) -> None:
    repair = SearchRepair(world.revisions, world.index)
    await world.ingestion.submit(submission())
    assert not await repair.revision_published("msc-2026", 1)  # already indexed
    del world.index.indexed["msc-2026"]  # the process died between storing and indexing
    assert await repair.revision_published("msc-2026", 1)
    assert world.index.indexed["msc-2026"][0] == 1
    assert not await repair.revision_published("other-deployment", 7)  # not ours
