"""Backend registry, request validation, batch planning, the model-free doubles (which refuse constraints
they cannot apply) and the constraints every model backend is built with."""

from __future__ import annotations

import pytest

from shoplm.inference import (
    GenerationBackend,
    GenerationRequest,
    available_backends,
    create_backend,
    get_backend_class,
    register_backend,
)
from shoplm.inference.backends import (
    BACKENDS,
    DUMMY_ANSWERS,
    ConstraintsRefused,
    DummyBackend,
    EchoBackend,
    backend_options,
    open_backend,
    plan_batches,
)
from shoplm.registry import UnknownNameError
from shoplm.shopbench.prompts import build_messages


def request(text: str, task_type: str = "generation", max_new_tokens: int = 5, **kwargs) -> GenerationRequest:
    return GenerationRequest(build_messages(text, task_type), task_type, max_new_tokens, **kwargs)


def test_builtin_backends_are_registered() -> None:
    assert {"transformers", "hf", "dummy", "echo"} <= set(available_backends())
    assert get_backend_class("hf") is get_backend_class("transformers")
    assert get_backend_class("transformers").name == "transformers"


def test_unknown_backend_lists_known_names_and_suggests_one() -> None:
    with pytest.raises(UnknownNameError, match=r"Did you mean 'transformers'\?") as error:
        get_backend_class("transformer")
    assert "dummy" in str(error.value) and "echo" in str(error.value)
    with pytest.raises(UnknownNameError, match="unknown inference backend 'zzz'. Known: dummy, echo, hf, "):
        create_backend("zzz")


def test_backends_describe_themselves_for_help() -> None:
    described = BACKENDS.describe()
    assert described["dummy"] == "A fixed answer per task type; records what it was asked, for tests."
    assert described["hf"] == described["transformers"]


def test_register_backend_refuses_a_taken_name() -> None:
    with pytest.raises(ValueError, match="inference backend 'dummy' is registered twice"):

        @register_backend("dummy")
        class Other(GenerationBackend):
            def generate(self, requests):
                return []


def test_request_validation_and_user_content() -> None:
    req = request("Explain the product type Handbag\nOutput: ")
    assert req.user_content == "Explain the product type Handbag\nOutput:"
    with pytest.raises(ValueError, match="max_new_tokens"):
        request("x", max_new_tokens=0)
    with pytest.raises(ValueError, match="at least one message"):
        GenerationRequest([], "generation", 3)


def test_dummy_answers_per_task_type_and_records_calls() -> None:
    backend = create_backend("dummy", answers={"generation": "A bag."})
    reqs = [request("q", t) for t in ("multiple-choice", "ranking", "retrieval", "named_entity_recognition")]
    reqs.append(request("q", "generation"))
    assert backend.generate(reqs) == ["0", "1,2,3,4,5", "1,2,3", "", "A bag."]
    assert isinstance(backend, DummyBackend) and backend.calls == [reqs]
    assert set(DUMMY_ANSWERS) == {"multiple-choice", "ranking", "retrieval", "named_entity_recognition", "generation"}


def test_echo_respects_max_new_tokens_and_order() -> None:
    with create_backend("echo") as backend:
        out = backend.generate([request("one two three four", max_new_tokens=2), request("five six", max_new_tokens=9)])
    assert isinstance(backend, EchoBackend)
    assert out == ["one two", "five six"]
    assert backend.generate([]) == []


@pytest.mark.parametrize("name", ["dummy", "echo"])
def test_the_model_free_doubles_refuse_constraints_naming_each(name) -> None:
    from shoplm.params.evaluate import EvaluateSection
    from shoplm.params.serving import ConstraintSettings

    section = EvaluateSection(backend=name)  # the default constraints: every kind of them on
    pattern = (rf"backend {name} cannot honour evaluate.constraints: structured \[multiple-choice, ranking, "
               r"retrieval\]; suppress_none \[named_entity_recognition, keyphrase, generation\]; prompt_boost "
               r"\[named_entity_recognition: 2, keyphrase: 2\] \(it constrains no decoding\)")
    with pytest.raises(ConstraintsRefused, match=pattern):
        backend_options(section)
    with pytest.raises(ConstraintsRefused, match=pattern):
        open_backend(section, lambda: pytest.fail("a double needs no model"))
    with pytest.raises(ConstraintsRefused, match=r"evaluate.constraints: prompt_boost \[keyphrase: 1\] "):
        create_backend(name).constrain(ConstraintSettings(structured=[], suppress_none=[], prompt_boost={"keyphrase": 1}))
    off = section.model_copy(update={"constraints": ConstraintSettings.off()})
    assert backend_options(off) == {} and open_backend(off, lambda: None).constraints is None
    create_backend(name).constrain(ConstraintSettings.off())


def test_the_model_backends_take_the_constraints_as_plain_json() -> None:
    from shoplm.params.evaluate import EvaluateSection
    from shoplm.params.serving import ConstraintSettings

    for name in ("transformers", "vllm"):
        options = backend_options(EvaluateSection(), name)
        assert options["constraints"] == ConstraintSettings().model_dump(mode="json"), name


def test_plan_batches_groups_sorts_and_chunks() -> None:
    reqs = [
        request("a", "generation"),
        request("b", "multiple-choice", 2),
        request("c", "generation"),
        request("d", "generation"),
        request("e", "multiple-choice", 2),
        request("f", "generation", max_new_tokens=7),  # other limit: its own batch
        request("g", "generation", adapter="/x"),  # other adapter: its own batch
    ]
    lengths = [5, 1, 9, 7, 3, 4, 4]
    batches = plan_batches(reqs, 2, lengths)
    assert batches == [[2, 3], [0], [4, 1], [5], [6]]  # longest first within a group
    assert sorted(i for b in batches for i in b) == list(range(len(reqs)))
    with pytest.raises(ValueError, match="batch_size"):
        plan_batches(reqs, 0, lengths)
