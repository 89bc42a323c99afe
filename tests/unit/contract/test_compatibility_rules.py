"""What counts as a breaking change inside one version of an event type."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from portal_shared.contract import breaking_changes, event_schema
from portal_shared.events.base import Event
from pydantic import BaseModel, create_model


class Place(BaseModel):
    city: str


class _TestEvent(Event):
    producer: ClassVar[str] = "test"


class Baseline(_TestEvent):
    user_id: str
    count: int
    kind: Literal["a", "b"]
    note: str | None
    place: Place


def variant(**fields: object) -> type[Event]:
    """A model like Baseline with some fields replaced (None removes one)."""
    annotations = {name: f.annotation for name, f in Baseline.model_fields.items()}
    for name, annotation in fields.items():
        if annotation is None:
            annotations.pop(name)
        else:
            annotations[name] = annotation
    definitions: dict[str, Any] = {name: (a, ...) for name, a in annotations.items()}
    return create_model("Baseline", __base__=_TestEvent, **definitions)


def changes(model: type[Event]) -> list[str]:
    return breaking_changes(event_schema(Baseline), event_schema(model))


def test_the_same_model_has_no_breaking_change() -> None:
    assert changes(variant()) == []


def test_an_added_field_with_a_default_is_compatible() -> None:
    class Added(Baseline):
        extra: bool = False  # events from older producers lack it: not required

    assert "extra" not in event_schema(Added)["required"]
    assert breaking_changes(event_schema(Baseline), event_schema(Added)) == []


def test_a_removed_or_renamed_field_is_breaking() -> None:
    assert changes(variant(count=None)) == ["data.count: field removed (or renamed)"]
    renamed = changes(variant(count=None, total=int))
    assert "data.count: field removed (or renamed)" in renamed
    assert "data.total: new required field" in renamed


def test_a_changed_type_is_breaking() -> None:
    assert changes(variant(count=str))[0].startswith("data.count: type changed")
    assert changes(variant(note=str))[0].startswith("data.note: type changed")  # no null now
    assert changes(variant(kind=Literal["a"]))[0].startswith("data.kind: type changed")


def test_a_new_required_field_is_breaking() -> None:
    assert changes(variant(language=str)) == ["data.language: new required field"]


def test_a_changed_nested_field_is_breaking() -> None:
    other_place = create_model("Place", city=(int, ...))
    problems = changes(variant(place=other_place))
    assert any(p.startswith("Place.city: type changed") for p in problems), problems


def test_words_around_a_field_may_change() -> None:
    old = event_schema(Baseline)
    new = event_schema(Baseline)
    new["properties"]["count"]["description"] = "how many"
    new["properties"]["count"]["x-portal-note"] = "annotation"
    assert breaking_changes(old, new) == []
