"""params.yaml and profiles: every file validates, typos fail naming key and line, profiles share keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shoplm.config import ParamsError, load_params, load_section
from shoplm.profiles import available, use_profile

REPO = Path(__file__).resolve().parents[1]
PARAM_FILES = [REPO / "params.yaml", *sorted((REPO / "profiles").glob("*.yaml"))]


def _keys(tree, prefix=""):
    """Key paths of a params tree; user-named maps (sets, adapters, mixtures, sources) count as leaves."""
    open_maps = {"eval_sets", "train.adapters", "dpo.adapters", "build.mixtures", "ingest.sources",
                 "evaluate.generation.max_new_tokens"}
    if not isinstance(tree, dict) or prefix.rstrip(".") in open_maps:
        return {prefix.rstrip(".")}
    return set().union(*(_keys(v, f"{prefix}{k}.") for k, v in tree.items()))


@pytest.mark.parametrize("path", PARAM_FILES, ids=lambda p: p.name)
def test_every_params_file_validates(path):
    load_params(path)


def test_profiles_differ_only_in_values():
    trees = {p.name: _keys(yaml.safe_load(p.read_text())) for p in PARAM_FILES}
    reference = trees.pop("params.yaml")
    for name, keys in trees.items():
        assert keys == reference, f"{name}: {sorted(keys ^ reference)}"


def _write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_unknown_key_fails_naming_key_and_line(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("    batch_size: 16", "    batch_sise: 16", 1)
    path = _write(tmp_path, text)
    line = text.splitlines().index("    batch_sise: 16") + 1
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert f"{path}:{line}: evaluate.generation.batch_sise: unknown key" in str(err.value)
    with pytest.raises(ParamsError, match="batch_sise: unknown key"):
        load_section("evaluate", path)


def test_mistyped_value_fails_naming_key(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("  allow_download: false", "  allow_download: maybe", 1)
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: base.allow_download: Input should be a valid boolean"):
        load_params(_write(tmp_path, text))


@pytest.mark.parametrize(("override", "key", "reason"), [
    ("        lerning_rate: 0.001", "lerning_rate", "unknown key"),
    ("        lora: {r: many}", "lora.r", "Input should be a valid integer"),
])
def test_bad_adapter_override_names_its_own_line(tmp_path, override, key, reason):
    """Not the line of `train:`: the line of the key inside the adapter's overrides block."""
    text = (REPO / "params.yaml").read_text().replace(
        "    v8: {mixture: v8, seed: 8}\n",
        f"    v8:\n      mixture: v8\n      seed: 8\n      overrides:\n        max_steps: 3\n{override}\n", 1)
    path = _write(tmp_path, text)
    line = text.splitlines().index(override) + 1
    for load in (load_params, lambda p: load_section("train", p)):
        with pytest.raises(ParamsError) as err:
            load(path)
        assert f"{path}:{line}: train.adapters.v8.overrides.{key}: " in str(err.value)
        assert f"adapter 'v8' overrides: {key}: {reason}" in str(err.value)


def test_tiny_spec_rejects_sizes_4bit_groups_do_not_divide(tmp_path):
    text = (REPO / "params.yaml").read_text().replace("    hidden_size: 256", "    hidden_size: 200", 1)
    with pytest.raises(ParamsError, match="base.tiny"):
        load_section("base", _write(tmp_path, text))


def test_unknown_section_and_missing_section(tmp_path):
    with pytest.raises(KeyError, match="unknown params section 'evaluation'"):
        load_section("evaluation", REPO / "params.yaml")
    with pytest.raises(ParamsError, match="section 'evaluate' is missing"):
        load_section("evaluate", _write(tmp_path, "base: {}\n"))


def test_use_profile_copies_a_valid_profile_and_refuses_an_invalid_one(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    good = (REPO / "profiles/kddcup-qwen2-72b.yaml").read_text()
    (profiles / "real.yaml").write_text(good)
    (profiles / "broken.yaml").write_text(good.replace("  tensor_parallel_size: 4", "  tensor_paralel_size: 4"))
    target = tmp_path / "params.yaml"
    assert use_profile(str(profiles / "real.yaml"), target=target) is True
    assert target.read_text() == good
    assert use_profile(str(profiles / "real.yaml"), target=target) is False  # unchanged: nothing written
    with pytest.raises(ParamsError, match="tensor_paralel_size: unknown key"):
        use_profile(str(profiles / "broken.yaml"), target=target)
    assert target.read_text() == good
    assert "kddcup-qwen2-72b" in available(REPO / "profiles")


def _broken(tmp_path, *replacements):
    text = (REPO / "params.yaml").read_text()
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    return _write(tmp_path, text), text.splitlines()


def _line(lines, fragment):
    return next(i for i, line in enumerate(lines, start=1) if fragment in line)


def test_registered_names_are_checked_when_params_load(tmp_path):
    path, lines = _broken(tmp_path, ("  backend: transformers", "  backend: transformer"),
                          ("    optimizer: adamw_torch", "    optimizer: adamw_troch"),
                          ("    lr_scheduler: cosine", "    lr_scheduler: cosin"),
                          ("      target_modules: all-linear", "      target_modules: all"),
                          ("esci-query-ranking: 30", "esci-query-rankng: 30"))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    expected = [
        (f"{path}:{_line(lines, 'esci-query-rankng')}: build.mixtures.v7.builders: unknown builder "
         "'esci-query-rankng'. Did you mean 'esci-query-ranking'"),
        (f"{path}:{_line(lines, 'backend: transformer')}: evaluate.backend: unknown inference backend "
         "'transformer'. Did you mean 'transformers'? Known: dummy, echo, hf, transformers"),
        (f"{path}:{_line(lines, 'adamw_troch')}: train.defaults.optimizer: unknown transformers optimizer "
         "'adamw_troch'. Did you mean 'adamw_torch'"),
        (f"{path}:{_line(lines, 'cosin')}: train.defaults.lr_scheduler: unknown transformers lr scheduler "
         "'cosin'. Did you mean 'cosine'"),
        f"{path}:{_line(lines, 'target_modules')}: train.defaults.lora.target_modules: 'all': use 'all-linear'",
    ]
    for words in expected:
        assert words in message
    with pytest.raises(ParamsError, match="evaluate.backend: unknown inference backend 'transformer'"):
        load_section("evaluate", path)  # the stage reads only its section, and fails the same way


def test_sections_must_agree_on_mixture_and_adapter_names(tmp_path):
    path, lines = _broken(tmp_path, ("    v8: {mixture: v8, seed: 8}", "    v8: {mixture: v10, seed: 8}"),
                          ("    v7: {mixture: v7, seed: 7}\n\nquantize", "    v9: {mixture: v7, seed: 7}\n\nquantize"))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert str(err.value).splitlines() == [
        f"{path}:{_line(lines, 'mixture: v10')}: train.adapters.v8.mixture: unknown build.mixtures entry 'v10'. "
        "Known: v7, v7b, v8, v9b",
        f"{path}:{_line(lines, 'v9: {mixture')}: dpo.adapters.v9: DPO continues the SFT adapter of the same "
        "name: unknown train.adapters entry 'v9'. Known: v7, v8",
    ]


def test_profile_check_validates_every_profile_and_fails_on_a_bad_one(tmp_path, monkeypatch, capsys):
    from shoplm.cli import main

    (tmp_path / "profiles").mkdir()
    good = (REPO / "params.yaml").read_text()
    (tmp_path / "profiles/good.yaml").write_text(good)
    (tmp_path / "profiles/bad.yaml").write_text(good.replace("  backend: transformers", "  backend: vllm", 1))
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == "good: valid\n"
    line = good.splitlines().index("  backend: transformers") + 1
    assert (f"profiles/bad.yaml:{line}: evaluate.backend: unknown inference backend 'vllm'. "
            "Known: dummy, echo, hf, transformers") in err
    assert "1 invalid profile(s)" in err and "Traceback" not in err
    assert main(["profile", "check", "good"]) == 0
