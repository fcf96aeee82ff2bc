"""Model references, aliases MLflow would refuse, and what the register_model stage reads (no server: the
registry against a real MLflow server is tests/cluster/test_mlflow_server.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shoplm.model_registry import ModelReferenceError, describe_scores, parse_reference, score_tags
from shoplm.params.file import load_section
from shoplm.params.loader import ParamsError

REPO = Path(__file__).resolve().parents[1]


def test_a_reference_is_name_at_alias_with_or_without_the_models_scheme():
    assert parse_reference("shoplm@champion") == ("shoplm", "champion")
    assert parse_reference("models:/shoplm-72b@candidate") == ("shoplm-72b", "candidate")
    for bad in ("shoplm", "shoplm@", "@champion", "shop lm@champion", "shoplm@latest", "shoplm@v3"):
        with pytest.raises(ModelReferenceError):
            parse_reference(bad)


def test_an_alias_mlflow_reserves_fails_when_params_load_naming_the_key(tmp_path):
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params["register_model"]["aliases"] = ["candidate", "latest"]
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(params))
    with pytest.raises(ParamsError, match=r"register_model.*aliases.*'latest'"):
        load_section("register_model", path)


def test_scores_become_tags_without_the_method_prefix_and_other_methods_are_left_out():
    metrics = {"before/track5": 0.2962, "rtn/after/track5": 0.372, "rtn/output_mb": 169.3, "rtn/source_mb": 516.5,
               "awq/after/track5": 0.35}
    tags = score_tags(metrics, "rtn")
    assert tags == {"before/track5": "0.2962", "after/track5": "0.372", "output_mb": "169.3", "source_mb": "516.5"}
    assert describe_scores(metrics, "rtn") == "Track 5 0.2962 before, 0.3720 after rtn; 516.5 MB → 169.3 MB"


def test_the_stage_without_a_quantized_model_says_which_stage_to_run(tmp_path, monkeypatch, capsys):
    from tasks._runner import run
    from tasks.register_model import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["python -m tasks.register_model"])
    (tmp_path / "params.yaml").write_text((REPO / "params.yaml").read_text())
    with pytest.raises(SystemExit) as exit_info:
        run(main)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: models/quantized/") and "dvc repro quantize" in err and "\n" not in err
