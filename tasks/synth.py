"""Stage ``synth``: the Table 7 rows that need an LLM, through an OpenAI-compatible endpoint.

Reads the ``synth`` params section and the ingested source frames, asks the model (a local vLLM server
of ``models/base`` that this stage starts and always stops, or any endpoint named by ``synth.base_url``
with its key in the environment variable ``synth.api_key_env``), validates every reply, assembles
ShopBench questions that score 1.0 with their own gold answer and do not overlap ``data/decontam/*.jsonl``
(the evaluation sets read from files; like ``build``), and writes ``data/synthetic/``:

- ``questions.jsonl``: the accepted questions; ``rows.json``: the LLM row of each (line by line);
- ``report.json``: per row planned/replies/accepted/rejected by reason, the ledger (requests, retries,
  tokens, cost, cache hits), items/s, and the budget limit that stopped the run, if any;
- ``samples.json``: accepted and rejected items for review (MLflow artifact too);
- ``cache.sqlite``: every reply received, so a re-run or a resumed run never re-sends a request.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from contextlib import nullcontext
from pathlib import Path

from shoplm import tracking
from shoplm.builders.frames import load_frames
from shoplm.builders.registry import BUILDERS, get_builder
from shoplm.errors import UserError
from shoplm.params.build import BuildSettings
from shoplm.params.loader import PARAMS_FILE, load_eval_sets, load_section
from shoplm.params.synthesis import SynthSection
from shoplm.shopbench.records import load_questions
from shoplm.synthesis.cache import ResponseCache
from shoplm.synthesis.client import ChatClient
from shoplm.synthesis.ledger import Ledger
from shoplm.synthesis.outputs import write_questions_with_rows
from shoplm.synthesis.runner import plan, synthesize
from shoplm.synthesis.server import vllm_server
from shoplm.synthesis.validate import REASONS
from tasks._runner import run

FRAMES_DIR = Path("data/interim/frames")
EVAL_DIR = Path("data/decontam")
OUT_DIR = Path("data/synthetic")
LOCAL_KEY = "local-vllm-no-key"  # what the launched server is sent: it checks no key


def _api_key(settings: SynthSection) -> str:
    key = os.environ.get(settings.api_key_env, "")
    if not key and not settings.server.launch:
        raise UserError(f"synth.api_key_env: environment variable {settings.api_key_env} is not set "
                        f"(the key of {settings.base_url})")
    return key or LOCAL_KEY


def _few_shot(settings: SynthSection, params: Path) -> list:
    path = settings.few_shot.path
    if not path or settings.few_shot.per_prompt == 0:
        return []
    scored = {Path(p).resolve() for p in load_eval_sets(params).values()}
    if Path(path).resolve() in scored:
        raise UserError(f"{params}: synth.few_shot.path: {path} is an evaluation set being scored (eval_sets); "
                        "few-shot examples must come from elsewhere (the development set when it is not scored)")
    return load_questions(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tasks.synth", description=__doc__,
                                     epilog="LLM rows (synth.rows):\n" + "\n".join(
                                         f"  {n:42s} Table 7 row {s.table7_row}" for n, s in BUILDERS.items()
                                         if s.needs_llm) + "\n\nreject reasons:\n" + "\n".join(
                                         f"  {k:26s} {v}" for k, v in REASONS.items()),
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="params file (default: %(default)s)")
    parser.add_argument("--frames", type=Path, default=FRAMES_DIR, help="frames folder (default: %(default)s)")
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR, help="evaluation sets (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    # DVC and Prefect cancel a stage with SIGTERM: exit through the finally blocks, so the launched
    # server is stopped and every reply received so far stays in the cache.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    settings: SynthSection = load_section(SynthSection, args.params)
    decontam = load_section(BuildSettings, args.params).decontamination
    needed = sorted({frame for name in settings.rows for frame in get_builder(name).frames})
    frames = load_frames(args.frames, needed)
    eval_files = sorted(args.eval_dir.glob("*.jsonl")) if args.eval_dir.is_dir() else []
    if not eval_files:
        print(f"warning: no evaluation sets in {args.eval_dir}/; decontaminating against nothing", file=sys.stderr)
    eval_questions = [q for path in eval_files for q in load_questions(path)]
    few_shot = _few_shot(settings, args.params)
    api_key = _api_key(settings)
    args.out.mkdir(parents=True, exist_ok=True)

    # The cache key names the endpoint; a launched server's port changes every run, so it is keyed by
    # the model it serves instead. A run that will send nothing (all cached, or a request budget of 0:
    # a report of what the cache holds) starts no server at all.
    endpoint = f"local-vllm:{settings.server.model}" if settings.server.launch else settings.base_url
    with ResponseCache(args.out / "cache.sqlite") as cache:
        uncached = sum(cache.get(p.key) is None for p in plan(settings, frames, endpoint, few_shot))
    launch = settings.server.launch and uncached > 0 and settings.budget.max_requests != 0
    server = (vllm_server(settings.server, settings.model, args.out / "server.log") if launch
              else nullcontext(settings.base_url or "http://127.0.0.1:9/v1"))  # never asked: all cached
    ledger = Ledger(settings.prices)
    with server as base_url, ResponseCache(args.out / "cache.sqlite") as cache:
        client = ChatClient(base_url, settings.model, api_key, settings.timeout_s, settings.retries, ledger)
        result = synthesize(settings, frames, client, cache, ledger, endpoint=endpoint,
                            eval_questions=eval_questions, few_shot=few_shot, decontam=decontam,
                            progress=not args.no_progress)

    write_questions_with_rows(args.out, result.questions)
    accepted = len(result.questions)
    report = {"accepted": accepted, "rejected": dict(sorted(result.rejects.items())),
              "rows": {name: dict(sorted(c.items())) for name, c in result.rows.items()},
              "ledger": ledger.to_dict(), "stopped_by_budget": result.stopped_by, "unsent": result.unsent,
              "seconds": round(result.seconds, 2),
              "items_per_second": round(accepted / result.seconds, 3) if result.seconds else None}
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    (args.out / "samples.json").write_text(json.dumps({"accepted": result.accepted_samples,
                                                       "rejected": result.rejected_samples},
                                                      indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

    params = {**settings.model_dump(exclude={"rows"}), "rows": settings.rows}
    with tracking.stage_run("synth", params):
        import mlflow

        name = tracking.metric_name
        metrics = {"accepted": accepted, "seconds": result.seconds, "unsent": result.unsent,
                   **{name("ledger", k): v for k, v in ledger.to_dict().items()},
                   **{name("rejected", k): v for k, v in result.rejects.items()}}
        if report["items_per_second"] is not None:
            metrics["items_per_second"] = report["items_per_second"]
        for row, counts in result.rows.items():
            metrics.update({name("rows", row, k): v for k, v in counts.items()})
        mlflow.log_metrics(metrics)
        mlflow.set_tag("synth.stopped_by_budget", str(result.stopped_by))
        for file in ("report.json", "samples.json"):
            mlflow.log_artifact(str(args.out / file))

    print(f"synth: {accepted} questions accepted from {ledger.requests} requests "
          f"({ledger.cache_hits} answered from the cache), {sum(result.rejects.values())} rejected "
          f"{dict(sorted(result.rejects.items()))}; {ledger.tokens} tokens, cost {ledger.cost:.4f}; "
          f"{report['items_per_second']} items/s")
    if result.stopped_by:
        print(f"budget: stopped at the {result.stopped_by} limit; {result.unsent} requests not sent "
              "(a later run with a larger budget resumes from the cache)")
    print(f"report → {args.out / 'report.json'}")
    return 0


if __name__ == "__main__":
    run(main)
