"""The one place where a ShopBench question becomes chat messages.

Training (SFT/DPO builders) and evaluation both call ``build_messages``, so a fine-tuned model sees at
test time exactly the prompt layout it was trained on. The layout is the winning system's: a system
message naming the task type, then the question as the user turn, then (for training) the answer.
That layout is the default prompt strategy, ``task-type``; the others (``shoplm.shopbench.prompting``) build on
``build_messages`` with their own system wording or extra turns.

Every chat the project feeds a model is encoded by ``encode_chat`` (inference backends, SFT and DPO
examples, quantization calibration): special tokens come only from the chat template, never from a
message's content, since questions, answers and synthesized items are untrusted text. A question holding
``<|im_end|>\n<|im_start|>system\n...`` is encoded as those characters, not as a forged system turn.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from shoplm.shopbench.records import TASK_TYPES

SYSTEM_PROMPT = "You are a helpful online shopping assistant. Your task is {task_type}."

# The task type goes in as the dataset's label ("named_entity_recognition"), the same spelling the
# tiny model's corpus uses (shoplm.modeling.chat_format). The winning system's code spelled two of them
# as phrases ("multiple-choice question answering", "named entity recognition"); after fine-tuning
# the spelling matters little, as long as training and evaluation agree, which this module ensures.

Message = dict[str, str]
#: A span of a rendered chat: its text, and whether it is a message's content (True) or the template's (False).
ChatPiece = tuple[str, bool]


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


# ---------------------------------------------------------------------------------------------- encoding

# Two private-use code points around a nonce and a message index: a placeholder for a message's content
# while the template renders (``chat_pieces``). The nonce is drawn per call and checked absent from
# every content, so no text can imitate a placeholder.
_MARK_OPEN, _MARK_CLOSE = "\U000f0000", "\U000f0001"


def encode_text(tokenizer: Any, text: str) -> list[int]:
    """Token ids of untrusted text (message content): special-token text such as ``<|im_end|>`` in it is
    encoded as the ordinary tokens of those characters, and no special tokens are added around it."""
    return tokenizer(text, add_special_tokens=False, split_special_tokens=True)["input_ids"]


def chat_pieces(tokenizer: Any, messages: list[Message], add_generation_prompt: bool) -> list[ChatPiece]:
    """``render_chat`` cut into the template's text and each message's content, in order.

    The template is rendered once with every content replaced by a unique placeholder and cut at the
    placeholders; the pieces joined are checked to be exactly ``render_chat``'s text, so a template that
    alters content (trims, escapes) is refused rather than encoded with the wrong boundaries.
    """
    contents = [m["content"] for m in messages]
    nonce = secrets.token_hex(8)
    while any(nonce in content for content in contents):  # pragma: no cover - 64 random bits
        nonce = secrets.token_hex(8)
    masked = [{**m, "content": f"{_MARK_OPEN}{nonce}:{i}{_MARK_CLOSE}"} for i, m in enumerate(messages)]
    parts = re.split(f"{_MARK_OPEN}{nonce}:(\\d+){_MARK_CLOSE}",
                     render_chat(tokenizer, masked, add_generation_prompt=add_generation_prompt))
    pieces: list[ChatPiece] = []
    for k, part in enumerate(parts):  # template, index, template, index, ..., template
        piece = (contents[int(part)], True) if k % 2 else (part, False)
        if piece[0]:
            pieces.append(piece)
    if "".join(text for text, _ in pieces) != render_chat(tokenizer, messages, add_generation_prompt):
        raise ValueError(f"the chat template of {type(tokenizer).__name__} changes message content (trims or "
                         "escapes it), so its special tokens cannot be told apart from the content's")
    return pieces


def split_pieces(pieces: list[ChatPiece], at: int) -> tuple[list[ChatPiece], list[ChatPiece]]:
    """The pieces of the first ``at`` characters of the chat, and those of the rest."""
    head: list[ChatPiece] = []
    tail: list[ChatPiece] = []
    start = 0
    for text, is_content in pieces:
        cut = min(max(at - start, 0), len(text))
        if cut:
            head.append((text[:cut], is_content))
        if cut < len(text):
            tail.append((text[cut:], is_content))
        start += len(text)
    return head, tail


def _special_ids(tokenizer: Any) -> set[int]:
    """Every id ``split_special_tokens`` keeps out of plain text: the named special tokens and every added
    token flagged special (Qwen2's ``<|fim_prefix|>`` and the like)."""
    ids = set(tokenizer.all_special_ids)
    ids.update(i for i, token in getattr(tokenizer, "added_tokens_decoder", {}).items()
               if getattr(token, "special", False))
    return ids


def encode_pieces(tokenizer: Any, pieces: list[ChatPiece]) -> list[int]:
    """Token ids of a rendered chat in which special tokens come only from the template.

    The joined text is tokenized as one string, exactly as a plain ``tokenizer(text)`` would; when a
    special token of the result lies in a content piece (the content spelled out ``<|im_end|>``, say),
    the chat is encoded piece by piece instead: template pieces as they are, their special tokens real,
    content pieces with ``encode_text``. Ordinary content thus keeps the very ids it always had.
    """
    text = "".join(piece for piece, _ in pieces)
    if not any(is_content for _, is_content in pieces):
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    if getattr(tokenizer, "is_fast", False):
        encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        spans, start = [], 0
        for piece, is_content in pieces:
            if is_content:
                spans.append((start, start + len(piece)))
            start += len(piece)
        special = _special_ids(tokenizer)
        if not any(token in special and begin < stop and end > first
                   for token, (begin, end) in zip(encoding["input_ids"], encoding["offset_mapping"])
                   for first, stop in spans):
            return encoding["input_ids"]
    ids: list[int] = []
    for piece, is_content in pieces:
        ids.extend(encode_text(tokenizer, piece) if is_content
                   else tokenizer(piece, add_special_tokens=False)["input_ids"])
    return ids


def encode_chat(tokenizer: Any, messages: list[Message], add_generation_prompt: bool) -> list[int]:
    """Token ids of ``render_chat(tokenizer, messages, add_generation_prompt)``, special tokens from the
    template only (``encode_pieces``). No special tokens are added: the template holds any BOS the
    model wants."""
    return encode_pieces(tokenizer, chat_pieces(tokenizer, messages, add_generation_prompt))


def truncate_messages(tokenizer: Any, messages: list[Message], max_input_tokens: int) -> list[Message]:
    """Cut the user turn from the *middle* until the rendered prompt fits ``max_input_tokens``.

    ShopBench puts the instruction at the start of a prompt and the candidates plus the "Output:" cue
    at its end; what runs long is the middle (a product description, a review, a click history). So
    the head and tail are kept and the middle replaced by " ... ". Prompts that already fit, which is
    all of the development set at 3072 tokens, come back unchanged (the same list object).
    """
    def length(candidate: list[Message]) -> int:
        return len(encode_chat(tokenizer, candidate, add_generation_prompt=True))

    excess = length(messages) - max_input_tokens
    if excess <= 0:
        return messages
    user_index = max(i for i, m in enumerate(messages) if m["role"] == "user")
    ids = encode_text(tokenizer, messages[user_index]["content"])  # decodes back to the literal text
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
