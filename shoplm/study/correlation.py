"""How well public benchmark scores predict the ShopBench score, as seed 000 measured over 20 models.

Pearson (linear) and Spearman (rank) correlation per benchmark, over the models that have both
numbers. With few models a correlation is noise: n is always reported, and below ``min_n`` the row
carries a warning. Below 3 models there is nothing to compute (r is ±1 or undefined).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Correlation:
    benchmark: str
    n: int
    pearson: float | None
    pearson_p: float | None
    spearman: float | None
    spearman_p: float | None
    warning: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def correlate(shopbench: Mapping[str, float], benchmarks: Mapping[str, Mapping[str, float]], min_n: int = 5
              ) -> list[Correlation]:
    """One row per benchmark named by any model: ``shopbench`` is model → score, ``benchmarks`` model →
    {benchmark: score}. Only models with both numbers count."""
    from scipy import stats

    names = sorted({b for scores in benchmarks.values() for b in scores})
    rows = []
    for benchmark in names:
        models = [m for m in shopbench if benchmark in benchmarks.get(m, {})]
        xs = [benchmarks[m][benchmark] for m in models]
        ys = [shopbench[m] for m in models]
        n = len(models)
        if n < 3 or len(set(xs)) < 2 or len(set(ys)) < 2:
            why = "fewer than 3 models" if n < 3 else "a constant column"
            rows.append(Correlation(benchmark, n, None, None, None, None,
                                    f"n={n}: not computed ({why}); it would mean nothing"))
            continue
        with warnings.catch_warnings():  # scipy warns on tiny n; the row's own warning says it plainly
            warnings.simplefilter("ignore")
            pearson = stats.pearsonr(xs, ys)
            spearman = stats.spearmanr(xs, ys)
        warning = (f"n={n} < {min_n}: too few models, this correlation means nothing" if n < min_n else None)
        rows.append(Correlation(benchmark, n, float(pearson.statistic), _finite(pearson.pvalue),
                                float(spearman.statistic), _finite(spearman.pvalue), warning))
    return rows


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def format_correlations(rows: list[Correlation], score: str) -> str:
    if not rows:
        return f"No model of the sweep has public benchmark scores (sweep.models.<name>.benchmarks): no correlation."
    lines = [f"| benchmark | n | Pearson r (p) | Spearman ρ (p) | note |", "|---|---:|---:|---:|---|"]
    for r in rows:
        pearson = "–" if r.pearson is None else f"{r.pearson:+.3f} ({r.pearson_p:.3g})"
        spearman = "–" if r.spearman is None else f"{r.spearman:+.3f} ({r.spearman_p:.3g})"
        lines.append(f"| {r.benchmark} | {r.n} | {pearson} | {spearman} | {r.warning or ''} |")
    return f"Correlation of public benchmark scores with ShopBench {score}:\n\n" + "\n".join(lines)
