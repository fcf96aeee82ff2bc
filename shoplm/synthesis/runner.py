"""One synthesis run: plan the requests, answer what the cache holds, send the rest with bounded
concurrency under the budget, then validate, assemble, self-score and decontaminate.

Every reply is cached the moment it arrives (before it is validated), so a run killed at any point and
started again re-sends only the requests that never got a reply, and a finished run started again sends
none. Requests are planned in a seeded order, so the resumed run asks for the same records.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from tqdm import tqdm

from shoplm.builders.decontam import decontaminate
from shoplm.builders.mixtures import builder_seed
from shoplm.builders.registry import get_builder
from shoplm.params.build import DecontamSettings
from shoplm.params.synthesis import SynthSection
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.records import Question
from shoplm.shopbench.scoring import score
from shoplm.synthesis.assembly import ASSEMBLERS, AssembleContext, Item
from shoplm.synthesis.cache import Reply, ResponseCache, request_key
from shoplm.synthesis.client import ChatClient, RequestFailed
from shoplm.synthesis.ledger import Ledger, budget_stop
from shoplm.synthesis.sources import few_shot_block, source_records
from shoplm.synthesis.templates import get_template
from shoplm.synthesis.validate import Rejected, parse_reply

SELF_SCORE_TOLERANCE = 1e-6


@dataclass
class Planned:
    row: str
    position: int
    record: Mapping[str, Any]
    messages: list[dict[str, str]]
    sampling: dict[str, Any]
    response_format: dict[str, Any] | None
    key: str


@dataclass
class SynthResult:
    questions: list[tuple[str, Question]] = field(default_factory=list)   # (row, question), in plan order
    rejects: Counter = field(default_factory=Counter)                      # reason → count
    rows: dict[str, Counter] = field(default_factory=dict)                 # row → planned/replies/accepted/…
    accepted_samples: list[dict[str, Any]] = field(default_factory=list)
    rejected_samples: list[dict[str, Any]] = field(default_factory=list)
    stopped_by: str | None = None                                          # the budget limit reached, if any
    unsent: int = 0                                                        # planned requests never sent
    seconds: float = 0.0


def plan(settings: SynthSection, frames: Mapping[str, pd.DataFrame], endpoint: str,
         few_shot: Sequence[Question] = ()) -> list[Planned]:
    """Every request of the run, in a seeded order (row by row, records shuffled per row)."""
    planned: list[Planned] = []
    for name, wanted in settings.rows.items():
        spec, row = get_builder(name), get_template(name)
        rng = random.Random(builder_seed(settings.seed, name))
        records = source_records(row, spec.frames, frames, wanted, rng)
        schema_format = {"type": "json_schema",
                         "json_schema": {"name": row.assembler, "schema": dict(row.schema), "strict": True}}
        response_format = schema_format if settings.structured_output else None
        for position, record in enumerate(records):
            shots = (few_shot_block(few_shot, spec.task_type, settings.few_shot.per_prompt, rng)
                     if row.wants_few_shot else "")
            messages = [{"role": "user", "content": row.render(record, shots)}]
            sampling = {**settings.sampling.model_dump(), "seed": settings.sampling.seed + position}
            key = request_key(endpoint, settings.model, messages, sampling, response_format)
            planned.append(Planned(name, position, record, messages, sampling, response_format, key))
    return planned


def fetch(planned: Sequence[Planned], client: ChatClient, cache: ResponseCache, settings: SynthSection,
          ledger: Ledger, progress: bool = True) -> tuple[dict[str, Reply | RequestFailed], str | None, int]:
    """Replies by request key: cached ones first, the rest sent at most ``concurrency`` at a time until
    the budget stops new requests. Returns (replies, the limit that stopped the run or None, unsent)."""
    results: dict[str, Reply | RequestFailed] = {}
    todo: list[Planned] = []
    for request in planned:
        if request.key in results:
            continue
        hit = cache.get(request.key)
        if hit is not None:
            ledger.record_hit()
            results[request.key] = hit
        elif request.key not in {t.key for t in todo}:
            todo.append(request)
    stopped_by, started = None, 0
    bar = tqdm(total=len(todo), desc="synth requests", disable=not progress, leave=False)
    with ThreadPoolExecutor(max_workers=settings.concurrency) as pool:
        in_flight: dict[Future, Planned] = {}
        queue = list(todo)
        while queue or in_flight:
            while queue and len(in_flight) < settings.concurrency and stopped_by is None:
                stopped_by = budget_stop(settings.budget, ledger, started)
                if stopped_by is not None:
                    break
                request = queue.pop(0)
                started += 1
                future = pool.submit(client.complete, request.messages, settings.sampling,
                                     request.sampling["seed"], request.response_format)
                in_flight[future] = request
            if not in_flight:
                break
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                request = in_flight.pop(future)
                try:
                    reply = future.result()
                except RequestFailed as exc:
                    ledger.record_failure()
                    results[request.key] = exc
                else:
                    cache.put(request.key, reply)  # committed now: a kill after this loses nothing
                    ledger.record_reply(reply)
                    results[request.key] = reply
                bar.update(1)
            if stopped_by is None:
                stopped_by = budget_stop(settings.budget, ledger, started)
    bar.close()
    return results, stopped_by, len(queue)


def _sample(row: str, text: str, detail: str) -> dict[str, Any]:
    return {"row": row, "text": text[:2000], "detail": detail[:500]}


def synthesize(settings: SynthSection, frames: Mapping[str, pd.DataFrame], client: ChatClient,
               cache: ResponseCache, ledger: Ledger, *, endpoint: str, eval_questions: Sequence[Question] = (),
               few_shot: Sequence[Question] = (), decontam: DecontamSettings | None = None,
               progress: bool = True) -> SynthResult:
    start = time.perf_counter()
    result = SynthResult()
    planned = plan(settings, frames, endpoint, few_shot)
    replies, result.stopped_by, result.unsent = fetch(planned, client, cache, settings, ledger, progress)
    candidates: list[tuple[str, Question]] = []
    for name, wanted in settings.rows.items():
        counts = result.rows[name] = Counter(planned=sum(p.row == name for p in planned))
        items: list[Item] = []
        for request in (p for p in planned if p.row == name and p.key in replies):
            reply = replies[request.key]
            if isinstance(reply, RequestFailed):
                _reject(result, name, Rejected("request_failed", str(reply)), "")
                continue
            counts["replies"] += 1
            try:
                items.append(Item(request.position, request.record,
                                  parse_reply(reply, get_template(name).schema, settings.max_text_chars)))
            except Rejected as exc:
                _reject(result, name, exc, reply.text)
        ctx = AssembleContext(get_builder(name), get_template(name),
                              random.Random(builder_seed(settings.seed, f"{name}:assemble")), frames, wanted)
        made = 0
        for _, outcome in ASSEMBLERS.get(get_template(name).assembler)(items, ctx):
            if isinstance(outcome, Rejected):
                _reject(result, name, outcome, "")
            elif made < wanted:
                made += 1
                candidates.append((name, outcome))
    kept = _self_scoring(candidates, result)
    cleaned = decontaminate([q for _, q in kept], eval_questions, decontam, [n for n, _ in kept], progress=progress)
    kept_set = set(cleaned.kept_indices)
    for position, (name, question) in enumerate(kept):
        if position in kept_set:
            result.questions.append((name, question))
            result.rows[name]["accepted"] += 1
            if len(result.accepted_samples) < settings.sample_items:
                result.accepted_samples.append(_sample(name, question.input_field, render_gold(question)))
        else:
            _reject(result, name, Rejected("contaminated"), question.input_field)
    result.seconds = time.perf_counter() - start
    return result


def _reject(result: SynthResult, row: str, exc: Rejected, text: str, limit: int = 20) -> None:
    result.rejects[exc.reason] += 1
    result.rows[row]["rejected"] += 1
    result.rows[row][f"rejected/{exc.reason}"] += 1
    if len(result.rejected_samples) < limit:
        result.rejected_samples.append({**_sample(row, text, exc.detail), "reason": exc.reason})


def _self_scoring(candidates: list[tuple[str, Question]], result: SynthResult) -> list[tuple[str, Question]]:
    """The questions whose gold answer, rendered as a model would write it, scores 1.0; duplicates dropped."""
    unique: dict[str, tuple[str, Question]] = {}
    for name, question in candidates:
        unique.setdefault(question.input_field, (name, question))
    pairs = list(unique.values())
    if not pairs:
        return []
    report = score([q for _, q in pairs], [render_gold(q) for _, q in pairs])
    kept = []
    for (name, question), sample in zip(pairs, report.samples):
        value = sample["score"][0] if isinstance(sample["score"], list) else sample["score"]
        if value >= 1 - SELF_SCORE_TOLERANCE:
            kept.append((name, question))
        else:
            _reject(result, name, Rejected("not_self_scoring", f"score {value}"), question.input_field)
    return kept
