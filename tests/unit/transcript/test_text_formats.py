"""Plain-text transcripts: heading blocks, headings with a colon, inline labels, rosters,
furniture and the odd characters pasted text brings, in English and French."""

from __future__ import annotations

import pytest
from transcript.domain.export import to_plain_text
from transcript.domain.model import Transcript
from transcript.domain.parser import parse


def turns(transcript: Transcript) -> list[tuple[str, str]]:
    return [(s.speaker_id, s.text) for s in transcript.segments]


def test_heading_blocks_with_titles_and_a_moderator_mark() -> None:
    transcript = parse(
        "Christiane Amanpour (Moderator)\n\nWelcome.\n\n"
        "NATO Secretary General Mark Rutte\n\nThank you.\n\nSecond paragraph.\n"
    )
    assert turns(transcript) == [
        ("christiane-amanpour", "Welcome."),
        ("mark-rutte", "Thank you.\n\nSecond paragraph."),
    ]
    assert transcript.speaker("christiane-amanpour").is_moderator
    assert transcript.speaker("mark-rutte").role == "NATO Secretary General"


def test_heading_followed_directly_by_text() -> None:
    transcript = parse("NATO Secretary General Mark Rutte\nHere's the thing.\n\nMore.")
    assert turns(transcript) == [("mark-rutte", "Here's the thing.\n\nMore.")]


def test_lines_of_one_paragraph_are_joined_with_a_space() -> None:
    transcript = parse("Mark Rutte:\nFirst line\nwrapped here.\n\nNew paragraph.\nMark Rutte:\nx.")
    assert turns(transcript) == [("mark-rutte", "First line wrapped here.\n\nNew paragraph.\n\nx.")]


def test_headings_with_a_colon_on_their_own_line() -> None:
    transcript = parse("Question:\n\nWhat next?\n\nNATO Secretary General Mark Rutte:\n\nWe act.")
    assert turns(transcript) == [("question", "What next?"), ("mark-rutte", "We act.")]


@pytest.mark.parametrize(
    ("line", "speaker_id", "role", "affiliation"),
    [
        (
            "Mark Rutte [NATO Secretary General]: We act.",
            "mark-rutte",
            "NATO Secretary General",
            None,
        ),
        ("Secretary General, Mark Rutte: We act.", "mark-rutte", "Secretary General", None),
        ("Question [Reuters]: We act.", "question--reuters", None, "Reuters"),
        ("Christiane Amanpour [Anchor, Moderator]: We act.", "christiane-amanpour", "Anchor", None),
        ("Jane Doe (BBC): We act.", "jane-doe", "BBC", None),
    ],
)
def test_inline_label_forms(
    line: str, speaker_id: str, role: str | None, affiliation: str | None
) -> None:
    transcript = parse(line)
    assert turns(transcript) == [(speaker_id, "We act.")]
    speaker = transcript.speaker(speaker_id)
    assert (speaker.role, speaker.affiliation) == (role, affiliation)


def test_names_resolve_to_one_speaker_across_forms() -> None:
    transcript = parse(
        "Speakers included Mark Rutte, NATO Secretary General. "
        "Moderated by Christiane Amanpour, CNN.\n\n"
        "Moderator: Welcome.\n"
        "Rutte: Thanks.\n"
        "Christiane Amanpour (Moderator): And now?\n"
        "NATO Secretary General Mark Rutte: Now this.\n"
        "Question [Le Monde]: Why?\n"
        "Mark Rutte: Because.\n"
        "Question: And?\n"
    )
    assert [s.speaker_id for s in transcript.segments] == [
        "christiane-amanpour",
        "mark-rutte",
        "christiane-amanpour",
        "mark-rutte",
        "question--le-monde",
        "mark-rutte",
        "question",
    ]
    assert [s.id for s in transcript.speakers] == [
        "christiane-amanpour",
        "mark-rutte",
        "question--le-monde",
        "question",
    ]
    # An outlet is never guessed: the bare "Question:" is not attributed to Le Monde.
    assert transcript.speaker("question--le-monde").affiliation == "Le Monde"
    assert transcript.speaker("question").affiliation is None
    assert transcript.speaker("christiane-amanpour").affiliation == "CNN"


def test_a_bare_moderator_label_names_the_moderator_introduced_later() -> None:
    transcript = parse("Moderator: Hello.\n\nJane Doe (Moderator)\n\nWelcome back.")
    assert [s.id for s in transcript.speakers] == ["jane-doe"]
    assert turns(transcript) == [("jane-doe", "Hello.\n\nWelcome back.")]


def test_a_bare_moderator_label_without_a_named_moderator() -> None:
    transcript = parse("Moderator: Hello.\nMark Rutte: Hi.\nMark Rutte: Again.")
    moderator = transcript.speaker("moderator")
    assert (moderator.name, moderator.is_moderator) == ("Moderator", True)


def test_consecutive_turns_of_one_speaker_merge() -> None:
    transcript = parse(
        "Mark Rutte: One.\n\nNATO Secretary General Mark Rutte\n\nTwo.\nRutte: Three."
    )
    assert turns(transcript) == [("mark-rutte", "One.\n\nTwo.\n\nThree.")]


def test_a_short_line_of_speech_is_not_taken_for_a_speaker() -> None:
    transcript = parse(
        "Mark Rutte: We need three things.\n\nStep One: the money.\n\nSlava Ukraini\n\nThank you.\n"
        "Mark Rutte: Again."
    )
    assert [s.id for s in transcript.speakers] == ["mark-rutte"]
    assert transcript.segments[0].text == (
        "We need three things.\n\nStep One: the money.\n\nSlava Ukraini\n\nThank you.\n\nAgain."
    )


def test_full_names_before_a_colon_are_speakers_even_once() -> None:
    transcript = parse(
        "Moderator: Welcome to the panel.\n"
        "Mark Rutte: Thank you.\n"
        "Jane van der Berg:\n\nGlad to be here.\n\n"
        "Step One: the money comes first.\n"
    )
    assert turns(transcript) == [
        ("moderator", "Welcome to the panel."),
        ("mark-rutte", "Thank you."),
        ("jane-van-der-berg", "Glad to be here.\n\nStep One: the money comes first."),
    ]


def test_two_people_speaking_once_each() -> None:
    transcript = parse("Mark Rutte: Hello.\n\nChristiane Amanpour: Thank you.")
    assert turns(transcript) == [("mark-rutte", "Hello."), ("christiane-amanpour", "Thank you.")]
    assert all(s.role is None and s.affiliation is None for s in transcript.speakers)


def test_a_label_that_recurs_counts_as_a_speaker() -> None:
    transcript = parse("Anna Berg: Hello.\nJohn Smith: Hi.\nAnna Berg: Bye.\nJohn Smith: Bye.")
    assert [s.speaker_id for s in transcript.segments] == ["anna-berg", "john-smith"] * 2


def test_english_roster_lists_speakers_who_never_speak() -> None:
    transcript = parse(
        "Speakers included Volodymyr Zelenskyy, President of Ukraine; Roger Wicker, US Senator, "
        "United States Senate. Moderated by Christiane Amanpour, Cable News Network.\n\n"
        "Christiane Amanpour\n\nWelcome."
    )
    wicker = transcript.speaker("roger-wicker")
    assert (wicker.role, wicker.affiliation, wicker.speaks) == (
        "US Senator",
        "United States Senate",
        False,
    )
    assert transcript.speaker("volodymyr-zelenskyy").role == "President of Ukraine"
    assert turns(transcript) == [("christiane-amanpour", "Welcome.")]


FRENCH_ROSTER = (
    "Intervenants : Volodymyr Zelensky, président de l’Ukraine ; Roberta Metsola, présidente "
    "du\u00a0Parlement européen. Modération : Christiane Amanpour, Cable News Network."
)
FRENCH = """\ufeffCOMPTE NATO MULTIMEDIA

S’inscrire

Cliquez sur le bouton pour revenir à la page sur laquelle vous étiez.

Débat au Forum de Munich

(Tel que prononcé)

14 févr. 2026

{ROSTER}

Christiane Amanpour (Modératrice)

Monsieur le Secrétaire général, que peut attendre l’Ukraine ?

Secrétaire général de l’OTAN Mark Rutte
Permettez-moi d’abord de partager deux choses.

Modératrice : Merci.

Question [Le Monde] : Et la Chine ?
""".replace("{ROSTER}", FRENCH_ROSTER)


def test_french_transcript_with_roster_titles_and_labels() -> None:
    transcript = parse(FRENCH)
    assert turns(transcript) == [
        ("christiane-amanpour", "Monsieur le Secrétaire général, que peut attendre l’Ukraine ?"),
        ("mark-rutte", "Permettez-moi d’abord de partager deux choses."),
        ("christiane-amanpour", "Merci."),
        ("question--le-monde", "Et la Chine ?"),
    ]
    assert transcript.speaker("mark-rutte").role == "Secrétaire général de l’OTAN"
    assert transcript.speaker("roberta-metsola").role == "présidente du Parlement européen"
    assert not transcript.speaker("volodymyr-zelensky").speaks
    assert transcript.speaker("question--le-monde").affiliation == "Le Monde"


def test_questioners_from_different_outlets_are_different_speakers() -> None:
    transcript = parse(
        "Mark Rutte: Welcome.\n"
        "Question [Reuters]: First?\n"
        "Mark Rutte: One.\n"
        "Question [BBC]: Second?\n"
        "Question [Reuters]: Follow-up?\n"
    )
    assert turns(transcript) == [
        ("mark-rutte", "Welcome."),
        ("question--reuters", "First?"),
        ("mark-rutte", "One."),
        ("question--bbc", "Second?"),
        ("question--reuters", "Follow-up?"),
    ]
    attributions = {s.id: (s.name, s.affiliation) for s in transcript.speakers}
    assert attributions == {
        "mark-rutte": ("Mark Rutte", None),
        "question--reuters": ("Question", "Reuters"),
        "question--bbc": ("Question", "BBC"),
    }
    labels = to_plain_text(transcript, "labels")
    assert "Question [Reuters]: First?" in labels and "Question [BBC]: Second?" in labels
    assert parse(labels) == transcript


def test_french_roster_with_other_wordings() -> None:
    transcript = parse(
        "Avec la participation de Kaja Kallas, haute représentante, Union européenne. "
        "Animée par Jeanne Dupont, France 24.\n\nJeanne Dupont (Animatrice)\n\nBonsoir."
    )
    kallas, dupont = transcript.speaker("kaja-kallas"), transcript.speaker("jeanne-dupont")
    assert (kallas.role, kallas.affiliation) == ("haute représentante", "Union européenne")
    assert (dupont.is_moderator, dupont.affiliation) == (True, "France 24")


def test_windows_line_endings_bom_nbsp_and_curly_quotes() -> None:
    transcript = parse(
        "\ufeffSecrétaire général de l’OTAN Mark Rutte\r\n\r\nIt’s\u00a0crucial.\r\n\r\n"
        "Mark O’Brien:\u00a0Yes.\r\nMark O'Brien: Indeed.\r\n"
    )
    assert turns(transcript) == [
        ("mark-rutte", "It’s crucial."),
        ("mark-obrien", "Yes.\n\nIndeed."),
    ]


def test_furniture_and_text_before_the_first_speaker_are_dropped() -> None:
    transcript = parse(
        "NATO MULTIMEDIA ACCOUNT\n\nAn unknown box line\n\n"
        "Click the button to return to the page.\n\n"
        "Joint press conference\n\n(As delivered)\n\n16 Feb. 2026\n\n"
        "Mark Rutte (NATO)\n\nGood morning.\n\n(As delivered)\n\nLast updated: 16 Feb. 2026 10:12\n"
    )
    assert turns(transcript) == [("mark-rutte", "Good morning.")]


def test_speaker_ids_are_slugs_of_names() -> None:
    transcript = parse("Zoë Ó Briain (RTÉ): Dia dhuit.")
    assert transcript.speakers[0].id == "zoe-o-briain"


def test_roster_in_two_paragraphs() -> None:
    transcript = parse(
        "Intervenants : Kaja Kallas, haute représentante.\n\n"
        "Modération : Jeanne Dupont, France 24.\n\nModératrice : Bonsoir."
    )
    assert [(s.id, s.is_moderator, s.speaks) for s in transcript.speakers] == [
        ("jeanne-dupont", True, True),
        ("kaja-kallas", False, False),
    ]


def test_a_person_and_the_moderator_labelled_with_two_affiliations_keep_both() -> None:
    transcript = parse(
        "Moderator [CNN]: Welcome.\n\n"
        "Mark Rutte (Prime Minister, Government of the Netherlands): In 2023 I said this.\n\n"
        "Mark Rutte (Prime Minister, NATO): Now I say that.\n\n"
        "Mark Rutte: And more.\n\n"
        "Moderator [BBC]: Thanks.\n"
    )
    rutte = transcript.speaker("mark-rutte")
    assert (rutte.role, rutte.affiliation) == ("Prime Minister", "Government of the Netherlands")
    assert transcript.speaker("moderator").affiliation == "CNN"
    # The speaker keeps the first affiliation; a turn labelled with another keeps its own, so
    # the two turns of Mark Rutte in a row are not merged into one.
    assert [(s.speaker_id, s.affiliation, s.text) for s in transcript.segments] == [
        ("moderator", None, "Welcome."),
        ("mark-rutte", None, "In 2023 I said this."),
        ("mark-rutte", "NATO", "Now I say that."),
        ("mark-rutte", None, "And more."),
        ("moderator", "BBC", "Thanks."),
    ]
    for style in ("headings", "labels"):
        exported = to_plain_text(transcript, style)
        assert "Mark Rutte (Prime Minister, NATO)" in exported and "Moderator [BBC]" in exported
        assert parse(exported) == transcript


def test_labels_that_repeat_the_speakers_affiliation_leave_turns_unmarked() -> None:
    transcript = parse(
        "Question [Reuters]: Why?\n\nMark Rutte (Prime Minister, NATO): Because.\n\n"
        "Mark Rutte (Prime Minister, NATO): And so.\n\nQuestion [Reuters]: When?\n"
    )
    assert [(s.speaker_id, s.affiliation) for s in transcript.segments] == [
        ("question--reuters", None),
        ("mark-rutte", None),
        ("question--reuters", None),
    ]
