"""Bootstrap intervals for ShopBench scores: one model's, and the paired difference of two.

Why these choices:
- The resample unit is the question, stratified by task: each resample redraws, within every task, as
  many questions as the task has (with replacement). Every task stays present with its size, so each
  resample is a ShopBench set of the same shape and Track 5's macro weights (tasks within tracks,
  tracks within Track 5) never change; only the questions vary, which is what "another draw of the
  benchmark" means.
- Each resample is aggregated exactly as the official scorer does (shoplm.shopbench.scoring): a
  task's score is the mean of its sample scores, except `micro f1`, whose (tp, fp, fn) are SUMMED over
  the resampled task before one F1 is computed (averaging per-sample F1 would be another metric).
- A task with a single question in the set is a stratum with nothing to resample: held fixed, a
  change on it alone would look certain (a zero-width interval). Such questions are pooled into one
  stratum (collapsed strata, ``pooled_samples``), so their tasks' scores vary as their neighbours' do.
- The point estimate is the official score of the full set, computed by the scorer's own functions, so
  it equals `score(...)` exactly; low/high are percentile bounds of the resampled values.
- Paired: two prediction sets on the same questions share the same index draws; the interval is that
  of the per-resample difference a - b, so per-question difficulty cancels out.
- Everything is vectorised with numpy (one [n_resamples, n_task] draw per task, no Python loop per
  resample) and seeded with numpy's default_rng, so a seed gives the same intervals on any machine.
- Minimum detectable difference: (z_{1-alpha/2} + z_{power}) * SE, i.e. 2.80 * SE for a two-sided 5%
  test with 80% power, SE being the bootstrap standard deviation of the paired difference; with one
  model only, SE of a difference is taken as sqrt(2) * SE of its score (two independent models of
  equal variance; pairing usually makes the real one smaller, so this errs on the large side).
- Standard error of one score: the bootstrap standard deviation (ddof=1) of its resampled values, the
  same draws as its interval; a selection rule such as one-standard-error reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist, fmean
from typing import Any

import numpy as np

from shoplm.shopbench.records import TASK_TYPES, TRACK_SHORT_NAMES, TRACKS, Question
from shoplm.shopbench.scoring import MICRO_F1, ScoreReport, TaskScore, _macro, _task_score, natural_key

Scored = ScoreReport | Sequence[dict[str, Any]]  # score(...)'s report, or its .samples
_CHUNK = 256  # resamples aggregated at a time: bounds memory at about _CHUNK * n_questions * 8 bytes


@dataclass(frozen=True)
class SampleTable:
    """Per-sample scores as arrays. `task_of_sample[i]` indexes `tasks`; `scores[i]` is sample i's
    score (0 for micro-f1 rows), `counts[i]` its (tp, fp, fn) (0 for other rows)."""

    tasks: tuple[TaskScore, ...]  # the official task scores of the full set, in the scorer's order
    task_of_sample: np.ndarray  # int, [n]
    scores: np.ndarray  # float, [n]
    counts: np.ndarray  # int, [n, 3]

    @property
    def n(self) -> int:
        return len(self.task_of_sample)


@dataclass(frozen=True)
class Estimate:
    point: float
    low: float
    high: float
    n: int
    metric: str


@dataclass(frozen=True)
class Difference:
    point: float
    low: float
    high: float
    n: int
    excludes_zero: bool
    metric: str


def sample_table(questions: Sequence[Question], report_or_samples: Scored) -> SampleTable:
    """The per-sample arrays of a scored prediction set. Refuses (ValueError) samples that were not
    scored on `questions` in this order, as far as their count, task_name and metric can tell."""
    samples = report_or_samples.samples if isinstance(report_or_samples, ScoreReport) else report_or_samples
    if not samples:
        raise ValueError("no per-sample scores: pass score(...)'s ScoreReport or its .samples")
    if len(samples) != len(questions):
        raise ValueError(f"question sets differ: {len(samples)} scored samples for {len(questions)} questions")
    for i, (q, s) in enumerate(zip(questions, samples)):
        if (s["task_name"], s["metric"]) != (q.task_name, q.metric):
            raise ValueError(
                f"question sets differ at sample {i}: scored as {s['task_name']}/{s['metric']}, "
                f"question is {q.task_name}/{q.metric}"
            )
    members: dict[str, list[int]] = {}
    for i, q in enumerate(questions):
        members.setdefault(q.task_name, []).append(i)
    names = sorted(members, key=natural_key)
    raw = [s["score"] for s in samples]
    tasks = tuple(_task_score(n, [questions[i] for i in members[n]], [raw[i] for i in members[n]], 0) for n in names)
    task_of_sample = np.empty(len(questions), dtype=np.int64)
    for t, name in enumerate(names):
        task_of_sample[members[name]] = t
    micro = [q.metric == MICRO_F1 for q in questions]
    scores = np.array([0.0 if m else float(r) for m, r in zip(micro, raw)], dtype=np.float64)
    counts = np.array([tuple(r) if m else (0, 0, 0) for m, r in zip(micro, raw)], dtype=np.int64).reshape(-1, 3)
    return SampleTable(tasks, task_of_sample, scores, counts)


def bootstrap_indices(task_of_sample: np.ndarray, n_resamples: int, seed: int,
                      pooled: np.ndarray | None = None) -> np.ndarray:
    """[n_resamples, n] sample indices; row b is one stratified resample: column j holds a sample of
    the same task as sample j, drawn with replacement. Tasks are drawn in ascending task index, one
    [n_resamples, n_task] matrix each, so the draws depend on (task_of_sample, n_resamples, seed) only.

    ``pooled`` (a boolean per sample, see ``pooled_samples``) collapses those samples' strata into one,
    drawn last: each of their columns holds any pooled sample."""
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    task_of_sample = np.asarray(task_of_sample)
    pooled = np.zeros(len(task_of_sample), dtype=bool) if pooled is None else np.asarray(pooled, dtype=bool)
    rng = np.random.default_rng(seed)
    out = np.empty((n_resamples, len(task_of_sample)), dtype=np.int64)
    for task in np.unique(task_of_sample[~pooled]):
        members = np.flatnonzero((task_of_sample == task) & ~pooled)
        out[:, members] = members[rng.integers(0, len(members), size=(n_resamples, len(members)))]
    if pooled.any():
        members = np.flatnonzero(pooled)
        out[:, members] = members[rng.integers(0, len(members), size=(n_resamples, len(members)))]
    return out


def pooled_samples(table: SampleTable) -> np.ndarray:
    """Samples whose task has no other sample in the set, pooled for resampling (collapsed strata).

    A stratum of one question has no variance to resample: a stratified bootstrap would hold that
    question fixed in every resample, and a change made only on such questions would get an interval of
    zero width, certain on one answer. Pooling them lets each such task's score vary as its neighbours'
    do. Micro-F1 tasks are left alone (their counts are not a score another task could lend); a lone
    pooled sample is left alone too."""
    sizes = np.bincount(table.task_of_sample, minlength=len(table.tasks))
    lone = np.array([sizes[t] == 1 and task.metric != MICRO_F1 for t, task in enumerate(table.tasks)])
    pooled = lone[table.task_of_sample]
    return pooled if pooled.sum() >= 2 else np.zeros_like(pooled)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """f1_from_counts, elementwise and in its operation order (so equal values, not just close)."""
    tp, fp, fn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn))
    zero = np.zeros_like(tp)
    precision = np.divide(tp, tp + fp, out=zero.copy(), where=(tp + fp) != 0)
    recall = np.divide(tp, tp + fn, out=zero.copy(), where=(tp + fn) != 0)
    return np.divide(2 * precision * recall, precision + recall, out=zero, where=(precision + recall) != 0)


def task_scores(table: SampleTable, indices: np.ndarray) -> np.ndarray:
    """[n_resamples, n_tasks]: every task's score in every resample (rows of `indices`)."""
    order = np.argsort(table.task_of_sample, kind="stable")  # columns grouped by task, tasks in order
    sizes = np.bincount(table.task_of_sample, minlength=len(table.tasks))
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    micro = np.flatnonzero([task.metric == MICRO_F1 for task in table.tasks])
    micro_cols = np.concatenate([np.arange(starts[t], starts[t] + sizes[t]) for t in micro] or [[]]).astype(int)
    micro_starts = np.concatenate(([0], np.cumsum(sizes[micro])[:-1])) if len(micro) else []
    out = np.empty((len(indices), len(table.tasks)))
    for lo in range(0, len(indices), _CHUNK):
        grouped = indices[lo:lo + _CHUNK][:, order]
        out[lo:lo + _CHUNK] = np.add.reduceat(table.scores[grouped], starts, axis=1) / sizes
        if len(micro):  # micro f1: sum tp, fp, fn over the resampled task, then one F1
            summed = np.add.reduceat(table.counts[grouped[:, micro_cols]], micro_starts, axis=1)
            out[lo:lo + _CHUNK, micro] = _f1(summed[..., 0], summed[..., 1], summed[..., 2])
    return out


def _parse_metric(metric: str, tasks: Sequence[TaskScore]) -> tuple[str, str]:
    kind, _, name = metric.partition(":")
    short = {v: k for k, v in TRACK_SHORT_NAMES.items()}
    if kind == "track":
        name = short.get(name, name)
    present = {"track": [t.track for t in tasks], "task_type": [t.task_type for t in tasks],
               "task": [t.task_name for t in tasks]}
    if (kind in ("track5", "mean_over_tasks") and not name) or name in present.get(kind, ()):
        return kind, name
    known = "track5, mean_over_tasks, " + ", ".join(
        f"{k}:{n}" for k, names in present.items() for n in dict.fromkeys(names))
    raise ValueError(f"unknown or absent metric {metric!r}; this set has: {known}")


def resample_scores(table: SampleTable, indices: np.ndarray, metric: str = "track5") -> np.ndarray:
    """[n_resamples]: `metric` of every resample, aggregated as the official scorer does."""
    kind, name = _parse_metric(metric, table.tasks)
    per_task = task_scores(table, indices)
    if kind == "mean_over_tasks":
        return per_task.mean(axis=1)
    if kind == "task":
        return per_task[:, [t.task_name for t in table.tasks].index(name)]
    if kind == "task_type":
        return per_task[:, [t.task_type == name for t in table.tasks]].mean(axis=1)
    present = [tr for tr in TRACKS if any(t.track == tr for t in table.tasks)]
    tracks = {tr: per_task[:, [t.track == tr for t in table.tasks]].mean(axis=1) for tr in present}
    return np.mean(list(tracks.values()), axis=0) if kind == "track5" else tracks[name]


def official_value(table: SampleTable, metric: str = "track5") -> float:
    """`metric` of the full set, by the scorer's own aggregation (equal to ScoreReport's value)."""
    kind, name = _parse_metric(metric, table.tasks)
    tasks = list(table.tasks)
    if kind == "mean_over_tasks":
        return fmean(t.score for t in tasks)
    if kind == "task":
        return next(t.score for t in tasks if t.task_name == name)
    if kind == "task_type":
        return _macro(tasks, "task_type", TASK_TYPES)[name]
    tracks = _macro(tasks, "track", TRACKS)
    return fmean(tracks.values()) if kind == "track5" else tracks[name]


def _bounds(values: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level}")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def interval(questions: Sequence[Question], report_or_samples: Scored,
             metric: str = "track5", n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> Estimate:
    """Official `metric` of one prediction set with its percentile bootstrap interval."""
    table = sample_table(questions, report_or_samples)
    values = resample_scores(table, bootstrap_indices(table.task_of_sample, n_resamples, seed,
                                                      pooled_samples(table)), metric)
    return Estimate(official_value(table, metric), *_bounds(values, level), table.n, metric)


def standard_error(questions: Sequence[Question], report_or_samples: Scored, metric: str = "track5",
                   n_resamples: int = 2000, seed: int = 0) -> float:
    """Bootstrap standard deviation (ddof=1) of one prediction set's official `metric`."""
    if n_resamples < 2:
        raise ValueError(f"a standard deviation needs at least 2 resamples, got {n_resamples}")
    table = sample_table(questions, report_or_samples)
    values = resample_scores(table, bootstrap_indices(table.task_of_sample, n_resamples, seed,
                                                      pooled_samples(table)), metric)
    return float(values.std(ddof=1))


def _paired(questions: Sequence[Question], a: Scored, b: Scored, metric: str, n_resamples: int,
            seed: int) -> tuple[float, np.ndarray, int]:
    try:
        table_a = sample_table(questions, a)
    except ValueError as error:
        raise ValueError(f"prediction set a: {error}") from None
    try:
        table_b = sample_table(questions, b)
    except ValueError as error:
        raise ValueError(f"prediction set b: {error}") from None
    indices = bootstrap_indices(table_a.task_of_sample, n_resamples, seed, pooled_samples(table_a))  # paired
    diffs = resample_scores(table_a, indices, metric) - resample_scores(table_b, indices, metric)
    return official_value(table_a, metric) - official_value(table_b, metric), diffs, table_a.n


def paired_standard_error(questions: Sequence[Question], a: Scored, b: Scored, metric: str = "track5",
                          n_resamples: int = 2000, seed: int = 0) -> float:
    """Bootstrap standard deviation (ddof=1) of a - b on the same questions (shared draws: paired).

    Two models answering the same questions mostly agree, so this is often far below either score's own
    standard error: the noise that cancels in a comparison is left out."""
    if n_resamples < 2:
        raise ValueError(f"a standard deviation needs at least 2 resamples, got {n_resamples}")
    return float(_paired(questions, a, b, metric, n_resamples, seed)[1].std(ddof=1))


def paired_difference(questions: Sequence[Question], a: Scored, b: Scored, metric: str = "track5",
                      n_resamples: int = 2000, seed: int = 0, level: float = 0.95) -> Difference:
    """a - b on the same questions, with the percentile interval of the paired resampled differences."""
    point, diffs, n = _paired(questions, a, b, metric, n_resamples, seed)
    low, high = _bounds(diffs, level)
    return Difference(point, low, high, n, low > 0 or high < 0, metric)


def minimum_detectable_difference(questions: Sequence[Question], a: Scored, b: Scored | None = None,
                                  metric: str = "track5", n_resamples: int = 2000, seed: int = 0,
                                  alpha: float = 0.05, power: float = 0.8) -> float:
    """(z_{1-alpha/2} + z_{power}) * SE (2.80 * SE at the defaults): SE is the bootstrap SD of the
    paired difference a - b, or sqrt(2) * the SD of a's score when b is not given."""
    if b is None:
        se = np.sqrt(2) * standard_error(questions, a, metric, n_resamples, seed)
    else:
        se = _paired(questions, a, b, metric, n_resamples, seed)[1].std(ddof=1)
    z = NormalDist()
    return float((z.inv_cdf(1 - alpha / 2) + z.inv_cdf(power)) * se)
