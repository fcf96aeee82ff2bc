"""A format probe: does the model answer held-out ShopBench-style questions in the right shape?

Questions come from ``data/corpus/probe_questions.jsonl`` (written with the corpus by its generator, on
a seed the corpus does not use), are rendered with the tokenizer's own chat template
(``add_generation_prompt=True``) and decoded greedily. Per task type the probe counts the answers that
end with ``<|im_end|>``, that have the task's shape (a digit; a permutation of 1-5; comma-separated
indices; a list literal of strings; text with letters) and that equal the reference answer exactly.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from shoplm.modeling.chat_format import IM_END
from shoplm.shopbench.prompts import build_messages
from shoplm.modeling.corpus import DEFAULT_CORPUS_PATH, PROBE_FILE, REGENERATE, read_probe_questions

DEFAULT_PROBE_PATH = DEFAULT_CORPUS_PATH.with_name(PROBE_FILE)
SHAPES = {
    "multiple-choice": re.compile(r"\d"),
    "ranking": re.compile(r"[1-5](,[1-5]){4}"),
    "retrieval": re.compile(r"\d+(,\d+)*"),
    "generation": re.compile(r".*[A-Za-z].*", re.S),
}


def has_shape(task_type: str, answer: str) -> bool:
    """Whether ``answer`` has the task type's shape (a ranking must be a permutation of 1-5)."""
    if task_type == "ranking":
        return SHAPES["ranking"].fullmatch(answer) is not None and len(set(answer.split(","))) == 5
    if task_type == "named_entity_recognition":
        try:
            value = ast.literal_eval(answer)
        except (ValueError, SyntaxError):
            return False
        return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)
    return SHAPES[task_type].fullmatch(answer) is not None


def probe_questions(per_task: int, path: Path | None = None) -> list[tuple[str, str, str]]:
    """The first ``per_task`` held-out (task type, prompt, reference answer) triples of each task type.

    ``path`` defaults to the shipped file, found from any working directory."""
    if path is None:
        in_repository = Path(__file__).resolve().parents[2] / DEFAULT_PROBE_PATH
        path = DEFAULT_PROBE_PATH if DEFAULT_PROBE_PATH.exists() else in_repository
    if not Path(path).is_file():
        raise FileNotFoundError(f"probe questions {path} not found; regenerate them with `{REGENERATE}`")
    taken: dict[str, int] = {}
    chosen = []
    for task_type, prompt, answer in read_probe_questions(path):
        if taken.get(task_type, 0) < per_task:
            taken[task_type] = taken.get(task_type, 0) + 1
            chosen.append((task_type, prompt, answer))
    short = {t: n for t, n in taken.items() if n < per_task}
    if short:
        raise ValueError(f"{path} has fewer than {per_task} probe questions for {sorted(short)}")
    return chosen


@torch.no_grad()
def format_probe(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, per_task: int = 4, max_new_tokens: int = 48,
    path: Path | None = None,
) -> dict:
    """Greedy answers to held-out questions, scored for ending, shape and exact match per task type."""
    questions = probe_questions(per_task, path)
    prompts = [tokenizer.apply_chat_template(build_messages(p, t), tokenize=False, add_generation_prompt=True)
               for t, p, _ in questions]
    side, tokenizer.padding_side = tokenizer.padding_side, "left"
    try:
        batch = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = side
    model.eval()
    output = model.generate(**batch, max_new_tokens=max_new_tokens, do_sample=False,
                            eos_token_id=tokenizer.convert_tokens_to_ids(IM_END), pad_token_id=tokenizer.pad_token_id)
    texts = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1]:], skip_special_tokens=False)
    report: dict[str, dict] = {}
    examples = []
    for (task_type, _, reference), text in zip(questions, texts):
        ended = IM_END in text
        answer = text.split(IM_END)[0].strip()
        row = report.setdefault(task_type, {"n": 0, "ended": 0, "shape": 0, "exact": 0})
        row["n"] += 1
        row["ended"] += ended
        row["shape"] += ended and has_shape(task_type, answer)
        row["exact"] += ended and answer == reference
        examples.append({"task_type": task_type, "reference": reference, "answer": text.split(IM_END)[0]})
    total = {key: sum(row[key] for row in report.values()) for key in ("n", "ended", "shape", "exact")}
    return {"per_task_type": report, "total": total,
            "shape_rate": round(total["shape"] / max(1, total["n"]), 3), "examples": examples[::per_task]}
