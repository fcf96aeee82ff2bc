"""The one registry type every enumerated variant uses."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from shoplm.errors import UserError
from shoplm.registry import Registry, UnknownNameError


def make() -> Registry[int]:
    reg: Registry[int] = Registry("colour")
    reg.add("red", 1, doc="warm")
    reg.register("green", "verde")(2)
    return reg


def test_unknown_name_lists_known_names_with_a_hint():
    with pytest.raises(UnknownNameError) as info:
        make().get("gren")
    message = str(info.value)
    assert message == "unknown colour 'gren'. Did you mean 'green'? Known: green, red, verde"
    assert isinstance(info.value, LookupError) and isinstance(info.value, UserError)


def test_aliases_resolve_and_describe_lists_docs():
    reg = make()
    assert reg.get("verde") == reg.get("green") == 2
    assert reg.describe() == {"green": "", "red": "warm", "verde": ""}
    assert "red" in reg and "blue" not in reg and len(reg) == 3
    assert list(reg) == ["red", "green", "verde"]  # registration order, as the author listed them


def test_registering_a_taken_name_with_another_item_fails():
    reg = make()
    with pytest.raises(ValueError, match="colour 'red' is registered twice"):
        reg.add("red", 5)
    reg.add("red", 1)  # the same item again is harmless (a module imported twice)
    reg.remove("red")  # a test's scratch entry goes away, and its name is free again
    assert reg.names() == ["green", "verde"] and reg.values() == [2, 2]
    reg.add("red", 5)


def test_loader_runs_once_on_first_read():
    calls = []
    reg: Registry[int] = Registry("lazy", loader=lambda: (calls.append(1), reg.add("x", 1)))
    assert calls == []
    assert reg.names() == ["x"] and reg.get("x") == 1
    assert calls == [1]


def test_validated_field_fails_like_a_pydantic_error():
    reg = make()

    class Section(BaseModel):
        colour: reg.validated() = "red"

    assert Section(colour="green").colour == "green"
    with pytest.raises(ValidationError, match="Did you mean 'green'"):
        Section(colour="gren")


def test_describe_uses_the_first_docstring_line_of_registered_functions():
    reg: Registry = Registry("step")

    @reg.register("shout")
    def shout(text: str) -> str:
        """Upper-case the text.

        More words that --help does not need."""
        return text.upper()

    assert reg.describe() == {"shout": "Upper-case the text."}
    assert reg.help() == "  shout  Upper-case the text."


def test_a_lazy_name_list_answers_checks_without_loading_and_catches_drift() -> None:
    loads: list[str] = []

    def load() -> None:
        loads.append("loaded")
        lazy.add("fast", 1)
        lazy.add("slow", 2)

    lazy: Registry[int] = Registry("engine", loader=load, names=["fast", "slow"])
    assert lazy.check("slow") == "slow" and "fast" in lazy and lazy.names() == ["fast", "slow"]
    with pytest.raises(UnknownNameError, match="Did you mean 'slow'"):
        lazy.check("slwo")
    assert loads == []  # names came from the list
    assert lazy.get("fast") == 1 and loads == ["loaded"]

    forgetful: Registry[int] = Registry("engine", loader=lambda: forgetful.add("fast", 1), names=["fast", "slow"])
    with pytest.raises(ValueError, match="listed but never registered: slow"):
        forgetful.get("fast")
