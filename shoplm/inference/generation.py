"""Per-task-type generation limits, answer post-processing, and questions → requests.

The limits follow the winning system (``shopbench-eval-spec.md``, "How the winning system formatted its
answers"), widened a little because they assumed constrained decoding (digits and commas only),
which this layer does not do yet:

* multiple-choice, winner 1, here 2: an unconstrained model may open with a space or newline token;
  the parser strips whitespace and reads the first character, so a second token costs nothing.
* ranking, 9 → 12: "1,2,3,4,5" is 9 Qwen2 tokens (digits are single tokens), "1, 2, 3, 4, 5" is 13.
* retrieval, 8 → 10: "12,5,7" is 6 tokens; two-digit indices written with ", " need a few more.
* named_entity_recognition, 15 → 32: answers are spans of a short query or title; 32 covers several
  entities while still cutting off a rambling answer (every extra span is a false positive).
* generation, 50 → 50: then trimmed to whole sentences of about 15 words (``trim_generation``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from typing import Any

from shoplm.inference.backends import GenerationRequest
from shoplm.params.generation import GenerationSettings
from shoplm.shopbench.prompting.strategies import PromptPlan
from shoplm.shopbench.records import TASK_TYPES
from shoplm.shopbench.tasktype import classify_task_type_with_rule

# ---------------------------------------------------------------------------------------------- post-processing

# A sentence ends at . ! ? followed by whitespace or the end, or at a CJK full stop (no space follows
# those). "2.5 inch" and "v1.2" are not ends: no whitespace after the dot.
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|[。！？]+")


def trim_generation(text: str, max_words: int = 15) -> str:
    """Keep whole sentences until the kept text has more than ``max_words`` words.

    The winning system capped generation at 50 tokens and then kept sentences until the answer passed
    about 15 words: the sentence that crosses the limit is kept whole (never cut mid-sentence), later
    ones are dropped. Short references (explanations, keyphrases, titles) reward a short answer
    under ROUGE-L, BLEU and embedding similarity alike. Details:

    * words are whitespace-separated, so a Japanese or Chinese answer (no spaces) counts as few words
      and is rarely trimmed: the 50-token cap bounds it instead;
    * the text between sentences is kept as it was (no re-joining), so newlines survive; BLEU reads
      only the first line anyway;
    * a text without a sentence end, or whose first sentences stay under the limit, comes back whole
      (stripped), including an unfinished last sentence cut off by the token cap.
    """
    text = text.strip()
    for match in _SENTENCE_END.finditer(text):
        end = match.end()
        if end < len(text) and len(text[:end].split()) > max_words:
            return text[:end]
    return text


_INDEX_LIST = re.compile(r"[\[(]?\s*\d+(?:\s*[,;\s]\s*\d+)*\s*[\])]?\.?")


def postprocess_prediction(text: str, task_type: str, settings: GenerationSettings | None = None) -> str:
    """Tidy a raw completion into the shape the official parser reads best.

    * ranking / retrieval: a bare list of numbers written with newlines or spaces ("6\\n9\\n15",
      "1 2 3", which the parser would read as [6915] and []) is rewritten with commas; anything else is
      only stripped;
    * named_entity_recognition: a Python list literal is kept whole; otherwise only the first
      non-empty line, because the parser does not split on newlines and a second line is all false
      positives;
    * generation: ``trim_generation``;
    * multiple-choice: stripped (the parser reads the first character).
    """
    settings = settings or GenerationSettings()
    stripped = text.strip()
    if task_type in ("ranking", "retrieval"):
        if _INDEX_LIST.fullmatch(stripped):
            return ",".join(re.findall(r"\d+", stripped))
        return stripped
    if task_type == "named_entity_recognition":
        try:
            value = ast.literal_eval(stripped)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return stripped
        return next((line.strip() for line in stripped.splitlines() if line.strip()), "")
    if task_type == "generation":
        return trim_generation(stripped, settings.generation_max_words)
    return stripped


# ---------------------------------------------------------------------------------------------- requests


def question_field(question: Any, name: str, default: Any = None) -> Any:
    """Read a field from a Question object or a plain dict (duck typing: records.Question or JSON)."""
    if isinstance(question, Mapping):
        return question.get(name, default)
    return getattr(question, name, default)


def build_requests(
    questions: Iterable[Any],
    settings: GenerationSettings | None = None,
    classify: bool = True,
    adapter: str | None = None,
    prompts: PromptPlan | None = None,
) -> list[GenerationRequest]:
    """One request per question, in order.

    With ``classify=True`` (evaluation) the task type is *predicted* from ``input_field`` and
    ``is_multiple_choice``, the only fields a hidden test set has; ``classify=False`` uses the gold
    ``task_type`` (for ablations: how much does a wrong guess cost?). ``metadata`` records the
    question's index, the classifier rule that fired (``"gold"`` when not classifying) and the prompt
    strategy. ``prompts`` defaults to ``settings.prompts``, with the k-shot example set checked against
    these questions.
    """
    settings = settings or GenerationSettings()
    questions = list(questions)
    prompts = prompts or PromptPlan.from_settings(settings.prompts, evaluated=questions)
    requests = []
    for index, question in enumerate(questions):
        input_field = question_field(question, "input_field")
        if input_field is None:
            raise ValueError(f"question {index} has no input_field")
        if classify:
            task_type, rule = classify_task_type_with_rule(
                input_field, bool(question_field(question, "is_multiple_choice", False))
            )
        else:
            task_type, rule = question_field(question, "task_type"), "gold"
            if task_type not in TASK_TYPES:
                raise ValueError(f"question {index} has no valid gold task_type ({task_type!r})")
        strategy = prompts[task_type]
        requests.append(
            GenerationRequest(
                messages=strategy.messages(input_field, task_type),
                task_type=task_type,
                max_new_tokens=strategy.max_new_tokens(task_type, settings.limit_for(task_type)),
                adapter=adapter,
                metadata={"index": index, "rule": rule, "prompt_strategy": strategy.name},
            )
        )
    return requests
