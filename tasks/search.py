"""Stage ``search@<grid>``: choose merge weights and wise-ft α on a validation set, then test the choice once.

    python -m tasks.search ensemble    # search.grids.ensemble of params.yaml

Every spec of the grid (each combination of adapter weights, α and density) is merged into one loaded
base (loaded once for the whole grid) and scored with the project's evaluation and the official scorer
on the validation questions. ``search.selection`` picks one: ``one_se_paired`` (the default) the
smallest change from the base whose score is below the best's by at most the standard error of their
paired difference (bootstrap over the validation questions, the same draws for both), ``one_se`` the
same with the best score's own standard error, ``best`` the best score (a tie goes to the smaller change). The base (α = 0) and
each adapter alone (weight 1, α 1) are scored on the validation questions too (from the cache when the
grid holds them), and the chosen spec's paired difference to each, with its 95% interval, says whether
these questions can tell the winner apart from them. The chosen spec is then scored once on test
questions the search never saw (``search.test_set``, or a seeded held-out share of the validation
set), and saved as a model. On those same test questions the base (zero-shot) and each adapter of the
grid alone are scored too, on the same loaded workspace, so the merge's gain is read side by side with
what it merges.

Writes ``reports/search/<grid>/``: candidates.jsonl (every spec and score), chosen.json (the spec, its
validation and test scores, ``selection``: the rule, the best and the chosen candidate, the best's
standard error; ``evidence``: the chosen − base and chosen − each adapter differences on the validation
questions with their intervals; the validation set's minimum detectable difference),
test_questions.jsonl (the held-out questions, so ``quantize.eval_set: search:<grid>`` scores on exactly
them), test_side_by_side.json (zero-shot, each adapter and the merge on
them: track5, mean_over_tasks, parse_failures, n), alpha_curve.png (score vs α per adapter set, like seed
003 Figure 3, with the one-SE threshold), and cache.jsonl (scores and per-question scores by spec and
context: a re-run with one more grid point evaluates only that point); and
``models/merged/search-<grid>/``, the chosen merge. MLflow: one nested run per candidate, the chosen one
tagged ``shoplm.chosen``, the test scores logged apart (``test/<objective>``, and ``test/<model>/<score>``
for every model of the side-by-side).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from contextlib import ExitStack
from pathlib import Path

from shoplm import tracking
from shoplm.merging import MergeWorkspace
from shoplm.merging.scoring import CandidateScore, QuestionScorer
from shoplm.merging.search import (
    CandidateResult,
    ScoreCache,
    compare_to_references,
    context_fingerprint,
    evidence_line,
    plot_alpha_curves,
    run_search,
    run_search_batched,
    select,
    split_questions,
)
from shoplm.merging.reports import MERGED_LABEL, SEARCH_REPORTS_DIR, TEST_QUESTIONS, TEST_SAMPLES, TEST_SIDE_BY_SIDE
from shoplm.merging.workspace import adapter_folders
from shoplm.modeling import resolve_stage_model
from shoplm.params.evaluate import EvaluateSection
from shoplm.params.loader import PARAMS_FILE, ParamsError, load_section
from shoplm.params.merging import MergeGrid, MergeSpec, SearchSection
from shoplm.shopbench.evidence import minimum_detectable_difference
from shoplm.shopbench.records import TRACK_SHORT_NAMES, load_questions, write_questions
from tasks._runner import run

BASE_DIR = Path("models/base")
ADAPTERS_DIR = Path("models/adapters")
EVAL_DIR = Path("data/eval")
MERGED_DIR = Path("models/merged")


def side_by_side_row(report: dict) -> dict:
    """One model's column of test_side_by_side.json: track scores (short names), Track 5, failures, n."""
    return {"tracks": {TRACK_SHORT_NAMES.get(t, t): float(v) for t, v in report["tracks"].items()},
            "track5": float(report["track5"]), "mean_over_tasks": float(report["mean_over_tasks"]),
            "parse_failures": int(report["parse_failures"]), "n": int(report["n"])}


def side_by_side_metrics(rows: dict[str, dict]) -> dict[str, float]:
    """test/<model>/<track>, test/<model>/track5, … for MLflow."""
    metrics = {}
    for label, row in rows.items():
        scores = {**row["tracks"], **{k: v for k, v in row.items() if k not in ("tracks", "n")}}
        metrics.update({tracking.metric_name("test", label, k): float(v) for k, v in scores.items()})
    return metrics


def side_by_side_specs(grid: MergeGrid) -> dict[str, MergeSpec]:
    """The test comparison's reference models: the base (α = 0) and each adapter alone, plainly merged."""
    first = next(iter(grid.adapters))
    specs = {"zero-shot": MergeSpec(adapters={first: 1.0}, alpha=0.0)}
    specs.update({name: MergeSpec(adapters={name: 1.0}, alpha=1.0) for name in grid.adapters})
    return specs


class EngineScorer:
    """``search.backend: vllm``: every weighted spec the stage will score (the grid, the references, so
    the chosen one too) written once as a LoRA adapter, and one vLLM engine on the base that answers any
    of them per request; ``score`` sends a whole list of (spec, question) requests in one engine call.
    ties / dare_* specs have no LoRA form: they are merged into the workspace and scored through
    transformers, one after the other (``merged_specs`` names them for the report)."""

    def __init__(self, section: SearchSection, evaluate: EvaluateSection, base: Path, adapters: dict[str, Path],
                 workspace: MergeWorkspace, tokenizer: object, specs: list[MergeSpec], scratch: Path) -> None:
        from shoplm.merging.vllm_scoring import candidate_folders, open_candidate_engine

        self.section, self.evaluate, self.workspace, self.tokenizer = section, evaluate, workspace, tokenizer
        self.folders, unsupported = candidate_folders(adapters, specs, scratch)
        self.merged_specs = sorted({spec.label() for spec in unsupported})
        self.engine = open_candidate_engine(base, self.folders.values(), settings=evaluate.generation,
                                            dtype=section.dtype, vllm=evaluate.vllm, constraints=evaluate.constraints)

    def score(self, specs: list[MergeSpec], questions: list) -> list[CandidateScore]:
        from shoplm.merging.vllm_scoring import score_candidates

        lora = {spec.fingerprint(): self.folders[spec.fingerprint()] for spec in specs
                if spec.fingerprint() in self.folders}
        scored = score_candidates(self.engine, lora, questions, self.evaluate.generation, self.section.objective)
        merged = QuestionScorer(questions, self.tokenizer, self.evaluate.generation, self.section.objective,
                                self.evaluate.constraints)
        out = []
        for spec in specs:
            if spec.fingerprint() in scored:
                out.append(scored[spec.fingerprint()])
            else:
                self.workspace.apply(spec)
                out.append(merged(self.workspace.model))
        return out

    def close(self) -> None:
        self.engine.close()


def validation_and_test(section: SearchSection) -> tuple[list, list]:
    validation = load_questions(EVAL_DIR / f"{section.validation_set}.jsonl")
    if section.test_set is not None:
        if section.test_set == section.validation_set:
            raise ParamsError(f"search.test_set: {section.test_set!r} is the validation set; name another, "
                              "or null to hold out test_fraction of it")
        return validation[: section.limit], load_questions(EVAL_DIR / f"{section.test_set}.jsonl")
    validation, test = split_questions(validation, section.test_fraction, section.split_seed)
    return validation[: section.limit], test


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.search", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("grid", help="a grid name of search.grids in params.yaml")
    parser.add_argument("--params", type=Path, default=PARAMS_FILE)
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    section: SearchSection = load_section(SearchSection, args.params)
    evaluate: EvaluateSection = load_section(EvaluateSection, args.params)
    if args.grid not in section.grids:
        known = ", ".join(sorted(section.grids)) or "none"
        raise ParamsError(f"{args.params}: search.grids: no grid {args.grid!r} (defined: {known})")
    grid = section.grids[args.grid]
    candidates = grid.candidates()
    validation, test = validation_and_test(section)
    adapters = adapter_folders(list(grid.adapters), ADAPTERS_DIR)
    base = resolve_stage_model(BASE_DIR)
    out = SEARCH_REPORTS_DIR / args.grid
    out.mkdir(parents=True, exist_ok=True)

    params = {"grid": args.grid, "candidates": len(candidates), "n_validation": len(validation),
              "n_test": len(test), **section.model_dump(mode="json", exclude={"grids"}),
              "spec": grid.model_dump(mode="json")}
    with tracking.stage_run(f"search@{args.grid}", params, tags={"search": args.grid}), ExitStack() as stack:
        import mlflow
        from transformers import AutoTokenizer

        workspace = MergeWorkspace(base, adapters, dtype=section.dtype)
        tokenizer = AutoTokenizer.from_pretrained(base)
        settings = evaluate.generation
        reference_specs = side_by_side_specs(grid)
        scratch = stack.enter_context(tempfile.TemporaryDirectory(prefix="search-lora-forms-"))
        engine = (None if section.backend == "transformers" else
                  EngineScorer(section, evaluate, base, adapters, workspace, tokenizer,
                               [*candidates, *reference_specs.values()], Path(scratch)))
        if engine is not None:
            stack.callback(engine.close)
        # Candidates decode as the shipped model does (evaluate.constraints): a merge is chosen for the
        # answers it gives under the constraints, and quantize's "before" is its test score.
        scorer = QuestionScorer(validation, tokenizer, settings, section.objective, evaluate.constraints)
        context = context_fingerprint(base, adapters, validation, settings, section.objective, evaluate.constraints,
                                      section.backend)
        run_ids: dict[str, str] = {}

        def search(specs: list[MergeSpec], on_result=None) -> list[CandidateResult]:
            if engine is None:
                return run_search(workspace, specs, scorer, cache, context, on_result=on_result,
                                  progress=not args.no_progress and on_result is not None)
            return run_search_batched(specs, lambda missing: engine.score(list(missing), validation), cache,
                                      context, on_result=on_result)

        def log_candidate(result: CandidateResult) -> None:
            with mlflow.start_run(run_name=result.spec.label(), nested=True,
                                  tags={"shoplm.cached": str(result.cached).lower()}) as child:
                mlflow.log_params(tracking.flatten_params(result.spec.model_dump(mode="json")))
                mlflow.log_metrics({f"validation/{section.objective}": result.score,
                                    "validation/parse_failures": float(result.parse_failures),
                                    "candidate_seconds": result.seconds,
                                    "change_from_base": result.spec.change_from_base()})
                run_ids[result.spec.fingerprint()] = child.info.run_id

        cache = ScoreCache(out / "cache.jsonl")
        results = search(candidates, on_result=log_candidate)
        selection = select(results, section.selection, validation, section.objective)
        chosen = selection.chosen
        mlflow.MlflowClient().set_tag(run_ids[chosen.spec.fingerprint()], "shoplm.chosen", "true")
        mlflow.set_tag("shoplm.chosen_spec", chosen.spec.label())
        mlflow.set_tag("shoplm.selection", section.selection)
        # The base and each adapter alone on the validation questions (cached when the grid has them).
        references = dict(zip(reference_specs, search(list(reference_specs.values()))))
        evidence = compare_to_references(chosen, references, validation, section.objective)
        detectable = minimum_detectable_difference(validation, selection.best.samples, metric=section.objective)

        # The held-out questions: the chosen spec once, beside the base and each adapter alone.
        test_specs = {**reference_specs, MERGED_LABEL: chosen.spec}
        if engine is not None:  # every model in one engine call
            side_by_side = dict(zip(test_specs, engine.score(list(test_specs.values()), test)))
        else:
            test_scorer = QuestionScorer(test, tokenizer, settings, section.objective, evaluate.constraints)
            side_by_side = {}
            for label, spec in test_specs.items():
                workspace.apply(spec)
                side_by_side[label] = test_scorer(workspace.model)
        tested = side_by_side[MERGED_LABEL]
        workspace.apply(chosen.spec)
        workspace.save(MERGED_DIR / f"search-{args.grid}")
        side_by_side_rows = {label: side_by_side_row(s.report) for label, s in side_by_side.items()}
        write_questions(out / TEST_QUESTIONS, test)
        (out / TEST_SIDE_BY_SIDE).write_text(json.dumps(side_by_side_rows, indent=2) + "\n", encoding="utf-8")
        # Per-question scores of each model on the test questions: the summary's intervals read them.
        (out / TEST_SAMPLES).write_text(json.dumps({label: list(s.samples) for label, s in side_by_side.items()})
                                        + "\n", encoding="utf-8")

        evaluated = [r for r in results if not r.cached]
        summary = {"chosen": chosen.spec.model_dump(mode="json"), "label": chosen.spec.label(),
                   "fingerprint": chosen.spec.fingerprint(), "objective": section.objective,
                   "validation_score": chosen.score, "test_score": tested.score,
                   "test_parse_failures": tested.parse_failures, "n_validation": len(validation),
                   "n_test": len(test), "selection": selection.to_dict(), "evidence": evidence,
                   "validation_minimum_detectable_difference": detectable,
                   "candidates": len(results), "evaluated": len(evaluated),
                   "from_cache": len(results) - len(evaluated),
                   "seconds_per_evaluated_candidate": (sum(r.seconds for r in evaluated) / len(evaluated)
                                                       if evaluated else 0.0)}
        with (out / "candidates.jsonl").open("w", encoding="utf-8") as fh:
            for r in results:
                fh.write(json.dumps({"spec": r.spec.model_dump(mode="json"), "label": r.spec.label(),
                                     "score": r.score, "parse_failures": r.parse_failures,
                                     "seconds": r.seconds, "cached": r.cached,
                                     "eligible": r in selection.eligible}) + "\n")
        (out / "chosen.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        plot_alpha_curves(results, out / "alpha_curve.png", f"search@{args.grid}: {section.validation_set} "
                          f"({len(validation)} questions), {section.selection}", section.objective, chosen,
                          selection.threshold)
        selection_metrics = {f"validation/best/{section.objective}": selection.best.score,
                             "validation/minimum_detectable_difference": detectable}
        if selection.standard_error is not None:
            selection_metrics["validation/best/standard_error"] = selection.standard_error
        for label, row in evidence.items():
            for key in ("difference", "low", "high"):
                selection_metrics[tracking.metric_name("validation", "chosen_minus", label, key)] = row[key]
        mlflow.log_metrics({f"validation/{section.objective}": chosen.score,
                            f"test/{section.objective}": tested.score, **selection_metrics,
                            "test/parse_failures": float(tested.parse_failures),
                            "candidates_evaluated": float(len(evaluated)),
                            "seconds_per_evaluated_candidate": summary["seconds_per_evaluated_candidate"],
                            **side_by_side_metrics(side_by_side_rows)})
        mlflow.log_artifacts(str(out), artifact_path=f"search/{args.grid}")

    for r in sorted(results, key=lambda r: -r.score):
        print(f"  {r.score:.4f}  {r.spec.label()}{'  (cached)' if r.cached else f'  {r.seconds:.1f} s'}")
    if selection.rule == "one_se":
        print(f"selection one_se: best {selection.best.spec.label()} {selection.best.score:.4f} "
              f"(standard error {selection.standard_error:.4f}); the smallest change from the base scoring at "
              f"least {selection.threshold:.4f} ({len(selection.eligible)} of {len(results)} candidates)")
    elif selection.rule == "one_se_paired":
        print(f"selection one_se_paired: best {selection.best.spec.label()} {selection.best.score:.4f}; the "
              "smallest change from the base scoring below it by at most the standard error of their paired "
              f"difference ({len(selection.eligible)} of {len(results)} candidates)")
    else:
        print(f"selection best: {selection.best.spec.label()} {selection.best.score:.4f}")
    for label, row in evidence.items():
        print(f"  validation ({len(validation)} questions), {evidence_line(label, row)}")
    print(f"  minimum detectable difference on these {len(validation)} questions (5% two-sided, 80% power): "
          f"{detectable:.4f}")
    print(f"chosen: {chosen.spec.label()}  validation {section.objective} {chosen.score:.4f}, "
          f"test {tested.score:.4f} ({len(test)} held-out questions) → {MERGED_DIR / f'search-{args.grid}'}/")
    print(f"held-out test questions ({len(test)}), {section.objective}: "
          + ", ".join(f"{label} {row[section.objective]:.4f}" for label, row in side_by_side_rows.items()))
    return 0


if __name__ == "__main__":
    run(main)
