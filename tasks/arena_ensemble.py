"""Stage ``arena_ensemble``: blend the classifiers, calibrate, clip, write ``submission.csv``.

    python -m tasks.arena_ensemble [--params arena/params.yaml]

Reads each member's swap-TTA predictions (stages ``arena_minilm``, ``arena_decoder``). The blend weights and the
calibrator are fitted on the validation fold; the validation log loss reported for each is
cross-fitted (fitted on the other groups of validation prompts, scored on the held-out ones), so it is
not the loss they were fitted to. A calibrator is kept only if it lowers that loss. Writes
``reports/arena/submission.csv`` (Kaggle's columns, one row per test id), ``reports/arena/ensemble/``
(weights, probabilities, reliability.png) and ``reports/arena/metrics.json``, the summary of every run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from arena.folds import grouped_folds
from arena.metrics import scores
from arena.outputs import read_probabilities, reliability_diagram, write_probabilities, write_submission
from arena.postprocess import CALIBRATORS, blend, clip, cross_fitted, fit_ensemble_weights
from arena.runs import OUT_DIR, arena_run, load_split, log_scores, write_metrics
from arena.settings import ARENA_PARAMS, load_arena_section
from shoplm.params.loader import ParamsError
from tasks._runner import run


def _cross_fitted_blend(members: list[np.ndarray], labels: np.ndarray, folds: np.ndarray) -> np.ndarray:
    out = np.zeros_like(members[0])
    for fold in np.unique(folds):
        held = folds == fold
        weights = fit_ensemble_weights([m[~held] for m in members], labels[~held])
        out[held] = blend([m[held] for m in members], weights)
    return out


def _summary(ensemble: dict, calibrated: dict) -> dict:
    """Every arena run's validation figures, read from the earlier stages' metrics files."""
    rows = {name: m for name, m in json.loads((OUT_DIR / "baselines" / "metrics.json").read_text()).items()}
    for folder in sorted((OUT_DIR / "classifiers").glob("*/metrics.json")):
        metrics = json.loads(folder.read_text())
        rows[folder.parent.name], rows[f"{folder.parent.name}+tta"] = metrics["plain"], metrics["tta"]
    return {**rows, "ensemble": ensemble, "ensemble+calibrated": calibrated}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.arena_ensemble", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="calibrators:\n" + CALIBRATORS.help())
    parser.add_argument("--params", type=Path, default=ARENA_PARAMS)
    args = parser.parse_args(argv)
    data = load_arena_section("data", args.params)
    section = load_arena_section("ensemble", args.params)
    known = load_arena_section("classifiers", args.params).models
    if unknown := [m for m in section.members if m not in known]:
        raise ParamsError(f"{args.params}: ensemble.members: not in classifiers.models: {', '.join(unknown)}")
    split = load_split(data)
    labels = split.valid_labels
    folder = OUT_DIR / "classifiers"
    valid = [read_probabilities(folder / m / "valid_tta.csv", split.valid["id"]) for m in section.members]
    test = [read_probabilities(folder / m / "test_tta.csv", split.test["id"]) for m in section.members]
    folds = grouped_folds(split.valid, section.calibration_folds, data.seed)
    out = OUT_DIR / "ensemble"
    params = {**section.model_dump(), **data.model_dump()}

    with arena_run("ensemble", params):
        import mlflow

        weights = fit_ensemble_weights(valid, labels)
        mlflow.log_params({f"weight.{m}": f"{w:.4f}" for m, w in zip(section.members, weights)})
        blended = _cross_fitted_blend(valid, labels, folds)
        ensemble = log_scores(labels, clip(blended, section.clip_eps))
    with arena_run("ensemble+calibrated", params):
        candidates = {name: clip(cross_fitted(name, blended, labels, folds), section.clip_eps)
                      for name in ["none", *section.calibrations]}
        losses = {name: scores(labels, probs)["log_loss"] for name, probs in candidates.items()}
        chosen = min(losses, key=lambda name: (losses[name], name != "none"))  # "none" wins a tie
        calibrator = CALIBRATORS.get(chosen)().fit(blend(valid, weights), labels)
        mlflow.log_metrics({f"cross_fitted_log_loss.{n}": v for n, v in losses.items()})
        mlflow.log_params({"calibration": chosen, **{f"calibration.{k}": v for k, v in calibrator.params().items()}})
        calibrated = log_scores(labels, candidates[chosen])
        submission = clip(calibrator.transform(blend(test, weights)), section.clip_eps)
        write_submission(OUT_DIR / "submission.csv", split.test, submission)
        write_probabilities(out / "valid.csv", split.valid["id"], candidates[chosen])
        plot = reliability_diagram(labels, {"ensemble": clip(blended, section.clip_eps),
                                            f"calibrated ({chosen})": candidates[chosen]},
                                   out / "reliability.png")
        mlflow.log_artifact(str(plot))
        mlflow.log_artifact(str(OUT_DIR / "submission.csv"))

    details = {"weights": dict(zip(section.members, weights.round(4).tolist())), "calibration": chosen,
               "calibration_params": calibrator.params(), "cross_fitted_log_loss": losses}
    write_metrics(out / "metrics.json", {**details, "ensemble": ensemble, "calibrated": calibrated})
    summary = _summary(ensemble, calibrated)
    write_metrics(OUT_DIR / "metrics.json", summary)
    print(f"{'run':<24} {'val log loss':>12} {'accuracy':>9}")
    for name, row in summary.items():
        print(f"{name:<24} {row['valid_log_loss']:>12.4f} {row['valid_accuracy']:>9.3f}")
    print(f"weights {details['weights']}; calibration: {chosen} {calibrator.params()}")
    print(f"submission: {OUT_DIR / 'submission.csv'} ({len(split.test)} rows)")
    return 0


if __name__ == "__main__":
    run(main)
