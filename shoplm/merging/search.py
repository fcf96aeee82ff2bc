"""Choose merge weights and wise-ft α on a validation set, with the official scorer (beyond seed 003,
which tuned them on the public leaderboard).

``run_search`` merges each candidate into one loaded ``MergeWorkspace`` and scores it; scores are
cached on disk under a key of the spec *and* of everything else that decides the score (base model,
adapters, questions, generation settings), so a re-run with one more grid point evaluates only that
point, and a changed adapter invalidates every entry. Every spec with no change from the base (α = 0,
or all weights 0) shares one key: the base is scored once. ``choose`` keeps the best score; a tie goes
to the smaller change from the base (α·Σ|wᵢ|), the safer model. ``plot_alpha_curves`` draws score
against α for each adapter set (seed 003 Figure 3).
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
from shoplm.params.merging import MergeSpec

BASE_KEY = "base"  # every spec that leaves the base unchanged


@dataclass(frozen=True)
class CandidateResult:
    spec: MergeSpec
    score: float
    parse_failures: int
    seconds: float  # merge + evaluation; 0 when the score came from the cache
    cached: bool
    report: dict[str, Any]


# ------------------------------------------------------------------------------------------ keys and cache

def _hash_files(paths: Sequence[Path], digest: Any, full: bool) -> None:
    for path in sorted(paths):
        digest.update(str(path.name).encode())
        if full:
            digest.update(path.read_bytes())
        else:  # large weight files: their size stands for them (DVC already hashes the base stage's outs)
            digest.update(str(path.stat().st_size).encode())


def context_fingerprint(base_dir: str | os.PathLike[str], adapter_dirs: Mapping[str, str | os.PathLike[str]],
                        questions: Sequence[Any], settings: Any, objective: str, constraints: Any = None) -> str:
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

    def put(self, key: str, spec: MergeSpec, outcome: CandidateScore) -> None:
        row = {"key": key, "spec": spec.model_dump(mode="json"), "score": outcome.score,
               "parse_failures": outcome.parse_failures, "seconds": outcome.seconds, "report": outcome.report}
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
        if (row := cache.get(key)) is not None:
            result = CandidateResult(spec, row["score"], row["parse_failures"], 0.0, True, row["report"])
        else:
            start = time.perf_counter()
            workspace.apply(spec)
            outcome = evaluate(workspace.model)
            cache.put(key, spec, outcome)
            result = CandidateResult(spec, outcome.score, outcome.parse_failures, time.perf_counter() - start,
                                     False, outcome.report)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def choose(results: Sequence[CandidateResult]) -> CandidateResult:
    """Highest score; ties → smaller change from the base, then fewer parse failures, then the spec hash."""
    if not results:
        raise ValueError("no candidates to choose from")
    return min(results, key=lambda r: (-r.score, r.spec.change_from_base(), r.parse_failures, r.spec.fingerprint()))


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
                      objective: str = "track5", chosen: CandidateResult | None = None) -> Path:
    """Score against α, one line per adapter set (method, weights, density); the chosen point circled."""
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
