"""The ``train`` and ``dpo`` params sections."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from shoplm.params.loader import ParamsError
from shoplm.params.training import (
    DPO_LOSSES,
    LR_SCHEDULERS,
    OPTIMIZERS,
    AdapterSpec,
    DPOHyperparameters,
    DPOSection,
    LoraSettings,
    TrainHyperparameters,
    TrainSection,
    check_target_modules,
    select_adapter,
)
from shoplm.registry import UnknownNameError


def test_defaults_are_seed_003_table_2():
    hp = TrainHyperparameters()
    assert (hp.optimizer, hp.lr_scheduler, hp.learning_rate, hp.weight_decay, hp.warmup_steps) == (
        "adamw_torch", "cosine", 2e-4, 0.01, 10)
    assert (hp.micro_batch_size, hp.gradient_accumulation_steps, hp.load_in_4bit, hp.bf16, hp.packing) == (
        1, 4, True, True, True)
    assert (hp.lora.r, hp.lora.alpha, hp.lora.dropout, hp.lora.target_modules) == (64, 32, 0.05, "all-linear")


def test_overrides_merge_nested_sections_and_keep_the_type():
    section = TrainSection.model_validate({
        "defaults": {"max_steps": 10},
        "adapters": {"v7": {"mixture": "v7", "overrides": {"learning_rate": 1e-4, "lora": {"r": 16}}}},
    })
    hp = section.adapters["v7"].hyperparameters(section.defaults)
    assert isinstance(hp, TrainHyperparameters)
    assert (hp.learning_rate, hp.lora.r, hp.lora.alpha, hp.max_steps) == (1e-4, 16, 32, 10)
    dpo = AdapterSpec(mixture="v7", overrides={"beta": 0.3}).hyperparameters(DPOHyperparameters())
    assert isinstance(dpo, DPOHyperparameters) and dpo.beta == 0.3 and dpo.learning_rate == 5e-6


def test_bad_overrides_name_the_adapter():
    with pytest.raises(ValidationError, match="adapter 'v8' overrides"):
        TrainSection.model_validate({"adapters": {"v8": {"mixture": "v8", "overrides": {"lerning_rate": 1}}}})
    with pytest.raises(ValidationError, match="adapter 'v7' overrides"):
        DPOSection.model_validate({"adapters": {"v7": {"mixture": "v7", "overrides": {"packing": True}}}})
    with pytest.raises(ValidationError):
        DPOSection.model_validate({"defaults": {"rejected": {"bad_format_share": 1.5}}})


def test_select_adapter_lists_the_defined_ones():
    adapters = {"v7": AdapterSpec(mixture="v7"), "v8": AdapterSpec(mixture="v8")}
    assert select_adapter(adapters, "v8", "train").mixture == "v8"
    with pytest.raises(UnknownNameError, match="unknown train.adapters entry 'v9'. Known: v7, v8"):
        select_adapter(adapters, "v9", "train")


def test_optimizer_scheduler_and_dpo_loss_names_come_from_transformers_and_trl():
    from transformers.trainer_utils import SchedulerType
    from transformers.training_args import OptimizerNames

    assert set(OPTIMIZERS) == {o.value for o in OptimizerNames} and "paged_adamw_8bit" in OPTIMIZERS
    assert set(LR_SCHEDULERS) == {s.value for s in SchedulerType}
    assert {"sigmoid", "ipo", "hinge", "robust"} <= set(DPO_LOSSES)
    with pytest.raises(ValidationError, match="unknown transformers optimizer 'adamw_troch'. Did you mean 'adamw_torch'"):
        TrainHyperparameters(optimizer="adamw_troch")
    with pytest.raises(ValidationError, match="unknown transformers lr scheduler 'cosin'. Did you mean 'cosine'"):
        TrainHyperparameters(lr_scheduler="cosin")
    with pytest.raises(ValidationError, match="unknown trl DPO loss 'sigmod'. Did you mean 'sigmoid'"):
        DPOHyperparameters(loss_type="sigmod")
    with pytest.raises(ValidationError, match="adapter 'v7' overrides: optimizer: unknown transformers optimizer 'sgdd'. Did you mean 'sgd'"):
        TrainSection.model_validate({"adapters": {"v7": {"mixture": "v7", "overrides": {"optimizer": "sgdd"}}}})


def test_target_modules_are_all_linear_or_module_names():
    assert LoraSettings(target_modules=["q_proj", "mlp.down_proj"]).target_modules == ["q_proj", "mlp.down_proj"]
    for wrong, words in (("all", "use 'all-linear' or a list"), ([], "an empty list adapts nothing"),
                         (["q proj"], "not module names")):
        with pytest.raises(ValidationError, match=words):
            LoraSettings(target_modules=wrong)


def test_target_modules_are_checked_against_the_model_linear_layers():
    linear = ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.0.mlp.down_proj"]
    check_target_modules("all-linear", linear, "train.defaults.lora.target_modules")
    check_target_modules(["q_proj", "mlp.down_proj"], linear, "train.defaults.lora.target_modules")
    with pytest.raises(ParamsError, match=r"train.defaults.lora.target_modules: \['q_prj'\] match no Linear layer "
                       r"of the base model. Did you mean 'q_proj'\? Its Linear layers end in: down_proj, q_proj"):
        check_target_modules(["q_prj", "v_proj"], linear, "train.defaults.lora.target_modules")
