"""The ``synth`` params section: endpoint, model, key variable, prices, sampling, retries, budget, rows.

The API key itself is never a param: only the
name of the environment variable that holds it (``api_key_env``), so params, MLflow params and DVC
locks cannot leak it.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from shoplm.builders.registry import BUILDER_MODULES, BUILDERS
from shoplm.errors import keyed_problems
from shoplm.params.loader import StrictModel as _Strict
from shoplm.registry import UnknownNameError

#: The rows that need an LLM, from the builders' lazy name list (no builder is imported to check them).
LLM_ROWS = BUILDER_MODULES["llm_rows"]


class ServerSettings(_Strict):
    """A local vLLM OpenAI-compatible server the stage starts, health-waits and always stops."""

    launch: bool = Field(True, description="Start `python -m vllm.entrypoints.openai.api_server` on 127.0.0.1; "
                                           "false: use base_url as it is (a remote API or a server you run).")
    model: str = Field("models/base", description="Model folder the launched server loads.")
    startup_timeout_s: float = Field(900, gt=0, description="Give up when /health is not 200 after this long "
                                     "(a start takes 16-80 s on an idle 2-core machine, minutes on a busy one).")
    stop_timeout_s: float = Field(20, gt=0, description="SIGTERM to the server's process group, then SIGKILL "
                                                        "after this long.")
    kv_cache_gib: int = Field(1, ge=1, description="VLLM_CPU_KVCACHE_SPACE (GiB) of the launched server.")
    omp_threads_bind: str = Field("0-1", description="VLLM_CPU_OMP_THREADS_BIND of the launched server.")
    enforce_eager: bool = Field(True, description="--enforce-eager: start in ~16 s instead of compiling.")
    max_model_len: int = Field(4096, ge=256, description="--max-model-len of the launched server.")
    extra_args: list[str] = Field(default_factory=list, description="More api_server arguments, as given.")


class Prices(_Strict):
    """Prices per 1,000 tokens, in the currency of your bill (0 for a local server)."""

    prompt_per_1k: float = Field(0.0, ge=0)
    completion_per_1k: float = Field(0.0, ge=0)


class Sampling(_Strict):
    """Sampling parameters of every request; part of the cache key, so changing one re-asks the model."""

    temperature: float = Field(0.3, ge=0, le=2)
    top_p: float = Field(0.95, gt=0, le=1)
    max_tokens: int = Field(384, ge=16, description="Completion tokens per request; a reply cut here is "
                                                    "rejected as 'truncated'.")
    seed: int = Field(0, description="Per-request seed (request i of a row gets seed + i): reproducible replies "
                                     "from servers that honour it, and distinct replies to repeated prompts.")


class RetrySettings(_Strict):
    """Timeouts, 429 and 5xx are retried with exponential backoff, full jitter and Retry-After."""

    max_attempts: int = Field(5, ge=1, description="Attempts per request, the first included.")
    initial_s: float = Field(1.0, gt=0, description="First backoff ceiling; doubles each attempt.")
    max_s: float = Field(30.0, gt=0, description="Cap of one wait (Retry-After included).")


class Budget(_Strict):
    """Per-run limits; the run stops cleanly when one is reached (what was done is kept and cached).
    Cache hits cost nothing and do not count. null: no limit."""

    max_requests: int | None = Field(None, ge=0)
    max_tokens: int | None = Field(None, ge=0, description="Prompt plus completion tokens.")
    max_cost: float | None = Field(None, ge=0, description="In the currency of `prices`.")


class FewShot(_Strict):
    """Development questions shown as examples in the prompts of the rows whose template asks for them
    (ECInstruct rephrasing, ESCI wordings), as seed 002 did. Never an evaluation set being scored:
    the stage refuses a path that an eval_sets entry names."""

    path: str | None = Field(None, description="A ShopBench JSONL file (the development set); null: none.")
    per_prompt: int = Field(2, ge=0, le=8, description="Examples of the row's task type per prompt.")


class SynthSection(_Strict):
    """Stage ``synth``: LLM-built Table 7 rows through any OpenAI-compatible endpoint."""

    section = "synth"

    base_url: str | None = Field(None, description="OpenAI-compatible endpoint (…/v1); null with server.launch.")
    model: str = Field("base", description="Model name sent in requests (the launched server serves it so).")
    api_key_env: str = Field("SHOPLM_SYNTH_API_KEY", description="Environment variable holding the API key; "
                             "a launched local server needs none (a dummy key is sent).")
    server: ServerSettings = Field(default_factory=ServerSettings)
    prices: Prices = Field(default_factory=Prices)
    sampling: Sampling = Field(default_factory=Sampling)
    structured_output: bool = Field(True, description="Send each row's JSON schema as response_format.")
    concurrency: int = Field(4, ge=1, le=256, description="Requests in flight at once.")
    timeout_s: float = Field(120, gt=0, description="Timeout of one HTTP request.")
    retries: RetrySettings = Field(default_factory=RetrySettings)
    budget: Budget = Field(default_factory=Budget)
    few_shot: FewShot = Field(default_factory=FewShot)
    seed: int = Field(0, description="Seeds the choice of source records and the option shuffles.")
    max_text_chars: int = Field(2000, ge=50, description="Longer generated text is rejected as 'too_long'.")
    sample_items: int = Field(20, ge=0, description="Accepted and rejected items logged as an MLflow artifact.")
    rows: dict[str, int] = Field(description="LLM row (builder name) → questions wanted.")

    @field_validator("rows")
    @classmethod
    def _llm_rows(cls, value: dict[str, int]) -> dict[str, int]:
        problems: list[tuple[tuple[str, ...], str]] = []
        for name, wanted in value.items():
            if name not in BUILDERS:
                problems.append(((name,), str(UnknownNameError("LLM row", name, LLM_ROWS))))
            elif name not in LLM_ROWS:
                problems.append(((name,), f"builder {name!r} needs no LLM: list it under build.mixtures"))
            elif isinstance(wanted, bool) or wanted < 1:
                problems.append(((name,), f"questions wanted must be an integer >= 1, got {wanted!r}"))
        if problems:
            raise keyed_problems(problems)
        return value

    @model_validator(mode="after")
    def _endpoint(self) -> SynthSection:
        if not self.server.launch and not self.base_url:
            raise keyed_problems([(("base_url",), "set base_url, or server.launch: true for a local vLLM server")])
        return self
