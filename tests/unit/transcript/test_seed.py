"""The seed page: a real panel transcript inside the portal's page furniture."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transcript.domain.export import to_json_dict
from transcript.domain.model import Transcript
from transcript.domain.parser import parse

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def seed() -> Transcript:
    return parse((DATA / "seed_panel_transcript.txt").read_text(encoding="utf-8"))


def test_seed_matches_the_reviewed_golden_json(seed: Transcript) -> None:
    expected = json.loads((DATA / "seed_panel_transcript.expected.json").read_text("utf-8"))
    assert to_json_dict(seed) == expected


def test_seed_has_twelve_turns_alternating_moderator_and_secretary_general(
    seed: Transcript,
) -> None:
    speaker_ids = [s.speaker_id for s in seed.segments]
    assert speaker_ids == ["christiane-amanpour", "mark-rutte"] * 6


def test_seed_speakers_carry_roles_from_headings_and_roster(seed: Transcript) -> None:
    amanpour, rutte = seed.speaker("christiane-amanpour"), seed.speaker("mark-rutte")
    assert (amanpour.is_moderator, amanpour.affiliation) == (True, "Cable News Network")
    assert (rutte.name, rutte.role) == ("Mark Rutte", "NATO Secretary General")
    silent = {s.id: s.role for s in seed.speakers if not s.speaks}
    assert silent == {
        "volodymyr-zelenskyy": "President of Ukraine",
        "roberta-metsola": "President of the European Parliament",
        "roger-wicker": "US Senator and Chairman of the Senate Committee on Armed Services",
    }


def test_seed_page_furniture_is_not_transcript(seed: Transcript) -> None:
    text = "\n".join(s.text for s in seed.segments)
    for furniture in ("verification code", "Reset password", "Speakers included", "Register"):
        assert furniture not in text


def test_seed_paragraphs_stay_apart_and_the_heading_without_blank_line_is_read(
    seed: Transcript,
) -> None:
    first_answer = seed.segments[1].text.split("\n\n")
    assert len(first_answer) == 4
    assert first_answer[0].startswith("Can I, before I answer the question")
    assert seed.segments[9].text.startswith("Here's the thing.")


def test_seed_repeated_gives_the_same_turns_again(seed: Transcript) -> None:
    source = (DATA / "seed_panel_transcript.txt").read_text(encoding="utf-8")
    repeated = parse(source + "\n\n" + source)
    assert len(repeated.segments) == 24
    assert [s.text for s in repeated.segments[12:]] == [s.text for s in seed.segments]
