"""The planner's output: a table for people, a JSON document for machines."""

from __future__ import annotations

from dataclasses import dataclass, field

from shoplm.planning.hardware import GB
from shoplm.planning.reference import Check
from shoplm.planning.runtime import Deployment, TrackPlan
from shoplm.planning.workload import Workload


@dataclass
class Plan:
    title: str
    deployment: Deployment
    workload: Workload
    tracks: list[TrackPlan]
    model_source: str
    notes: list[str] = field(default_factory=list)

    def header(self) -> dict[str, str]:
        d = self.deployment
        arch, weights = d.arch, d.weights
        total = weights.weight_bytes(arch)
        return {
            "model": f"{arch.name}: {_count(arch.params(weights.pad_intermediate_to))} parameters, "
                     f"{arch.num_layers} layers, {arch.num_heads} heads / {arch.num_kv_heads} KV heads "
                     f"(shape from {self.model_source})",
            "weights": f"{weights.describe()}: {total / GB:.3g} GB, {d.weight_bytes_per_gpu / GB:.3g} GB per GPU",
            "hardware": f"{d.cluster}: {d.cluster.gpu.description}",
            "serving": f"tensor parallel {d.tensor_parallel} x {d.replicas} replica(s), batches of {d.batch_size} "
                       f"grouped by task type, {d.activation_dtype}, answers assumed to run to their caps "
                       f"({', '.join(f'{k} {v}' for k, v in d.caps.items())})",
            "questions": self.workload.source,
            "prompt tokens": self.workload.tokens,
            "efficiency": f"{d.efficiency:.3f} of peak FLOPS and bandwidth (calibrated once on a published run; "
                          "shoplm plan --references)",
        }

    def to_dict(self) -> dict:
        return {"title": self.title, **{key.replace(" ", "_"): value for key, value in self.header().items()},
                "tracks": [plan.to_dict() for plan in self.tracks], "notes": self.notes,
                "fits": all(p.fits_time and p.fits_memory for p in self.tracks)}


def _count(n: float) -> str:
    return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.1f}M"


def format_duration(seconds: float) -> str:
    sign = "-" if seconds < 0 else ""
    seconds = abs(round(seconds))
    if seconds < 60:
        return f"{sign}{seconds}s"
    if seconds < 3600:
        return f"{sign}{seconds // 60}m{seconds % 60:02d}s"
    return f"{sign}{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def format_plan(plan: Plan) -> str:
    width = max(len(key) for key in plan.header())
    lines = [plan.title, ""] + [f"{key:<{width}}  {value}" for key, value in plan.header().items()] + [""]
    columns = ("track", "questions", "prefill", "decode", "comm", "runtime", "limit", "margin", "time",
               "GB/GPU", "of", "memory")
    rows = [columns]
    for p in plan.tracks:
        rows.append((p.track, str(p.questions), format_duration(p.prefill_s), format_duration(p.decode_s),
                     format_duration(p.seconds.comm), format_duration(p.runtime_s), format_duration(p.limit_s),
                     ("+" if p.margin_s >= 0 else "") + format_duration(p.margin_s),
                     "fits" if p.fits_time else "OVER", f"{p.memory_bytes / GB:.2f}", f"{p.memory_limit / GB:.2f}",
                     "fits" if p.fits_memory else "OVER"))
    lines += _table(rows)
    lines += [f"note: {note}" for note in plan.notes]
    return "\n".join(lines)


def format_checks(checks: list[Check], efficiency: float) -> str:
    rows = [("run", "track", "questions", "published", "predicted", "error", "")]
    for c in checks:
        published = f"{c.published_s:.0f}s" if c.kind == "measured" else f"within {c.published_s:.0f}s"
        verdict = ("calibration" if c.calibration else ("within ±25%" if c.passed else "MISS")
                   ) if c.kind == "measured" else ("under the limit" if c.passed else "OVER the limit")
        error = f"{round(c.error, 4) + 0.0:+.1%}" if c.kind == "measured" else f"{c.predicted_s / c.published_s:.0%} of it"
        rows.append((c.run, c.track, str(c.questions), published, f"{c.predicted_s:.0f}s", error, verdict))
    return "\n".join([f"published runs (efficiency {efficiency:.4f}):", ""] + _table(rows))


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        cells = [cell.ljust(w) if i == 0 or (i == 1 and not cell.isdigit()) else cell.rjust(w)
                 for i, (cell, w) in enumerate(zip(row, widths))]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
