"""The inference backend interface, its registry, and the model-free test doubles.

A backend turns a batch of chat requests into raw text, one string per request, in request order.
Everything model-specific (batching, padding, adapters, constrained decoding) stays behind
``GenerationBackend.generate`` so evaluation code never changes when the engine does:

* ``transformers`` (``shoplm.inference.transformers_backend``): local model dir + optional LoRA
  adapter, batched greedy ``generate``; the CPU / tiny-model path and the reference for parity tests.
* ``dummy`` and ``echo`` (here): no model at all, like lm-evaluation-harness's ``dummy`` model, so
  pipeline and evaluator tests run in milliseconds. ``dummy`` is also the null-model baseline. They
  cannot constrain decoding, so they refuse ``evaluate.constraints`` that are on (see
  ``GenerationBackend.refuse_constraints``) rather than answer as if they had applied them.
* ``vllm`` (``shoplm.inference.vllm_backend``): vLLM's offline engine on the same token ids (see
  ``encode_prompt``); each request's ``max_new_tokens`` becomes its own ``SamplingParams(max_tokens=...)``,
  ``adapter`` a per-request ``LoRARequest``.

Both model backends take ``constraints`` (``evaluate.constraints``) and decode each request under the
same plan (``shoplm.inference.constraints.plan_constraints``): answer shapes, banned words, prompt boost.

Both model backends share ``encode_prompt`` and ``turn_stop_token_ids``, so they see the same prompt
and stop at the same tokens, and their greedy outputs can be compared token for token.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from shoplm.errors import UserError
from shoplm.registry import Registry
from shoplm.shopbench.prompts import encode_chat, truncate_messages

Message = dict[str, str]


@dataclass(frozen=True)
class GenerationRequest:
    """One prompt to complete.

    ``messages`` are chat messages (``shoplm.shopbench.prompts.build_messages``); ``task_type`` is the
    *predicted* type, which backends may use for grouping and constrained decoding; ``adapter`` names
    a LoRA adapter directory for this request (``None``: the backend's default model);
    ``metadata`` is carried through untouched (question index, classifier rule, ...).
    """

    messages: list[Message]
    task_type: str
    max_new_tokens: int
    adapter: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if not self.messages:
            raise ValueError("a GenerationRequest needs at least one message")

    @property
    def user_content(self) -> str:
        """The last user turn (the question), for backends and doubles that need the raw text."""
        return next(m["content"] for m in reversed(self.messages) if m["role"] == "user")


class ConstraintsRefused(UserError, ValueError):
    """``evaluate.constraints`` asks a backend for constrained decoding it cannot do."""


def constraints_on(constraints: Any) -> list[str]:
    """Each setting of ``constraints`` (``evaluate.constraints``, duck-typed) that constrains something,
    as ``name [values]``; [] for None or every constraint off."""
    if constraints is None:
        return []
    boost = {kind: bias for kind, bias in constraints.prompt_boost.items() if bias}
    on = [("structured", list(constraints.structured)), ("suppress_none", list(constraints.suppress_none)),
          ("prompt_boost", [f"{kind}: {bias:g}" for kind, bias in boost.items()])]
    return [f"{name} [{', '.join(values)}]" for name, values in on if values]


class GenerationBackend(abc.ABC):
    """Turns requests into raw completions (no parsing, no trimming: callers post-process)."""

    name: ClassVar[str] = "?"
    #: Whether the backend loads a model (``model_dir``); the test doubles do not.
    needs_model: ClassVar[bool] = True
    #: The import name of the package the backend runs on, where that may be missing (vllm).
    requires: ClassVar[str | None] = None
    #: The ``evaluate.constraints`` this backend decodes under (None: it constrains nothing).
    constraints: Any = None

    @classmethod
    def options_from(cls, evaluate: Any) -> dict[str, Any]:
        """Constructor keywords other than the model and adapter folders, from the params section
        ``evaluate`` (duck-typed: this module is vendored into submissions, without the params package).
        Plain JSON values, so a submission package can store them and rebuild the same backend.

        A backend that overrides this without passing ``evaluate.constraints`` on must refuse them."""
        cls.refuse_constraints(getattr(evaluate, "constraints", None))
        return {}

    @classmethod
    def refuse_constraints(cls, constraints: Any) -> None:
        """Raise ``ConstraintsRefused`` naming every setting of ``constraints`` that is on: this backend
        applies none, and must not answer as if it had."""
        if on := constraints_on(constraints):
            raise ConstraintsRefused(
                f"backend {cls.name} cannot honour evaluate.constraints: {'; '.join(on)} (it constrains no "
                f"decoding); set them off (structured: [], suppress_none: [], prompt_boost: {{}}) or use "
                f"backend transformers or vllm")

    def constrain(self, constraints: Any) -> None:
        """Decode later requests under ``constraints`` (``ConstraintSettings.off()``: unconstrained); a
        backend that cannot refuses any that is on."""
        self.refuse_constraints(constraints)

    @abc.abstractmethod
    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        """Return one completion per request, aligned with ``requests``."""

    def close(self) -> None:
        """Free the model (GPU memory, engine processes). Safe to call twice."""

    def __enter__(self) -> GenerationBackend:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# ---------------------------------------------------------------------------------------------- registry

def _load_builtin_backends() -> None:
    # Backends register themselves when their module is imported; the transformers one is imported
    # on the registry's first read, not with this module (it imports torch only when a backend is built).
    from shoplm.inference import transformers_backend, vllm_backend  # noqa: F401


BACKENDS: Registry[type[GenerationBackend]] = Registry(
    "inference backend", loader=_load_builtin_backends, names=("dummy", "echo", "transformers", "hf", "vllm"))
B = TypeVar("B", bound=type[GenerationBackend])


def register_backend(name: str, *aliases: str) -> Callable[[B], B]:
    """Class decorator: make a backend constructible by ``create_backend(name, ...)``."""

    def decorator(cls: B) -> B:
        BACKENDS.register(name, *aliases)(cls)
        cls.name = name
        return cls

    return decorator


def available_backends() -> list[str]:
    """Registered names (aliases included)."""
    return BACKENDS.names()


def get_backend_class(name: str) -> type[GenerationBackend]:
    """The class registered as ``name``; an unknown name raises ``UnknownNameError``."""
    return BACKENDS.get(name)


def create_backend(name: str, **kwargs: Any) -> GenerationBackend:
    """Instantiate a registered backend, e.g. ``create_backend("transformers", model_dir=...)``."""
    return get_backend_class(name)(**kwargs)


def model_options(evaluate: Any) -> dict[str, Any]:
    """The options every model-loading backend takes from the ``evaluate`` section."""
    return {"dtype": evaluate.dtype, "batch_size": evaluate.generation.batch_size,
            "max_input_tokens": evaluate.generation.max_input_tokens}


def backend_options(evaluate: Any, name: str | None = None) -> dict[str, Any]:
    """The keywords every caller builds backend ``name`` (default ``evaluate.backend``) with: the evaluate
    stage, the studies and the submission package, so none of them drifts from the others."""
    return get_backend_class(name or evaluate.backend).options_from(evaluate)


def open_backend(evaluate: Any, model_dir: Callable[[], Any], adapter_dir: Any = None, *,
                 name: str | None = None) -> GenerationBackend:
    """Backend ``name`` (default ``evaluate.backend``) as the evaluate stage builds it. ``model_dir`` is
    called only by a backend that loads a model, so the model-free doubles need none built."""
    name = name or evaluate.backend
    cls = get_backend_class(name)
    if not cls.needs_model:
        return cls(**cls.options_from(evaluate))
    return cls(model_dir=model_dir(), adapter_dir=adapter_dir, **cls.options_from(evaluate))


# ---------------------------------------------------------------------------------------------- prompts


def encode_prompt(tokenizer: Any, request: GenerationRequest, max_input_tokens: int) -> list[int]:
    """Prompt token ids: chat template with the assistant header, user turn cut to fit.

    Special tokens come from the chat template only (``encode_chat``): a question that spells out
    ``<|im_end|>`` or ``<|im_start|>`` reaches the model as those characters, never as a turn boundary.
    """
    ids = encode_chat(tokenizer, request.messages, add_generation_prompt=True)
    if len(ids) <= max_input_tokens:
        return ids
    messages = truncate_messages(tokenizer, request.messages, max_input_tokens)
    return encode_chat(tokenizer, messages, add_generation_prompt=True)


def turn_stop_token_ids(tokenizer: Any, config_eos: int | list[int] | None) -> list[int]:
    """Every id that ends a turn: generation_config's eos (a list for Qwen2 chat models), the
    tokenizer's eos, and ChatML's ``<|im_end|>`` and ``<|im_start|>`` when the vocabulary has them (a
    small model sometimes skips the end marker and opens the next turn directly; SmolLM2 converted
    from GGUF even names ``<|im_start|>`` its eos)."""
    ids: list[int | None] = list(config_eos) if isinstance(config_eos, list) else [config_eos]
    ids.append(tokenizer.eos_token_id)
    vocab = tokenizer.get_vocab()
    ids.extend(vocab[token] for token in ("<|im_end|>", "<|im_start|>") if token in vocab)
    unique = list(dict.fromkeys(int(i) for i in ids if i is not None))
    if not unique:
        raise ValueError("model has no eos token in its generation_config or tokenizer")
    return unique


# ---------------------------------------------------------------------------------------------- batching


def plan_batches(
    requests: Sequence[GenerationRequest], batch_size: int, lengths: Sequence[int]
) -> list[list[int]]:
    """Split request indices into batches that share task type, token limit and adapter.

    Sharing the task type is what the winning system did (one decoding set-up per batch); sharing
    ``max_new_tokens`` and ``adapter`` lets one ``generate`` call serve the whole batch. Within a
    group, requests are sorted by prompt length (longest first, so memory trouble shows up in the
    first batch) which keeps similar lengths together and cuts left padding.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    groups: dict[tuple[str, int, str | None], list[int]] = {}
    for index, request in enumerate(requests):
        groups.setdefault((request.task_type, request.max_new_tokens, request.adapter), []).append(index)
    batches: list[list[int]] = []
    for indices in groups.values():
        indices.sort(key=lambda i: -lengths[i])  # stable: ties keep request order
        batches.extend(indices[start : start + batch_size] for start in range(0, len(indices), batch_size))
    return batches


# ---------------------------------------------------------------------------------------------- doubles

# Answers that parse for every task type: the null model (first run logged as the baseline).
DUMMY_ANSWERS: dict[str, str] = {
    "multiple-choice": "0",
    "ranking": "1,2,3,4,5",
    "retrieval": "1,2,3",
    "named_entity_recognition": "",
    "generation": "",
}


@register_backend("dummy")
class DummyBackend(GenerationBackend):
    """A fixed answer per task type; records what it was asked, for tests."""

    needs_model = False

    def __init__(self, answers: dict[str, str] | None = None, default: str = "") -> None:
        self.answers = {**DUMMY_ANSWERS, **(answers or {})}
        self.default = default
        self.calls: list[list[GenerationRequest]] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        self.calls.append(list(requests))
        return [self.answers.get(r.task_type, self.default) for r in requests]


@register_backend("echo")
class EchoBackend(GenerationBackend):
    """Echoes the question's first ``max_new_tokens`` words: exercises per-request limits and order."""

    needs_model = False

    def __init__(self) -> None:
        self.calls: list[list[GenerationRequest]] = []

    def generate(self, requests: Sequence[GenerationRequest]) -> list[str]:
        self.calls.append(list(requests))
        return [" ".join(r.user_content.split()[: r.max_new_tokens]) for r in requests]
