"""Reading speaker labels and splitting titles from names."""

from __future__ import annotations

import pytest
from transcript.domain.labels import colon_label, parse_label, split_title_name


@pytest.mark.parametrize(
    ("label", "kind", "name", "title", "affiliation", "moderator", "explicit"),
    [
        (
            "NATO Secretary General Mark Rutte",
            "person",
            "Mark Rutte",
            "NATO Secretary General",
            None,
            False,
            True,
        ),
        (
            "Christiane Amanpour (Moderator)",
            "person",
            "Christiane Amanpour",
            None,
            None,
            True,
            True,
        ),
        ("Anna Berg [Anchor, Moderator]", "person", "Anna Berg", "Anchor", None, True, True),
        ("Anna Berg [Anchor, CNN]", "person", "Anna Berg", "Anchor", "CNN", False, True),
        (
            "Secretary General, Mark Rutte",
            "person",
            "Mark Rutte",
            "Secretary General",
            None,
            False,
            True,
        ),
        (
            "Secrétaire général de l’OTAN Mark Rutte",
            "person",
            "Mark Rutte",
            "Secrétaire général de l’OTAN",
            None,
            False,
            True,
        ),
        (
            "Présidente de la Commission Ursula von der Leyen",
            "person",
            "Ursula von der Leyen",
            "Présidente de la Commission",
            None,
            False,
            True,
        ),
        ("MARK RUTTE", "person", "Mark Rutte", None, None, False, False),
        ("Anne Marie Smith", "person", "Anne Marie Smith", None, None, False, False),
        ("Rutte", "person", "Rutte", None, None, False, False),
        ("Question [Reuters]", "question", None, None, "Reuters", False, True),
        ("Modératrice", "moderator", None, None, None, True, False),
        ("Secretary General", "title", None, "Secretary General", None, False, False),
    ],
)
def test_labels(
    label: str,
    kind: str,
    name: str | None,
    title: str | None,
    affiliation: str | None,
    moderator: bool,
    explicit: bool,
) -> None:
    ref = parse_label(label)
    assert ref is not None
    assert (ref.kind, ref.name, ref.title, ref.affiliation, ref.is_moderator) == (
        kind,
        name,
        title,
        affiliation,
        moderator,
    )
    assert ref.explicit == explicit or kind == "moderator"


@pytest.mark.parametrize(
    "label",
    ["And that's what he said", "It is testing him", "10", "https", "Level one", "x" * 101, ""],
)
def test_speech_is_not_a_label(label: str) -> None:
    assert parse_label(label) is None


def test_split_keeps_particles_and_initials_with_the_name() -> None:
    assert split_title_name(["General", "John", "F.", "Kennedy"]) == (
        ["General"],
        ["John", "F.", "Kennedy"],
    )
    assert split_title_name(["President", "Zelenskyy"]) == (["President"], ["Zelenskyy"])


@pytest.mark.parametrize(
    ("label", "explicit"),
    [
        ("Mark Rutte", True),
        ("Ursula von der Leyen", True),
        ("MARK RUTTE", True),
        ("Rutte", False),
        ("Step One", False),
        ("Breaking News", False),
        ("Good Morning Brussels", False),
    ],
)
def test_a_full_name_before_a_colon_is_explicit(label: str, explicit: bool) -> None:
    ref = colon_label(label)
    assert ref is not None and ref.explicit == explicit
    assert parse_label(label) is not None and not parse_label(label).explicit  # type: ignore[union-attr]
