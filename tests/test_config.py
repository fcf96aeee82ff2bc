"""params.yaml and profiles: every file validates, typos fail naming file, key and line; profiles are
small override files over profiles/defaults.yaml, resolved into params.yaml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from shoplm.params.file import load_params, load_section
from shoplm.params.loader import ParamsError
from shoplm.params.profiles import available, check, params_header, read_layer, resolve, show, use_profile

REPO = Path(__file__).resolve().parents[1]
PROFILES = REPO / "profiles"


@pytest.mark.parametrize("path", [REPO / "params.yaml", PROFILES / "defaults.yaml"], ids=lambda p: p.name)
def test_whole_params_files_validate(path):
    load_params(path)


@pytest.mark.parametrize("name", available(PROFILES))
def test_every_profile_resolves_and_validates(name):
    check(name, profiles_dir=PROFILES)


def test_params_yaml_is_the_profile_its_header_names():
    text = (REPO / "params.yaml").read_text()
    name = re.match(r"# shoplm parameters, profile `([^`]+)`", text).group(1)
    resolved = resolve(name, profiles_dir=PROFILES)
    assert text == resolved.render(params_header(name, [s.replace(str(PROFILES), "profiles") for s in resolved.layers]))


def test_real_profile_holds_only_what_differs():
    own = read_layer(PROFILES / "kddcup-qwen2-72b.yaml")
    assert "tiny" not in own["base"]  # the tiny model's spec comes from the defaults
    resolved = resolve("kddcup-qwen2-72b", profiles_dir=PROFILES).data()
    assert resolved["base"]["tiny"]["hidden_size"] == 256  # still there, for the schema
    assert resolved["eval_sets"] == {"dev": "data/raw/shopbench/development.json"}  # !replace: no sample set
    assert list(resolved["train"]["adapters"]) == ["v7", "v8", "v7b", "v9b"]  # merged key by key
    assert resolved["dpo"]["adapters"] == {}
    assert resolved["ingest"]["sources"]["esci"] == {"path": "data/raw/esci", "on_error": "raise", "limit": None,
                                                     "options": {"split": "train"}}  # train split by default


@pytest.mark.parametrize("name", available(PROFILES))
def test_a_profile_sets_only_values_that_differ_from_the_defaults(name):
    defaults = resolve("defaults", profiles_dir=PROFILES)
    replaced = _replaced_paths(read_layer(PROFILES / f"{name}.yaml"))  # restated on purpose: the whole mapping
    repeated = [key for key, value, origin in resolve(name, profiles_dir=PROFILES).leaves()
                if origin is not None and origin.source.endswith(f"{name}.yaml")
                and not any(key == p or key.startswith(p + ".") for p in replaced)
                and any(k == key and v == value for k, v, _ in defaults.leaves())]
    assert not repeated, f"profiles/{name}.yaml repeats default values: {repeated}"


def _replaced_paths(node, path=""):
    """Dotted paths of the mappings a profile tags !replace."""
    found = []
    for key, value in (node.items() if isinstance(node, dict) else []):
        dotted = f"{path}.{key}" if path else str(key)
        if getattr(getattr(value, "tag", None), "value", None) == "!replace":
            found.append(dotted)
        found += _replaced_paths(value, dotted)
    return found


def _tiny_params() -> str:
    """The tiny profile as `shoplm profile use tiny` writes it (the tests below edit its text)."""
    resolved = resolve("tiny", profiles_dir=PROFILES)
    return resolved.render(params_header("tiny", [str(Path(s).relative_to(REPO)) for s in resolved.layers]))


@pytest.fixture
def profiles_dir(tmp_path):
    folder = tmp_path / "profiles"
    folder.mkdir()
    shutil.copy(PROFILES / "defaults.yaml", folder / "defaults.yaml")
    return folder


def test_override_error_names_the_profile_file_and_the_line_of_the_key(profiles_dir):
    (profiles_dir / "bad.yaml").write_text("# a typo deep in a section\nevaluate:\n  backend: transformers\n"
                                           "  generation:\n    batch_sise: 8\n")
    with pytest.raises(ParamsError) as err:
        check("bad", profiles_dir=profiles_dir)
    assert str(err.value) == f"{profiles_dir / 'bad.yaml'}:5: evaluate.generation.batch_sise: unknown key"


def test_replaced_mapping_error_names_the_entry_line(profiles_dir):
    (profiles_dir / "few.yaml").write_text("train:\n  adapters: !replace\n    v7: {mixture: v7, seed: 7}\n"
                                           "    v9: {seed: 9}\n")
    with pytest.raises(ParamsError, match=r"few.yaml:4: train.adapters.v9.mixture: Field required"):
        check("few", profiles_dir=profiles_dir)


def test_replace_tag_replaces_a_mapping_and_plain_mappings_merge(profiles_dir):
    (profiles_dir / "one.yaml").write_text("train:\n  adapters: !replace\n    v7: {mixture: v7, seed: 7}\n"
                                           "dpo:\n  adapters: !replace {}\n"
                                           "merge:\n  specs: !replace {}\nsearch:\n  grids: !replace {}\n"
                                           "quantize:\n  eval_set: null\n")
    (profiles_dir / "more.yaml").write_text("train:\n  adapters:\n    v9b: {mixture: v9b, seed: 29}\n")
    one = resolve("one", profiles_dir=profiles_dir).data()
    assert list(one["train"]["adapters"]) == ["v7"] and one["dpo"]["adapters"] == {}
    assert list(resolve("more", profiles_dir=profiles_dir).data()["train"]["adapters"]) == ["v7", "v8", "v9b"]
    check("one", profiles_dir=profiles_dir)


def test_an_added_last_entry_keeps_the_next_sections_title_below_it(profiles_dir):
    # defaults.yaml ends sweep.models with a flow mapping and an end-of-line comment, then learning_curve's title.
    (profiles_dir / "more.yaml").write_text("sweep:\n  models:\n    extra: {model: tiny}\n")
    lines = resolve("more", profiles_dir=profiles_dir).render("").splitlines()
    extra = lines.index("    extra: {model: tiny}")
    assert "# another init" in lines[extra - 1]
    next_title = next(line for line in lines if line.startswith("# Stage learning_curve@"))
    assert lines.count(next_title) == 1 and lines.index(next_title) == extra + 1


def test_show_prints_each_resolved_value_with_its_file_and_line(profiles_dir):
    (profiles_dir / "real.yaml").write_text("evaluate:\n  dtype: float16\n")
    lines = show("real", profiles_dir=profiles_dir).splitlines()
    dtype = next(line for line in lines if line.startswith("evaluate.dtype:"))
    assert dtype.split() == ["evaluate.dtype:", "float16", "#", f"{profiles_dir / 'real.yaml'}:2"]
    defaults_text = (profiles_dir / "defaults.yaml").read_text().splitlines()
    backend = next(line for line in lines if line.startswith("evaluate.backend:"))
    assert backend.endswith(f"defaults.yaml:{defaults_text.index('  backend: transformers') + 1}")


def test_use_profile_writes_params_and_refuses_an_invalid_profile(profiles_dir, tmp_path):
    (profiles_dir / "real.yaml").write_text("evaluate:\n  tensor_parallel_size: 4\n")
    (profiles_dir / "broken.yaml").write_text("evaluate:\n  tensor_paralel_size: 4\n")
    target = tmp_path / "params.yaml"
    assert use_profile("real", target=target, profiles_dir=profiles_dir) is True
    written = target.read_text()
    assert written.startswith("# shoplm parameters, profile `real`")
    assert "shoplm profile use NAME" in written  # how to switch
    assert load_params(target).evaluate.tensor_parallel_size == 4
    assert use_profile("real", target=target, profiles_dir=profiles_dir) is False  # unchanged: nothing written
    with pytest.raises(ParamsError, match=r"broken.yaml:2: evaluate.tensor_paralel_size: unknown key"):
        use_profile("broken", target=target, profiles_dir=profiles_dir)
    assert target.read_text() == written
    assert "kddcup-qwen2-72b" in available(PROFILES) and "defaults" not in available(PROFILES)


def _write(tmp_path, text):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    return path


def test_unknown_key_fails_naming_key_and_line(tmp_path):
    text = _tiny_params().replace("    batch_size: 16", "    batch_sise: 16", 1)
    path = _write(tmp_path, text)
    line = text.splitlines().index("    batch_sise: 16") + 1
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert f"{path}:{line}: evaluate.generation.batch_sise: unknown key" in str(err.value)
    with pytest.raises(ParamsError, match="batch_sise: unknown key"):
        load_section("evaluate", path)


def test_mistyped_value_fails_naming_key(tmp_path):
    text = _tiny_params().replace("  allow_download: false", "  allow_download: maybe", 1)
    with pytest.raises(ParamsError, match=r"params.yaml:\d+: base.allow_download: Input should be a valid boolean"):
        load_params(_write(tmp_path, text))


@pytest.mark.parametrize(("override", "key", "reason"), [
    ("        lerning_rate: 0.001", "lerning_rate", "unknown key"),
    ("        lora: {r: many}", "lora.r", "Input should be a valid integer"),
])
def test_bad_adapter_override_names_its_own_line(tmp_path, override, key, reason):
    """Not the line of `train:`: the line of the key inside the adapter's overrides block."""
    text = _tiny_params().replace(
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
    text = _tiny_params().replace("    hidden_size: 256", "    hidden_size: 200", 1)
    with pytest.raises(ParamsError, match="base.tiny"):
        load_section("base", _write(tmp_path, text))


def test_unknown_section_and_missing_section(tmp_path):
    with pytest.raises(KeyError, match="unknown params section 'evaluation'"):
        load_section("evaluation", REPO / "params.yaml")
    with pytest.raises(ParamsError, match="section 'evaluate' is missing"):
        load_section("evaluate", _write(tmp_path, "base: {}\n"))


def _broken(tmp_path, *replacements):
    text = _tiny_params()
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
        (f"{path}:{_line(lines, 'esci-query-rankng')}: build.mixtures.v7.builders.esci-query-rankng: unknown builder "
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
                          ("    v7: {mixture: v7, seed: 7}\n\n# Stage merge", "    v9: {mixture: v7, seed: 7}\n\n# Stage merge"))
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
    shutil.copy(PROFILES / "defaults.yaml", tmp_path / "profiles/defaults.yaml")
    (tmp_path / "profiles/good.yaml").write_text("# the defaults as they are\n")
    (tmp_path / "profiles/bad.yaml").write_text("# a backend nobody registered\nevaluate:\n  backend: tgi\n")
    monkeypatch.chdir(tmp_path)
    assert main(["profile", "check"]) == 2
    out, err = capsys.readouterr()
    assert out == "good: valid\n"
    assert ("profiles/bad.yaml:3: evaluate.backend: unknown inference backend 'tgi'. "
            "Known: dummy, echo, hf, transformers, vllm") in err
    assert "1 invalid profile(s)" in err and "Traceback" not in err
    assert main(["profile", "check", "good"]) == 0


def test_merges_may_only_name_trained_adapters(tmp_path):
    tiny = resolve("tiny", profiles_dir=PROFILES).data()
    tiny["merge"]["specs"]["ensemble"]["adapters"] = {"v7": 0.5, "v9": 0.5}
    tiny["search"]["grids"]["ensemble"]["adapters"] = {"v7-dpo": [1.0]}
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(tiny, sort_keys=False))
    lines = path.read_text().splitlines()
    with pytest.raises(ParamsError) as err:
        load_params(path)
    message = str(err.value)
    assert (f"{path}:{_line(lines, 'v9: 0.5')}: merge.specs.ensemble.adapters.v9: unknown trained adapter 'v9'. "
            "Known: v7, v7-dpo, v8") in message
    assert "search.grids.ensemble" not in message  # v7-dpo exists: the defaults run DPO on v7


def test_quantize_may_only_score_on_a_search_that_exists(tmp_path):
    path, lines = _broken(tmp_path, ("  eval_set: search:ensemble", "  eval_set: search:ensembel"))
    with pytest.raises(ParamsError) as err:
        load_params(path)
    assert (f"{path}:{_line(lines, 'search:ensembel')}: quantize.eval_set: unknown search.grids entry 'ensembel'. "
            "Did you mean 'ensemble'") in str(err.value)


def _heldout_params(tmp_path, change) -> Path:
    """The smol-heldout profile as plain data, edited by ``change``, written to a params file."""
    data = resolve("smol-heldout", profiles_dir=PROFILES).data()
    change(data)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return path


def test_a_profile_extends_another_and_a_cycle_is_refused(tmp_path):
    resolved = resolve("smol-heldout", profiles_dir=PROFILES)
    assert [Path(p).name for p in resolved.layers] == ["defaults.yaml", "smol.yaml", "smol-heldout.yaml"]
    smol = resolve("smol", profiles_dir=PROFILES).data()
    heldout = resolved.data()
    assert "extends" not in heldout
    # smol, plus the held-out slices, the sets that name them and the search and curve that use them: nothing else.
    assert heldout["build"]["mixtures"]["v7"].pop("heldout") == {"validation": 250, "test": 250}
    assert heldout.pop("heldout_sets") == {"v7-validation": {"mixture": "v7", "slice": "validation"},
                                           "v7-test": {"mixture": "v7", "slice": "test"}}
    assert smol.pop("heldout_sets") == {}
    for key, value in (("validation_set", "v7-validation"), ("test_set", "v7-test")):
        assert heldout["search"].pop(key) == value
        smol["search"].pop(key)
    assert heldout["learning_curve"].pop("sets") == ["v7-validation", "sample"]
    smol["learning_curve"].pop("sets")
    assert heldout == smol
    folder = tmp_path / "profiles"
    folder.mkdir()
    shutil.copy(PROFILES / "defaults.yaml", folder / "defaults.yaml")
    (folder / "a.yaml").write_text("extends: b\n")
    (folder / "b.yaml").write_text("extends: a\n")
    with pytest.raises(ParamsError, match="`extends` makes a cycle"):
        resolve("a", profiles_dir=folder)


def test_heldout_sets_name_a_slice_of_a_built_mixture_once(tmp_path):
    def change(data):
        data["heldout_sets"].update({"sample": {"mixture": "v7", "slice": "validation"},
                                     "other": {"mixture": "v8", "slice": "x"},
                                     "typo": {"mixture": "v7", "slice": "tset"}})
    with pytest.raises(ParamsError) as err:
        load_params(_heldout_params(tmp_path, change))
    message = str(err.value)
    assert "heldout_sets.sample: 'sample' is an eval_sets name too" in message
    assert "heldout_sets.sample: the same questions as heldout_sets.v7-validation (v7/validation)" in message
    assert "heldout_sets.other.mixture: unknown build.mixtures entry 'v8'. Known: v7" in message
    assert ("heldout_sets.typo.slice: unknown held-out slice of build.mixtures.v7.heldout 'tset'. "
            "Did you mean 'test'") in message


def test_a_search_on_a_heldout_set_uses_adapters_of_that_mixture_only(tmp_path):
    def change(data):
        data["build"]["mixtures"]["v8"] = {"seed": 8, "builders": {"mmlu-mc": 5}}
        data["train"]["adapters"]["v8"] = {"mixture": "v8", "seed": 8}
        data["search"]["grids"]["ensemble"]["adapters"]["v8"] = [0.5]
    with pytest.raises(ParamsError) as err:
        load_params(_heldout_params(tmp_path, change))
    message = str(err.value)
    assert ("search.grids.ensemble.adapters.v8: trains on mixture v8, whose rows are not kept apart from "
            "search.validation_set (v7-validation, held out of mixture v7)") in message
    assert "search.test_set (v7-test" in message

    def unknown(data):
        data["search"]["test_set"] = "v7-tset"
    with pytest.raises(ParamsError, match="search.test_set: unknown eval_sets entry 'v7-tset'"):
        load_params(_heldout_params(tmp_path, unknown))


def test_heldout_slices_need_names_and_sizes(tmp_path):
    def change(data):
        data["build"]["mixtures"]["v7"]["heldout"] = {"valid ation": 10, "test": 0}
    with pytest.raises(ParamsError) as err:
        load_params(_heldout_params(tmp_path, change))
    message = str(err.value)
    assert "build.mixtures.v7.heldout.valid ation: slice name 'valid ation'" in message
    assert "build.mixtures.v7.heldout.test: slice 'test': questions must be an integer >= 1, got 0" in message
