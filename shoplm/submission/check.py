"""The submission harness: run a package the way the organisers' evaluator does, check and score it.

``check_submission(package, questions)`` imports ``UserModel`` from ``package`` in a fresh process whose
working directory is the package (``driver.py``), groups the questions by task type, slices each group in
batches whose sizes cycle through 1, 7 and 16, and checks every call: no exception, a list of exactly one
string per prompt, and no more than ``seconds_per_sample`` per prompt of the batch (the evaluator's 10 s
rule). The answers are scored with the project's scorer and, given the evaluate stage's predictions for
the same model and questions, compared answer by answer: greedy decoding must reproduce them exactly, and
the first question that differs is named. A shoplm package also says what decodes (``decoding()``: the
backend it chose and the constraints active per answer kind), which the report lists.

A package that cannot be imported or built answers nothing: the result is that one failure (``fatal``),
with no scores of empty answers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import cycle
from pathlib import Path

from shoplm.errors import UserError
from shoplm.shopbench.records import TASK_TYPES, Question
from shoplm.shopbench.scoring import ScoreReport, score

DRIVER = Path(__file__).with_name("driver.py")
DEFAULT_BATCH_SIZES = (1, 7, 16)
SECONDS_PER_SAMPLE = 10.0
LOAD_TIMEOUT_S = 1800.0  # import and UserModel(): the evaluator's image loads a 72B model in minutes


class PackageError(UserError):
    """The folder given is not a submission package (no models/user_config.py)."""


@dataclass(frozen=True)
class Batch:
    number: int
    task_type: str
    is_multiple_choice: bool
    indices: list[int]

    def describe(self) -> str:
        shown = ", ".join(str(i + 1) for i in self.indices[:5]) + (", …" if len(self.indices) > 5 else "")
        count = f"{len(self.indices)} prompt{'s' if len(self.indices) > 1 else ''}"
        return f"batch {self.number + 1} ({self.task_type}, {count}: question{'s' if len(self.indices) > 1 else ''} {shown})"


@dataclass
class CheckResult:
    package: Path
    batches: list[Batch]
    predictions: list[str | None]
    seconds: dict[int, float] = field(default_factory=dict)  # batch number → wall time of its call
    failures: list[str] = field(default_factory=list)
    import_s: float | None = None
    init_s: float | None = None
    batch_size: object = None
    shoplm_file: str | None = None
    report: ScoreReport | None = None
    reference_track5: float | None = None
    differing: int | None = None  # answers that differ from the reference (None: no reference)
    decoding: dict | None = None  # {"backend": name, "constraints": {answer kind: what}}; None: not said
    fatal: str | None = None  # the import or UserModel() failure, one line: nothing was answered

    @property
    def ok(self) -> bool:
        return not self.failures

    def max_seconds_per_sample(self) -> float:
        return max((self.seconds[b.number] / len(b.indices) for b in self.batches if b.number in self.seconds),
                   default=0.0)


def plan_batches(questions: Sequence[Question], sizes: Sequence[int] = DEFAULT_BATCH_SIZES) -> list[Batch]:
    """Questions grouped by task type (official order), each group sliced with sizes cycling through ``sizes``."""
    groups: dict[tuple[str, bool], list[int]] = {}
    for index, question in enumerate(questions):
        groups.setdefault((question.task_type, question.is_multiple_choice), []).append(index)
    batches: list[Batch] = []
    next_size = cycle(sizes)
    for task_type, flag in sorted(groups, key=lambda key: (list(TASK_TYPES).index(key[0]), key[1])):
        indices = groups[(task_type, flag)]
        start = 0
        while start < len(indices):
            size = next(next_size)
            batches.append(Batch(len(batches), task_type, flag, indices[start : start + size]))
            start += size
    return batches


def _child_env() -> dict[str, str]:
    """The evaluator's view: no project on PYTHONPATH, no network for model files."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONUNBUFFERED="1")
    return env


def _run_driver(package: Path, plan: dict, timeout_s: float, workdir: Path) -> tuple[list[dict], int | None, str]:
    """Run the driver in ``package``; its events, its exit code (None: killed at the timeout), its log tail."""
    from tqdm.auto import tqdm

    plan_file, results_file, log_file = workdir / "plan.json", workdir / "results.jsonl", workdir / "driver.log"
    plan_file.write_text(json.dumps(plan, ensure_ascii=False), encoding="utf-8")
    results_file.touch()
    command = [sys.executable, "-c", DRIVER.read_text(encoding="utf-8"), str(plan_file), str(results_file)]
    events: list[dict] = []
    pending = ""  # a record the driver is still writing (a large one arrives in several chunks)
    with log_file.open("w") as log, results_file.open(encoding="utf-8") as results, \
            tqdm(total=len(plan["batches"]), desc="check-submission", unit="batch", leave=False) as bar:
        # A session of its own, so a timeout also ends what the package started (vLLM's engine processes).
        child = subprocess.Popen(command, cwd=package, env=_child_env(), stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True)
        deadline = time.monotonic() + timeout_s
        code: int | None = None
        while True:
            code = child.poll()
            *complete, pending = (pending + results.read()).split("\n")
            for line in filter(None, complete):
                events.append(json.loads(line))
                bar.update(events[-1]["event"] == "batch")
            if code is not None:
                break
            if time.monotonic() > deadline:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
                code = None
                break
            time.sleep(0.1)
    tail = "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-15:])
    return events, code, tail


def _check_batch(batch: Batch, event: dict, seconds_per_sample: float, result: CheckResult) -> None:
    where = batch.describe()
    result.seconds[batch.number] = event["seconds"]
    limit = seconds_per_sample * len(batch.indices)
    if event["seconds"] > limit:
        result.failures.append(f"{where}: took {event['seconds']:.2f} s, over the limit of {limit:g} s "
                               f"({seconds_per_sample:g} s per sample)")
    if event["error"] is not None:
        last = event["error"].strip().splitlines()[-1]
        result.failures.append(f"{where}: batch_predict raised {last}")
        return
    outputs = event["outputs"]
    if isinstance(outputs, dict):
        result.failures.append(f"{where}: batch_predict returned a {outputs['not_a_list']}, not a list: {outputs['repr']}")
        return
    if len(outputs) != len(batch.indices):
        result.failures.append(f"{where}: batch_predict returned {len(outputs)} answers for {len(batch.indices)} prompts")
        return
    for index, output in zip(batch.indices, outputs):
        if isinstance(output, dict):
            result.failures.append(f"{where}: answer to question {index + 1} is not a string but "
                                   f"{output['not_a_string']} {output['repr']}")
        else:
            result.predictions[index] = output


def check_submission(package: Path, questions: Sequence[Question], *, reference: Sequence[str] | None = None,
                     sizes: Sequence[int] = DEFAULT_BATCH_SIZES, seconds_per_sample: float = SECONDS_PER_SAMPLE,
                     load_timeout_s: float = LOAD_TIMEOUT_S) -> CheckResult:
    """Run ``package`` on ``questions`` as the evaluator does; see the module docstring."""
    package = Path(package).resolve()
    if not (package / "models" / "user_config.py").is_file():
        raise PackageError(f"{package}: not a submission package (no models/user_config.py)")
    if reference is not None and len(reference) != len(questions):
        raise UserError(f"the reference has {len(reference)} predictions for {len(questions)} questions")
    batches = plan_batches(questions, sizes)
    result = CheckResult(package, batches, predictions=[None] * len(questions))
    plan = {"prompts": [q.input_field for q in questions],
            "batches": [{"indices": b.indices, "is_multiple_choice": b.is_multiple_choice} for b in batches]}
    with tempfile.TemporaryDirectory(prefix="shoplm-check-") as workdir:
        timeout = load_timeout_s + seconds_per_sample * len(questions)
        events, code, tail = _run_driver(package, plan, timeout, Path(workdir))
    for event in events:
        if event["event"] == "fatal":
            result.fatal = f"{event['stage']} failed: {event['error'].strip().splitlines()[-1]}"
            result.failures.append(result.fatal)
            return result  # nothing was answered: no scores of empty answers, no comparison
        if event["event"] == "ready":
            result.import_s, result.init_s = event["import_s"], event["init_s"]
            result.batch_size, result.shoplm_file = event["batch_size"], event["shoplm_file"]
            result.decoding = event.get("decoding")
            _check_ready(result)
        else:
            _check_batch(batches[event["batch"]], event, seconds_per_sample, result)
    done = sum(event["event"] == "batch" for event in events)
    if code is None:
        result.failures.append(f"the package was stopped after {timeout:.0f} s with {done} of {len(batches)} "
                               f"batches answered (the next: {batches[done].describe() if done < len(batches) else '-'})")
    elif done < len(batches):
        result.failures.append(f"the package's process exited with code {code} after {done} of {len(batches)} "
                               f"batches; its last output:\n{tail}")
    result.report = score(questions, [p or "" for p in result.predictions])
    if reference is not None:
        _compare(result, questions, reference)
    return result


def _check_ready(result: CheckResult) -> None:
    size = result.batch_size
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 16:
        result.failures.append(f"get_batch_size() returned {size!r}; the evaluator needs an int from 1 to 16")
    vendored = result.package / "shoplm"
    if vendored.is_dir() and result.shoplm_file and vendored not in Path(result.shoplm_file).resolve().parents:
        result.failures.append(f"the package imported shoplm from {result.shoplm_file}, not its vendored copy "
                               f"in {vendored}: the evaluation machine has no other")


def _compare(result: CheckResult, questions: Sequence[Question], reference: Sequence[str]) -> None:
    differing = [i for i, (got, want) in enumerate(zip(result.predictions, reference)) if got != want]
    result.differing = len(differing)
    result.reference_track5 = score(questions, list(reference)).track5
    if differing:
        i = differing[0]
        got = result.predictions[i]
        result.failures.append(
            f"{len(differing)} answer(s) differ from the evaluate stage's; the first, question {i + 1} "
            f"({questions[i].task_name}, {questions[i].task_type}): package {got!r}, evaluate {reference[i]!r} "
            f"(Track 5 {result.report.track5:.4f} vs {result.reference_track5:.4f})")  # type: ignore[union-attr]
