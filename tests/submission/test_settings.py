"""The package section, the pinned requirements and the vendored code: mistakes named, nothing extra shipped."""

from __future__ import annotations

import pytest

from shoplm.params.file import load_section
from shoplm.params.loader import ParamsError
from shoplm.submission.requirements import MissingPinError, pinned_requirements
from shoplm.submission.vendor import import_closure
from tests.submission.conftest import REPO

PARAMS = (REPO / "params.yaml").read_text()


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    track5: {", "    track6: {", r"package.tracks.track6.*unknown submission track 'track6'. Did you mean"),
    ("{model: models/quantized/search-ensemble", "{model: /tmp/elsewhere",
     r"package.tracks.track5.model: '/tmp/elsewhere': name a folder under models/"),
    ("  batch_size: 16                 #", "  batch_size: 17                 #",
     r"package.batch_size: Input should be less than or equal to 16"),
    ("  check_batch_sizes: [1, 7, 16]", "  check_batch_sizes: [1, 32]", r"package.check_batch_sizes: batch sizes must be 1 to 16"),
])
def test_a_package_mistake_names_the_line_and_key(tmp_path, old, new, message):
    assert old in PARAMS
    params = tmp_path / "params.yaml"
    params.write_text(PARAMS.replace(old, new, 1))
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: " + message):
        load_section("package", params)


def test_requirements_are_pinned_and_a_missing_build_names_its_key():
    lines = pinned_requirements("transformers", adapter=True, quantized=False, pins={"torch": "2.4.0"})
    assert "torch==2.4.0" in lines and any(line.startswith("peft==") for line in lines)
    assert not any(line.startswith("compressed-tensors") for line in lines)

    with pytest.raises(MissingPinError, match="package.pins.vllm: the package needs vllm but it is not installed"):
        pinned_requirements("vllm", adapter=False, quantized=False, pins={},
                            installed=lambda name: None if name == "vllm" else "1.0")


def test_the_vendored_code_is_the_predictor_and_the_backends_only():
    modules = import_closure()
    assert {"shoplm.submission.predictor", "shoplm.evaluation", "shoplm.inference.transformers_backend",
            "shoplm.shopbench.tasktype", "shoplm.shopbench.prompts"} <= modules
    assert not modules & {"shoplm.config", "shoplm.tracking", "shoplm.submission.writer", "shoplm.shopbench.scoring"}
