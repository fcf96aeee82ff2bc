"""The one place where a ShopBench question becomes chat messages.

Training (SFT/DPO builders) and evaluation both call ``build_messages``, so a fine-tuned model sees at
test time exactly the prompt layout it was trained on. The layout is the winning system's: a system
message naming the task type, then the question as the user turn, then (for training) the answer.
That layout is the default prompt strategy, ``task-type``; the others (``shoplm.shopbench.prompting``) build on
``build_messages`` with their own system wording or extra turns.
"""

from __future__ import annotations

import re
from typing import Any

from shoplm.shopbench.records import TASK_TYPES

SYSTEM_PROMPT = "You are a helpful online shopping assistant. Your task is {task_type}."

# The task type goes in as the dataset's label ("named_entity_recognition"), the same spelling the
# tiny model's corpus uses (shoplm.modeling.chat_format). The winning system's code spelled two of them
# as phrases ("multiple-choice question answering", "named entity recognition"); after fine-tuning
# the spelling matters little, as long as training and evaluation agree, which this module ensures.

Message = dict[str, str]


def system_prompt(task_type: str) -> str:
    """The system message for one task type."""
    return SYSTEM_PROMPT.format(task_type=TASK_TYPES.check(task_type))


def normalize_input(input_field: str) -> str:
    """Drop spaces before line ends and around the whole prompt.

    ShopBench prompts end in "Output: " or "Answer: " with a trailing space; inside a chat turn that
    space only adds a stray token before the end-of-turn marker (the winning system stripped it too).
    """
    return re.sub(r"[ \t]+\n", "\n", input_field).strip()


def build_messages(input_field: str, task_type: str, answer: str | None = None,
                   system: str | None = None) -> list[Message]:
    """System + user messages for a question; with ``answer``, the assistant turn too (training).

    ``system`` replaces the task-type system prompt (a prompt strategy's own wording, see
    ``shoplm.shopbench.prompting``); the task type is checked either way.
    """
    default = system_prompt(task_type)
    messages = [
        {"role": "system", "content": default if system is None else system},
        {"role": "user", "content": normalize_input(input_field)},
    ]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


def render_chat(tokenizer: Any, messages: list[Message], add_generation_prompt: bool) -> str:
    """The chat as text via the tokenizer's own chat template (ChatML for Qwen2).

    ``add_generation_prompt=True`` for inference (ends with the assistant header), ``False`` for a
    full training example that already holds the assistant turn.
    """
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError(
            f"Tokenizer {type(tokenizer).__name__} has no chat_template; build the model dir with one "
            "(shoplm's tiny model ships a ChatML template)."
        )
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=add_generation_prompt)


def truncate_messages(tokenizer: Any, messages: list[Message], max_input_tokens: int) -> list[Message]:
    """Cut the user turn from the *middle* until the rendered prompt fits ``max_input_tokens``.

    ShopBench puts the instruction at the start of a prompt and the candidates plus the "Output:" cue
    at its end; what runs long is the middle (a product description, a review, a click history). So
    the head and tail are kept and the middle replaced by " ... ". Prompts that already fit, which is
    all of the development set at 3072 tokens, come back unchanged (the same list object).
    """
    def length(candidate: list[Message]) -> int:
        text = render_chat(tokenizer, candidate, add_generation_prompt=True)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    excess = length(messages) - max_input_tokens
    if excess <= 0:
        return messages
    user_index = max(i for i, m in enumerate(messages) if m["role"] == "user")
    ids = tokenizer(messages[user_index]["content"], add_special_tokens=False)["input_ids"]
    slack = 4  # the " ... " marker, plus tokens that merge differently at the two seams
    while (keep := len(ids) - excess - slack) >= 2:
        head = keep // 2
        truncated = [dict(m) for m in messages]
        truncated[user_index]["content"] = (
            tokenizer.decode(ids[:head]) + " ... " + tokenizer.decode(ids[len(ids) - (keep - head) :])
        )
        if length(truncated) <= max_input_tokens:
            return truncated
        slack *= 2  # always cut from the original text, a little more each time
    raise ValueError(
        f"max_input_tokens={max_input_tokens} leaves no room for the question; the system prompt and "
        "chat template alone are about that long."
    )
