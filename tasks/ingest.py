"""Stage ``ingest``: read every public source listed in params.yaml into a tidy frame.

Writes ``data/interim/frames/<source>.parquet`` (one frame per source, via
``shoplm.builders.frames.save_frames``) and ``data/interim/ingest_report.json`` (files, rows and skipped
rows per source, with the first error messages). Skipped rows (``on_error: skip``) are always reported,
here, on stderr and in MLflow; with ``on_error: raise`` the first malformed row stops the stage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from shoplm import tracking
from shoplm.builders.frames import save_frames
from shoplm.params.ingest import IngestSettings
from shoplm.params.loader import PARAMS_FILE, load_section
from shoplm.sources import SOURCES, read_source, sample_path
from tasks._runner import run

FRAMES_DIR = Path("data/interim/frames")
REPORT = Path("data/interim/ingest_report.json")
MAX_ERRORS_REPORTED = 5


def load_settings(path: Path) -> IngestSettings:
    return load_section(IngestSettings, path)


def shown(path: str | Path) -> str:
    """A path relative to the working directory when it lies below it (stable across clones)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.ingest", description=__doc__,
                                     epilog="sources (ingest.sources):\n" + SOURCES.help(),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=FRAMES_DIR, help="frames folder (default: %(default)s)")
    parser.add_argument("--report", type=Path, default=REPORT, help="report file (default: %(default)s)")
    args = parser.parse_args(argv)

    settings = load_settings(args.params)
    frames = {}
    report: dict[str, Any] = {}
    for name, source in tqdm(settings.sources.items(), desc="ingest", unit="source",
                             disable=not settings.progress):
        result = read_source(name, source.path, limit=source.limit, on_error=source.on_error,
                             progress=settings.progress, **source.options)
        frames[name] = result.frame
        report[name] = {"path": shown(source.path or sample_path(name)), "files": [shown(f) for f in result.files],
                        "rows": len(result.frame), "skipped": result.skipped,
                        "errors": result.errors[:MAX_ERRORS_REPORTED]}
        if result.skipped:
            print(f"warning: {name}: skipped {result.skipped} malformed row(s); first: {result.errors[0]}",
                  file=sys.stderr)

    paths = save_frames(frames, args.out)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    with tracking.stage_run("ingest", settings.model_dump()):
        import mlflow

        metrics = {}
        for name, row in report.items():
            metrics[tracking.metric_name("rows", name)] = row["rows"]
            metrics[tracking.metric_name("skipped", name)] = row["skipped"]
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(args.report))

    for name, row in report.items():
        print(f"{name}: {row['rows']} rows, {row['skipped']} skipped ← {row['path']} → {paths[name]}")
    print(f"report → {args.report}")
    return 0


if __name__ == "__main__":
    run(main)
