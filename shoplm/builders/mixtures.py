"""Named training mixtures (the seed's adapters v7, v8, v7b, v9b): build, decontaminate, shuffle, write.

A :class:`~shoplm.params.build.MixtureSpec` gives rows per builder and a seed. Each builder runs
with its own RNG, seeded from (seed, builder name), so adding or resizing one builder leaves the
others' questions unchanged. A builder that yields fewer rows than requested (small samples) is not an
error: the shortfall is recorded in the manifest. The same spec on the same frames and evaluation
questions gives byte-identical ``train.jsonl``, ``manifest.json``, ``examples.md`` and ``tasktype.md``:
wall-clock figures go to ``metrics.json`` only, so a forced rebuild with identical results changes no
output that another stage depends on.

Manifest (``manifest.json``): counts per builder (requested, produced, duplicates skipped, dropped by
decontamination, kept, shortfall), per task type, per track and per language, the decontamination
summary with a few dropped examples, and the seed.

Held-out slices (``MixtureSpec.heldout``, slice name → questions): evaluation questions drawn from the
mixture's own builders, which its training rows never include. Each slice is shared among the builders
(largest remainders) in proportion to their weight in Track 5, which gives the least variance of the
slice's Track 5 score (:func:`heldout_allocation`), or to their training rows (``heldout_allocation:
rows``). A builder is asked for its training rows plus :data:`HELDOUT_DRAW` times its held-out share;
the first rows it yields are the training rows, exactly those it yields without held-out slices (a
builder's stream does not depend on how many questions it is asked for), and the rest are held-out
candidates. A candidate is dropped when it
overlaps an evaluation set, or the kept training rows, by the same test as training decontamination
(:func:`shoplm.builders.decontam.decontaminate`: the same text, or at least ``threshold`` of its content
n-grams); the survivors fill the slices in stream order, in the order the slices are listed, so slices
are disjoint by construction. A builder with fewer survivors than its share gives each slice a
proportional part of what it has (the shortfall is in the manifest's ``heldout`` entry). Each slice is
shuffled with the seed and written to ``heldout/<slice>.jsonl``; ``heldout_sets`` in params.yaml name
them as evaluation sets. Metrics (``metrics.json``): the task-type
classifier's accuracy on the kept questions, overall and per builder (their gold type is known, see
:mod:`shoplm.shopbench.tasktype_report`), and seconds and rows per second per builder.

Languages are guessed per question by a script-and-stopword heuristic (:func:`detect_language`):
``ja`` when the text holds kana or kanji; else ``es`` / ``de`` / ``fr`` / ``it`` when at least
:data:`MIN_LANGUAGE_SCORE` hits of that language's common words and accented letters are found (the
language with most hits wins); else ``en``. It labels the manifest only; nothing is filtered on it.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from shoplm.builders.decontam import DecontamResult, decontaminate
from shoplm.builders.registry import BuildContext, get_builder
from shoplm.params.build import DecontamSettings, MixtureSpec
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.records import TRACK_SHORT_NAMES, Question, write_questions
from shoplm.shopbench.tasktype_report import classifier_report, confusion_markdown

EXAMPLES_PER_BUILDER = 2
MIN_LANGUAGE_SCORE = 3
HELDOUT_DRAW = 2  # held-out candidates asked of a builder per held-out question: spares for decontamination drops
HELDOUT_DIR = "heldout"
_JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff66-\uff9f]")
_WORD = re.compile(r"[^\W\d_]+")
_LANGUAGE_HINTS: dict[str, tuple[frozenset[str], str]] = {  # common words, letters used by few others
    "es": (frozenset("de la el los las del para con una por y es al su sin más muy también como en".split()),
           "ñ¿¡"),
    "de": (frozenset("der die das und mit für ist nicht ein eine den dem auf zu von sie auch".split()),
           "ßäöü"),
    "fr": (frozenset("de la le les des du et pour avec une est dans sur au aux pas ce cette vous en".split()),
           "çœèêâ"),
    "it": (frozenset("la il della di per che non sono gli delle nel alla anche questo è".split()), "òì"),
}


def detect_language(text: str) -> str:
    """ja / es / de / fr / it / en by the heuristic in the module docstring."""
    if _JAPANESE.search(text):
        return "ja"
    lowered = text.casefold()
    found = _WORD.findall(lowered)
    scores = {lang: sum(w in stop for w in found) + sum(lowered.count(c) for c in letters)
              for lang, (stop, letters) in _LANGUAGE_HINTS.items()}
    best = max(scores, key=lambda lang: (scores[lang], lang))
    return best if scores[best] >= MIN_LANGUAGE_SCORE else "en"


def builder_seed(seed: int, name: str) -> int:
    """The RNG seed of one builder: stable across processes and Python versions."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:8], "big")


@dataclass
class MixtureResult:
    name: str
    questions: list[Question]                 # decontaminated and shuffled
    manifest: dict[str, Any]
    examples: dict[str, list[Question]]       # the first kept questions of each builder
    decontamination: DecontamResult
    tasktype: dict[str, Any]                  # the task-type classifier on the kept questions, per builder
    timing: dict[str, dict[str, float | None]]  # wall-clock seconds and rows per second per builder
    heldout: dict[str, list[Question]] = field(default_factory=dict)  # slice → its questions, shuffled


def _run_builder(name: str, rows: int, seed: int, frames: Mapping[str, pd.DataFrame], extra: int = 0
                 ) -> tuple[list[Question], list[Question], int, float]:
    """(the first ``rows`` distinct questions, up to ``extra`` more after them, duplicates skipped among
    the first, seconds)."""
    spec = get_builder(name)
    missing = [f for f in spec.input_frames if f not in frames]
    if missing and spec.needs_llm:
        raise KeyError(f"builder {name!r} (Table 7 row {spec.table7_row}) needs an LLM: its questions come from "
                       f"the synth stage's data/synthetic/ (run `dvc repro synth` first)")
    if missing:
        raise KeyError(f"builder {name!r} needs source frame(s) {missing}; ingested: {sorted(frames)} "
                       f"(add them to the ingest section of params.yaml)")
    context = BuildContext(frames=frames, rng=random.Random(builder_seed(seed, name)), limit=rows + extra)
    made: list[Question] = []
    seen: set[str] = set()
    duplicates = 0
    start = time.perf_counter()
    for question in spec.build(context):
        if not isinstance(question, Question):
            raise TypeError(f"builder {name!r} yielded {type(question).__name__}, not a Question")
        if question.input_field in seen:
            duplicates += len(made) < rows
            continue
        seen.add(question.input_field)
        made.append(question)
        if len(made) >= rows + extra:
            break
    return made[:rows], made[rows:], duplicates, time.perf_counter() - start


def largest_remainder(total: int, weights: Mapping[str, int | float]) -> dict[str, int]:
    """``total`` split in proportion to ``weights``, summing to ``total``: floors, then one more to the
    largest remainders (ties: the larger weight, then the name)."""
    weight_sum = sum(weights.values())
    if total <= 0 or weight_sum <= 0:
        return {key: 0 for key in weights}
    exact = {key: total * w / weight_sum for key, w in weights.items()}
    out = {key: int(value) for key, value in exact.items()}
    order = sorted(weights, key=lambda k: (-(exact[k] - out[k]), -weights[k], k))
    for key in order[: total - sum(out.values())]:
        out[key] += 1
    return out


def track5_weights(builders: Sequence[str]) -> dict[str, float]:
    """Each builder's weight in a Track 5 score of its questions (task = builder): 1 / (tracks present x
    builders of its track), since Track 5 is the mean over tracks of the mean over their tasks."""
    tracks = {name: get_builder(name).track for name in builders}
    per_track = Counter(tracks.values())
    return {name: 1 / (len(per_track) * per_track[tracks[name]]) for name in builders}


def heldout_allocation(spec: MixtureSpec) -> dict[str, dict[str, int]]:
    """Slice → builder → questions wanted (``spec.heldout_allocation``). ``track5``: in proportion to each
    builder's Track 5 weight. A task's question count does not move the expected macro score, only its
    variance, and with equal per-question variances sum(w_t^2 / n_t) is least for n_t proportional to w_t
    (Neyman allocation): a 5-question task in a track of two would otherwise set most of the interval.
    ``rows``: in proportion to the training rows."""
    weights = track5_weights(sorted(spec.builders)) if spec.heldout_allocation == "track5" else spec.builders
    return {name: largest_remainder(size, weights) for name, size in spec.heldout.items()}


def _split_heldout(spec: MixtureSpec, candidates: list[Question], groups: list[str],
                   eval_questions: Sequence[Question], training: Sequence[Question], decontam: DecontamSettings,
                   progress: bool) -> tuple[dict[str, list[Question]], dict[str, Any]]:
    """The held-out slices (module docstring) and their manifest entry."""
    allocation = heldout_allocation(spec)
    vs_eval = decontaminate(candidates, eval_questions, decontam, groups, progress=progress)
    after_eval = [groups[i] for i in vs_eval.kept_indices]
    vs_train = decontaminate(vs_eval.kept, training, decontam, after_eval, progress=progress, large_reference=True)
    survivors: dict[str, list[Question]] = {builder: [] for builder in sorted(spec.builders)}
    for question, i in zip(vs_train.kept, vs_train.kept_indices):
        survivors[after_eval[i]].append(question)
    slices: dict[str, list[Question]] = {name: [] for name in spec.heldout}
    builders: dict[str, dict[str, int]] = {}
    for builder, available in survivors.items():
        shares = {name: allocation[name][builder] for name in spec.heldout}
        wanted = sum(shares.values())
        if len(available) < wanted:
            shares = largest_remainder(len(available), shares)
        start = 0
        for name, count in shares.items():
            slices[name] += available[start:start + count]
            start += count
        builders[builder] = {"wanted": wanted, "drawn": groups.count(builder),
                             "dropped_decontamination": vs_eval.dropped.get(builder, 0),
                             "dropped_training_overlap": vs_train.dropped.get(builder, 0),
                             "kept": start, "shortfall": max(wanted - start, 0)}
    for name, questions in slices.items():
        random.Random(builder_seed(spec.seed, f"<heldout:{name}>")).shuffle(questions)
    manifest = {
        "slices": {name: {"requested": spec.heldout[name], "questions": len(questions),
                          "builders": dict(sorted(Counter(q.task_name for q in questions).items())),
                          "task_types": dict(sorted(Counter(q.task_type for q in questions).items())),
                          "tracks": dict(sorted(Counter(TRACK_SHORT_NAMES[q.track] for q in questions).items()))}
                   for name, questions in slices.items()},
        "builders": builders,
        "draw": HELDOUT_DRAW,
        "decontamination": {"evaluation_sets": vs_eval.to_dict(), "training_rows": vs_train.to_dict()},
    }
    return slices, manifest


def build_mixture(spec: MixtureSpec, frames: Mapping[str, pd.DataFrame], eval_questions: Sequence[Question],
                  decontam: DecontamSettings | None = None, *, name: str = "", progress: bool = False
                  ) -> MixtureResult:
    """Build every builder of ``spec``, decontaminate against ``eval_questions``, shuffle with the seed."""
    decontam = decontam or DecontamSettings()
    questions: list[Question] = []
    groups: list[str] = []
    rows: dict[str, dict[str, Any]] = {}
    timing: dict[str, dict[str, float]] = {}
    allocation = heldout_allocation(spec)
    wanted = {builder: sum(shares[builder] for shares in allocation.values()) for builder in spec.builders}
    candidates: list[Question] = []
    candidate_groups: list[str] = []
    for builder in tqdm(sorted(spec.builders), desc=f"build {name}".strip(), disable=not progress, leave=False):
        made, spare, duplicates, seconds = _run_builder(builder, spec.builders[builder], spec.seed, frames,
                                                        extra=HELDOUT_DRAW * wanted[builder])
        questions += made
        groups += [builder] * len(made)
        candidates += spare
        candidate_groups += [builder] * len(spare)
        info = get_builder(builder)
        rows[builder] = {"table7_row": info.table7_row, "task_type": info.task_type,
                         "track": TRACK_SHORT_NAMES[info.track], "requested": spec.builders[builder],
                         "produced": len(made), "duplicates_skipped": duplicates}
        timing[builder] = {"seconds": round(seconds, 4),
                           "rows_per_second": round(len(made) / seconds, 1) if seconds > 0 else None}

    cleaned = decontaminate(questions, eval_questions, decontam, groups, progress=progress)
    kept_groups = [groups[i] for i in cleaned.kept_indices]
    order = list(range(len(cleaned.kept)))
    random.Random(builder_seed(spec.seed, "<shuffle>")).shuffle(order)
    final = [cleaned.kept[i] for i in order]
    tasktype = classifier_report(cleaned.kept, kept_groups)

    kept_per_builder = Counter(kept_groups)
    for builder, info in rows.items():
        info["dropped_decontamination"] = cleaned.dropped.get(builder, 0)
        info["kept"] = kept_per_builder[builder]
        info["shortfall"] = max(info["requested"] - info["produced"], 0)
    examples: dict[str, list[Question]] = {}
    for question, group in zip(cleaned.kept, kept_groups):
        if len(examples.setdefault(group, [])) < EXAMPLES_PER_BUILDER:
            examples[group].append(question)

    manifest = {
        "mixture": name,
        "seed": spec.seed,
        "rows": len(final),
        "requested": sum(spec.builders.values()),
        "builders": rows,
        "task_types": dict(sorted(Counter(q.task_type for q in final).items())),
        "tracks": dict(sorted(Counter(TRACK_SHORT_NAMES[q.track] for q in final).items())),
        "languages": dict(sorted(Counter(detect_language(q.input_field) for q in final).items())),
        "decontamination": {**cleaned.to_dict(), "settings": decontam.model_dump()},
    }
    heldout: dict[str, list[Question]] = {}
    if spec.heldout:  # only then: a mixture without slices keeps its manifest byte for byte
        heldout, manifest["heldout"] = _split_heldout(spec, candidates, candidate_groups, eval_questions,
                                                      cleaned.kept, decontam, progress)
    return MixtureResult(name, final, manifest, examples, cleaned, tasktype, timing, heldout)


def examples_markdown(result: MixtureResult) -> str:
    """A short review table: the first questions of each builder with their gold answer text."""
    lines = [f"# Mixture {result.name or '(unnamed)'}: examples per builder", ""]
    for builder in sorted(result.examples):
        info = result.manifest["builders"][builder]
        lines += [f"## {builder} (Table 7 row {info['table7_row']}, {info['task_type']}, {info['kept']} rows)", ""]
        for question in result.examples[builder]:
            lines += ["```text", question.input_field.rstrip(), "```",
                      f"gold: `{json.dumps(question.output_field, ensure_ascii=False)}` → model text: "
                      f"`{render_gold(question)}`", ""]
    return "\n".join(lines)


def mixture_metrics(result: MixtureResult) -> dict[str, Any]:
    """What ``metrics.json`` holds: the classifier's accuracy and the builders' speed."""
    return {"tasktype": {"overall": result.tasktype["overall"], "without_flag": result.tasktype["without_flag"],
                         "builders": {name: {k: row[k] for k in ("n", "correct", "accuracy")}
                                      for name, row in result.tasktype["per_group"].items()}},
            "timing": result.timing}


def _write_json(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_mixture(result: MixtureResult, out_dir: str | Path) -> dict[str, Path]:
    """Write train.jsonl, manifest.json, examples.md, tasktype.md and metrics.json into ``out_dir``, and
    ``heldout/<slice>.jsonl`` per held-out slice (the folder always exists, empty without slices; a slice
    file of an earlier build that this one has not is removed)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    heldout_dir = out / HELDOUT_DIR
    heldout_dir.mkdir(exist_ok=True)
    for stale in heldout_dir.glob("*.jsonl"):
        if stale.stem not in result.heldout:
            stale.unlink()
    paths = {name: out / file for name, file in (("train", "train.jsonl"), ("manifest", "manifest.json"),
                                                 ("examples", "examples.md"), ("tasktype", "tasktype.md"),
                                                 ("metrics", "metrics.json"))}
    write_questions(paths["train"], result.questions)
    _write_json(paths["manifest"], result.manifest)
    paths["examples"].write_text(examples_markdown(result), encoding="utf-8")
    title = f"Task-type classifier on mixture {result.name or '(unnamed)'} (gold types from the builders)"
    paths["tasktype"].write_text(confusion_markdown(result.tasktype, title), encoding="utf-8")
    _write_json(paths["metrics"], mixture_metrics(result))
    for name, questions in result.heldout.items():
        paths[f"heldout/{name}"] = heldout_dir / f"{name}.jsonl"
        write_questions(paths[f"heldout/{name}"], questions)
    return paths
