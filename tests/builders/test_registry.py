"""The builder registry: complete on import, typos answered with suggestions, no silent overwrites."""

from __future__ import annotations

import pytest

from shoplm.builders import BUILDERS, get_builder, register
from shoplm.registry import UnknownNameError
from shoplm.shopbench.records import TRACKS


@pytest.fixture
def scratch_names():
    added: list[str] = []
    yield added
    for name in added:
        BUILDERS.remove(name)


def test_every_esci_row_without_llm_is_registered() -> None:
    rows = {spec.table7_row: name for name, spec in BUILDERS.items() if name.startswith("esci-") and spec.build}
    assert {5, 8, 27, 29, 30, 32, 33, 34, 35} <= set(rows)


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError) as info:
        get_builder("esci-query-rankng")
    message = str(info.value)
    assert "unknown builder 'esci-query-rankng'. Did you mean 'esci-query-ranking'" in message
    assert "Known:" in message


def test_unknown_name_without_close_match_lists_known() -> None:
    with pytest.raises(UnknownNameError, match="Known: .*esci-brand-mc"):
        get_builder("zzzz")


def test_duplicate_registration_is_refused(scratch_names: list[str]) -> None:
    def build(ctx):
        yield from ()

    options = dict(table7_row=0, frames=("esci",), task_type="multiple-choice", metric="accuracy",
                   track=TRACKS[0], description="test double")
    register("test-duplicate", **options)(build)
    scratch_names.append("test-duplicate")
    with pytest.raises(ValueError, match="registered twice"):
        register("test-duplicate", **options)(build)
    with pytest.raises(ValueError, match="registered twice"):
        register("esci-brand-mc", **options)(build)


def test_bad_task_type_or_metric_is_refused(scratch_names: list[str]) -> None:
    scratch_names += ["test-bad-type", "test-bad-metric"]
    with pytest.raises(ValueError, match="builder 'test-bad-type': unknown task type 'essay'"):
        register("test-bad-type", table7_row=0, frames=(), task_type="essay", metric="accuracy",
                 track=TRACKS[0], description="")(lambda ctx: iter(()))
    with pytest.raises(ValueError, match="builder 'test-bad-metric': unknown metric 'mrr'"):
        register("test-bad-metric", table7_row=0, frames=(), task_type="ranking", metric="mrr",
                 track=TRACKS[0], description="")(lambda ctx: iter(()))
