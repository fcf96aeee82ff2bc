"""Stage ``arena_ensemble``: choose among every trained model, calibrate, clip, write ``submission.csv``.

    python -m tasks.arena_ensemble [--params arena/params.yaml]

The candidates are every model the DAG trained (the baselines' predictions, the classifiers' swap-TTA
ones; or the names in ``ensemble.members``), each alone and all of them blended with stacking weights
fitted on their out-of-fold validation predictions (arena/stacking.py: cross-fitted, and the blend is
kept only when it beats the best single member by more than one standard error). A calibrator is kept
only if it lowers the cross-fitted validation log loss. Every figure carries a 95% interval (bootstrap
over validation battles, seeded; paired for differences). The stage fails (exit 2, one line naming
both) when the submission is worse than the best trained model by more than that interval.

Writes ``reports/arena/submission.csv`` (Kaggle's columns, one row per test id), ``reports/arena/report.md``
(the table it prints), ``reports/arena/ensemble/`` (choice, weights, probabilities, reliability.png) and
``reports/arena/metrics.json``, the summary of every run.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from arena.evidence import interval, paired_difference
from arena.folds import grouped_folds, prompt_groups
from arena.metrics import scores
from arena.outputs import read_probabilities, reliability_diagram, write_probabilities, write_submission
from arena.postprocess import CALIBRATORS, blend, clip, cross_fitted
from arena.report import Row, comparison_table, render
from arena.runs import OUT_DIR, arena_run, load_split, log_scores, write_metrics
from arena.settings import ARENA_PARAMS, load_arena_section
from arena.stacking import ENSEMBLE, check_not_worse, choose
from shoplm import tracking
from shoplm.params.loader import ParamsError
from tasks._runner import run


def _produced(baselines: dict, classifiers: dict) -> dict[str, tuple[str, str, str]]:
    """Run name → (member name in params, validation file, test file) of every model the DAG trained."""
    runs = {name: (name, f"baselines/{name}/valid.csv", f"baselines/{name}/test.csv") for name in baselines}
    for name in classifiers:
        runs[name] = (name, f"classifiers/{name}/valid_plain.csv", "")  # one pass: reported, not a member
        runs[f"{name}+tta"] = (name, f"classifiers/{name}/valid_tta.csv", f"classifiers/{name}/test_tta.csv")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.arena_ensemble", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="calibrators:\n" + CALIBRATORS.help())
    parser.add_argument("--params", type=Path, default=ARENA_PARAMS)
    args = parser.parse_args(argv)
    data = load_arena_section("data", args.params)
    section = load_arena_section("ensemble", args.params)
    produced = _produced(load_arena_section("baselines", args.params).models,
                         load_arena_section("classifiers", args.params).models)
    candidates = {run_name: files for run_name, files in produced.items() if files[2]}  # every trained model
    wanted = set(p[0] for p in candidates.values()) if section.members == "all" else set(section.members)
    if unknown := sorted(wanted - {p[0] for p in candidates.values()}):
        raise ParamsError(f"{args.params}: ensemble.members: not in baselines.models or classifiers.models: "
                          f"{', '.join(unknown)}")
    split = load_split(data)
    labels = split.valid_labels
    valid = {name: read_probabilities(OUT_DIR / f[1], split.valid["id"]) for name, f in produced.items()}
    test = {name: read_probabilities(OUT_DIR / f[2], split.test["id"]) for name, f in candidates.items()}
    members = [name for name, f in candidates.items() if f[0] in wanted]
    folds = grouped_folds(split.valid, section.calibration_folds, data.seed)
    boot = {"n_resamples": section.bootstrap_resamples, "seed": section.bootstrap_seed}
    out = OUT_DIR / "ensemble"
    params = {**section.model_dump(), **data.model_dump()}

    with arena_run(ENSEMBLE, params):
        import mlflow

        choice = choose({m: valid[m] for m in members}, labels, folds, section.clip_eps, **boot)
        mlflow.log_params({tracking.metric_name(f"weight.{m}"): f"{w:.4f}" for m, w in choice.weights.items()})
        log_scores(labels, choice.ensemble_valid)
    with arena_run("submission", params):
        calibrated = {name: clip(cross_fitted(name, choice.valid, labels, folds), section.clip_eps)
                      for name in ["none", *section.calibrations]}
        losses = {name: scores(labels, probs)["log_loss"] for name, probs in calibrated.items()}
        chosen = min(losses, key=lambda name: (losses[name], name != "none"))  # "none" wins a tie
        picked = [valid[m] for m in members]
        base_valid, base_test = ((blend(picked, np.array(list(choice.weights.values()))),
                                  blend([test[m] for m in members], np.array(list(choice.weights.values()))))
                                 if choice.model == ENSEMBLE else (valid[choice.model], test[choice.model]))
        calibrator = CALIBRATORS.get(chosen)().fit(clip(base_valid, section.clip_eps), labels)
        mlflow.log_metrics({f"cross_fitted_log_loss.{n}": v for n, v in losses.items()})
        mlflow.log_params({"submitted": choice.model, "calibration": chosen,
                           **{f"calibration.{k}": v for k, v in calibrator.params().items()}})
        submitted_valid = calibrated[chosen]
        log_scores(labels, submitted_valid)
        submitted = choice.model + (f"+{chosen}" if chosen != "none" else "")

        shown = {**valid, ENSEMBLE: choice.ensemble_valid, "submission": submitted_valid}
        rows = {name: Row(name if name != "submission" else f"submission ({submitted})",
                          interval(labels, probs, **boot), interval(labels, probs, "accuracy", **boot))
                for name, probs in shown.items()}
        best = min(candidates, key=lambda name: rows[name].log_loss.point)  # every trained model, not only members
        compared = [(f"best trained model: {best}", rows[best].log_loss,
                     paired_difference(labels, submitted_valid, valid[best], **boot))]
        if "prior" in valid:
            compared.append(("prior", rows["prior"].log_loss,
                             paired_difference(labels, submitted_valid, valid["prior"], **boot)))
        n_prompts = len(set(prompt_groups(split.valid)))
        header = (f"Validation fold: {len(labels)} battles on {n_prompts} prompts (grouped by prompt). 95% CIs: "
                  f"bootstrap over validation battles, {boot['n_resamples']} resamples, seed {boot['seed']}; "
                  "differences paired. Members: swap-TTA predictions of the classifiers, the baselines as "
                  "trained; `ensemble`: their blend, cross-fitted.")
        why = (f"Submitted: **{submitted}**. Why: {choice.reason}. Calibration: "
               + (f"{chosen} {({k: round(v, 4) for k, v in calibrator.params().items()})} kept, cross-fitted log loss {losses[chosen]:.4f} against "
                  f"{losses['none']:.4f} without." if chosen != "none" else
                  f"none; no candidate ({', '.join(section.calibrations) or '-'}) lowered the cross-fitted log "
                  f"loss below {losses['none']:.4f}."))
        text = render(header, list(rows.values()), why,
                      comparison_table((submitted, rows["submission"].log_loss), compared))
        (OUT_DIR / "report.md").parent.mkdir(parents=True, exist_ok=True)
        (OUT_DIR / "report.md").write_text(text, encoding="utf-8")
        write_metrics(OUT_DIR / "metrics.json", {name: row.metrics() for name, row in rows.items()})
        details = {"submitted": submitted, "model": choice.model, "reason": choice.reason,
                   "best_trained_model": best, "weights": choice.weights, "calibration": chosen,
                   "calibration_params": calibrator.params(), "candidate_log_loss": choice.losses,
                   "cross_fitted_log_loss": losses}
        write_metrics(out / "metrics.json", details)
        write_probabilities(out / "valid.csv", split.valid["id"], submitted_valid)
        print(text)
        (OUT_DIR / "submission.csv").unlink(missing_ok=True)  # never leave an earlier one behind a failure
        check_not_worse(labels, submitted_valid, valid[best], submitted, best, **boot)

        submission = clip(calibrator.transform(clip(base_test, section.clip_eps)), section.clip_eps)
        write_submission(OUT_DIR / "submission.csv", split.test, submission)
        plot = reliability_diagram(labels, {ENSEMBLE: choice.ensemble_valid, f"submission ({submitted})":
                                            submitted_valid}, out / "reliability.png")
        mlflow.log_artifact(str(plot))
        mlflow.log_artifact(str(OUT_DIR / "report.md"))
        mlflow.log_artifact(str(OUT_DIR / "submission.csv"))
    print(f"submission: {OUT_DIR / 'submission.csv'} ({len(split.test)} rows)")
    return 0


if __name__ == "__main__":
    run(main)
