"""Choose merge weights and wise-ft α on a validation set, with the official scorer (beyond seed 003,
which tuned them on the public leaderboard).

``run_search`` merges each candidate into one loaded ``MergeWorkspace`` and scores it; scores are
cached on disk under a key of the spec *and* of everything else that decides the score (base model,
adapters, questions, generation settings), so a re-run with one more grid point evaluates only that
point, and a changed adapter invalidates every entry. Every spec with no change from the base (α = 0,
or all weights 0) shares one key: the base is scored once. A cached row holds the candidate's
per-question scores too; a row written before they were kept has none and is scored again.

``select`` applies the search's selection rule (``search.selection``):

- ``best``: the highest score; a tie goes to the smaller change from the base (α·Σ|wᵢ|), the safer model.
- ``one_se``: the one-standard-error rule. Take the best score and its standard error (the bootstrap SD
  of that candidate's score on the validation questions, task-stratified as the official scorer
  aggregates: ``shoplm.shopbench.evidence.standard_error``); among the candidates scoring at least
  best − SE, choose the smallest change from the base. A score within one SE of the best is not told
  apart from it by these questions, so the search does not move further from the base than the
  evidence asks for.
- ``one_se_paired`` (the default): the same rule with the standard error of each candidate's *paired*
  difference to the best (``evidence.paired_standard_error``: both resampled with the same draws). Two
  merges of one base answer most questions alike, and the unpaired SE counts that shared noise as if it
  could separate them: on the smol run's 18 validation questions ``one_se`` kept the base although the
  adapter beat it by 0.046 with a paired 95% CI of [0.014, 0.078]. A candidate is eligible when
  best − score ≤ SE(best − candidate).

``compare_to_references`` gives the chosen candidate's paired difference (with its bootstrap interval)
to the base and to each adapter alone on the same validation questions, and says when the interval
holds 0: the winner cannot be told apart from that model. ``plot_alpha_curves`` draws score against α
for each adapter set (seed 003 Figure 3).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shoplm.merging.scoring import CandidateScore
from shoplm.merging.workspace import MergeWorkspace
from shoplm.params.merging import SELECTION_RULES, MergeSpec

BASE_KEY = "base"  # every spec that leaves the base unchanged
N_RESAMPLES = 2000  # bootstrap resamples of the standard error and of the paired differences
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class CandidateResult:
    spec: MergeSpec
    score: float
    parse_failures: int
    seconds: float  # merge + evaluation; 0 when the score came from the cache
    cached: bool
    report: dict[str, Any]
    samples: Sequence[dict[str, Any]] = ()  # per-question scores (shoplm.merging.scoring.compact_samples)


# ------------------------------------------------------------------------------------------ keys and cache

def _hash_files(paths: Sequence[Path], digest: Any, full: bool) -> None:
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        if full:
            digest.update(path.read_bytes())
        else:  # large weight files: their size stands for them (DVC already hashes the base stage's outs)
            digest.update(str(path.stat().st_size).encode())


def context_fingerprint(base_dir: str | os.PathLike[str], adapter_dirs: Mapping[str, str | os.PathLike[str]],
                        questions: Sequence[Any], settings: Any, objective: str, constraints: Any = None,
                        backend: str = "transformers") -> str:
    """Hash of what, besides the spec, decides a candidate's score."""
    digest = hashlib.sha256()
    base = Path(base_dir)
    _hash_files([p for p in base.iterdir() if p.suffix == ".json"], digest, full=True)
    _hash_files([p for p in base.iterdir() if p.suffix in {".safetensors", ".bin"}], digest, full=False)
    for name in sorted(adapter_dirs):
        digest.update(name.encode())
        _hash_files([p for p in Path(adapter_dirs[name]).iterdir() if p.is_file()], digest, full=True)
    rows = [q.model_dump(mode="json") if hasattr(q, "model_dump") else q for q in questions]
    digest.update(json.dumps(rows, sort_keys=True, ensure_ascii=False).encode())
    digest.update(json.dumps(settings.model_dump(mode="json"), sort_keys=True).encode())
    digest.update(objective.encode())
    if constraints is not None and not constraints.is_off:  # off hashes as before: old cache rows stay valid
        digest.update(json.dumps(constraints.model_dump(mode="json"), sort_keys=True).encode())
    if backend != "transformers":  # another engine's numerics may answer otherwise (bf16 kernels, batching)
        digest.update(backend.encode())
    return digest.hexdigest()[:16]


def cache_key(spec: MergeSpec, context: str) -> str:
    own = BASE_KEY if spec.change_from_base() == 0 else spec.fingerprint()
    return f"{context}:{own}"


class ScoreCache:
    """Candidate scores in a JSON Lines file, one row per evaluated key; later rows win."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._rows: dict[str, dict[str, Any]] = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self._rows[row["key"]] = row

    def get(self, key: str) -> dict[str, Any] | None:
        return self._rows.get(key)

    def get_scored(self, key: str) -> dict[str, Any] | None:
        """The row of ``key`` when it holds per-question scores; a row from before they were cached
        (no ``samples``) counts as missing, so the candidate is scored again and the row replaced."""
        row = self._rows.get(key)
        return row if row is not None and "samples" in row else None

    def put(self, key: str, spec: MergeSpec, outcome: CandidateScore) -> None:
        row = {"key": key, "spec": spec.model_dump(mode="json"), "score": outcome.score,
               "parse_failures": outcome.parse_failures, "seconds": outcome.seconds, "report": outcome.report,
               "samples": list(outcome.samples)}
        self._rows[key] = row
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:  # append: a killed search keeps what it scored
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")

    def __len__(self) -> int:
        return len(self._rows)


# ------------------------------------------------------------------------------------------ search

def run_search(workspace: MergeWorkspace, candidates: Sequence[MergeSpec], evaluate: Callable[[Any], CandidateScore],
               cache: ScoreCache, context: str, on_result: Callable[[CandidateResult], None] | None = None,
               progress: bool = True) -> list[CandidateResult]:
    """Score every candidate (from the cache when it has the key), in order; ``on_result`` sees each one."""
    from tqdm.auto import tqdm

    results = []
    for spec in tqdm(candidates, desc="merge candidates", unit="spec", disable=not progress):
        key = cache_key(spec, context)
        if (row := cache.get_scored(key)) is not None:
            result = CandidateResult(spec, row["score"], row["parse_failures"], 0.0, True, row["report"],
                                     row["samples"])
        else:
            start = time.perf_counter()
            workspace.apply(spec)
            outcome = evaluate(workspace.model)
            cache.put(key, spec, outcome)
            result = CandidateResult(spec, outcome.score, outcome.parse_failures, time.perf_counter() - start,
                                     False, outcome.report, outcome.samples)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def run_search_batched(candidates: Sequence[MergeSpec],
                       score_many: Callable[[Sequence[MergeSpec]], Sequence[CandidateScore]], cache: ScoreCache,
                       context: str, on_result: Callable[[CandidateResult], None] | None = None
                       ) -> list[CandidateResult]:
    """``run_search`` for a scorer that answers many candidates at once (one vLLM engine call, each
    candidate a LoRA adapter per request): the specs the cache lacks are scored in one ``score_many`` call,
    in order, each result cached; ``seconds`` is then each one's share of that call."""
    keys = [cache_key(spec, context) for spec in candidates]
    missing: dict[str, MergeSpec] = {}
    for key, spec in zip(keys, candidates):
        if cache.get_scored(key) is None:
            missing.setdefault(key, spec)  # specs that share a key (every α = 0) are scored once
    if missing:
        for (key, spec), outcome in zip(missing.items(), score_many(list(missing.values())), strict=True):
            cache.put(key, spec, outcome)
    results = []
    for key, spec in zip(keys, candidates):
        row = cache.get_scored(key)
        fresh = key in missing
        result = CandidateResult(spec, row["score"], row["parse_failures"], row["seconds"] if fresh else 0.0,
                                 not fresh, row["report"], row["samples"])
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _best(results: Sequence[CandidateResult]) -> CandidateResult:
    return min(results, key=lambda r: (-r.score, r.spec.change_from_base(), r.parse_failures, r.spec.fingerprint()))


def _describe(result: CandidateResult) -> dict[str, Any]:
    return {"label": result.spec.label(), "fingerprint": result.spec.fingerprint(), "score": result.score,
            "change_from_base": result.spec.change_from_base(), "spec": result.spec.model_dump(mode="json")}


@dataclass(frozen=True)
class Selection:
    """What a selection rule saw and chose. ``standard_error`` and ``threshold`` (best − SE) are the
    one-SE rule's; ``eligible`` are the candidates it chose among (the rule ``best``: the best alone)."""

    rule: str
    chosen: CandidateResult
    best: CandidateResult
    eligible: tuple[CandidateResult, ...]
    standard_error: float | None = None
    threshold: float | None = None
    paired_standard_errors: dict[str, float] | None = None  # one_se_paired: label → SE(best − candidate)

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "best": _describe(self.best), "chosen": _describe(self.chosen),
                "standard_error_of_best": self.standard_error, "threshold": self.threshold,
                "paired_standard_errors": self.paired_standard_errors,
                "eligible": [r.spec.label() for r in self.eligible],
                "chose_the_best": self.chosen.spec.fingerprint() == self.best.spec.fingerprint()}


def select(results: Sequence[CandidateResult], rule: str = "best", questions: Sequence[Any] | None = None,
           objective: str = "track5", n_resamples: int = N_RESAMPLES, seed: int = BOOTSTRAP_SEED) -> Selection:
    """Apply a selection rule (module docstring). ``one_se`` needs the validation ``questions`` the
    candidates were scored on, in order, and each candidate's per-question scores."""
    if not results:
        raise ValueError("no candidates to choose from")
    best = _best(results)
    if rule == "best":
        return Selection("best", best, best, (best,))
    if rule not in SELECTION_RULES:
        raise ValueError(f"selection rule {rule!r}: choose one of {', '.join(SELECTION_RULES)}")
    if questions is None or not best.samples:
        raise ValueError(f"selection {rule} needs the validation questions and the best candidate's "
                         "per-question scores")
    from shoplm.shopbench.evidence import paired_standard_error, standard_error

    def smallest_change(eligible: Sequence[CandidateResult]) -> CandidateResult:
        return min(eligible, key=lambda r: (r.spec.change_from_base(), -r.score, r.parse_failures,
                                            r.spec.fingerprint()))

    if rule == "one_se":
        se = standard_error(questions, best.samples, objective, n_resamples, seed)
        threshold = best.score - se
        eligible = tuple(r for r in results if r.score >= threshold - 1e-12)
        return Selection("one_se", smallest_change(eligible), best, eligible, se, threshold)
    ses: dict[str, float] = {}
    for r in results:
        if r is best or r.score == best.score:
            ses[r.spec.label()] = 0.0
        elif r.samples:  # a candidate without per-question scores cannot be paired: never eligible
            ses[r.spec.label()] = paired_standard_error(questions, best.samples, r.samples, objective,
                                                        n_resamples, seed)
    eligible = tuple(r for r in results if r.spec.label() in ses
                     and best.score - r.score <= ses[r.spec.label()] + 1e-12)
    return Selection("one_se_paired", smallest_change(eligible), best, eligible,
                     paired_standard_errors=ses)


def choose(results: Sequence[CandidateResult], rule: str = "best", questions: Sequence[Any] | None = None,
           objective: str = "track5") -> CandidateResult:
    """The candidate ``select`` chooses. ``best``: highest score; ties → smaller change from the base,
    then fewer parse failures, then the spec hash."""
    return select(results, rule, questions, objective).chosen


def compare_to_references(chosen: CandidateResult, references: Mapping[str, CandidateResult],
                          questions: Sequence[Any], objective: str = "track5", n_resamples: int = N_RESAMPLES,
                          seed: int = BOOTSTRAP_SEED, level: float = 0.95) -> dict[str, dict[str, Any]]:
    """Chosen − reference on the validation questions, per reference (the base, each adapter alone): the
    paired bootstrap difference and its interval, and whether the interval holds 0 (``told_apart``
    false: these questions cannot tell the two apart). A reference that is the chosen model itself
    (the same merged weights) is marked ``same_model``."""
    from shoplm.shopbench.evidence import paired_difference

    out = {}
    for label, reference in references.items():
        same = cache_key(chosen.spec, "") == cache_key(reference.spec, "")
        diff = paired_difference(questions, chosen.samples, reference.samples, objective, n_resamples, seed, level)
        out[label] = {"reference": reference.spec.label(), "reference_score": reference.score,
                      "difference": diff.point, "low": diff.low, "high": diff.high, "level": level,
                      "told_apart": diff.excludes_zero, "same_model": same}
    return out


def evidence_line(label: str, row: Mapping[str, Any]) -> str:
    """One line of the search's printout for a ``compare_to_references`` row."""
    if row["same_model"]:
        return f"chosen is {label} itself ({row['reference']})"
    verdict = "told apart" if row["told_apart"] else "cannot be told apart"
    return (f"chosen - {label}: {row['difference']:+.4f}, {row['level']:.0%} CI [{row['low']:+.4f}, "
            f"{row['high']:+.4f}]: {verdict}")


def split_questions(questions: Sequence[Any], test_fraction: float, seed: int) -> tuple[list[Any], list[Any]]:
    """A seeded, disjoint validation/test split of one set (used when no separate test set is named)."""
    order = list(range(len(questions)))
    random.Random(seed).shuffle(order)
    n_test = max(1, round(len(questions) * test_fraction))
    if n_test >= len(questions):
        raise ValueError(f"{len(questions)} questions cannot be split with test_fraction {test_fraction}")
    test = sorted(order[:n_test])
    validation = sorted(order[n_test:])
    return [questions[i] for i in validation], [questions[i] for i in test]


# ------------------------------------------------------------------------------------------ plot

def plot_alpha_curves(results: Sequence[CandidateResult], path: str | os.PathLike[str], title: str,
                      objective: str = "track5", chosen: CandidateResult | None = None,
                      threshold: float | None = None) -> Path:
    """Score against α, one line per adapter set (method, weights, density); the chosen point circled;
    ``threshold`` (the one-SE rule's best − SE) as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    lines: dict[str, list[tuple[float, float]]] = {}
    for result in results:
        spec = result.spec
        label = " ".join(f"{n}={w:g}" for n, w in spec.adapters.items())
        if spec.density is not None:
            label += f" d={spec.density:g}"
        lines.setdefault(f"{spec.method} {label}", []).append((spec.alpha, result.score))
    fig, ax = plt.subplots(figsize=(7, 4))
    for label, points in sorted(lines.items()):
        points.sort()
        ax.plot([a for a, _ in points], [s for _, s in points], marker="o", label=label)
    if chosen is not None:
        ax.scatter([chosen.spec.alpha], [chosen.score], s=180, facecolors="none", edgecolors="black",
                   linewidths=2, zorder=5, label=f"chosen: {chosen.spec.label()}")
    if threshold is not None:
        ax.axhline(threshold, color="grey", linestyle="--", linewidth=1, label="best - 1 SE")
    ax.set_xlabel("wise-ft α (0 = base)")
    ax.set_ylabel(f"validation {objective}")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
