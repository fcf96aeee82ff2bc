"""Preference pairs from training questions, and DPO on top of an SFT adapter."""

from __future__ import annotations

import pytest
import torch

from shoplm.params.training import RejectedAnswers
from shoplm.shopbench.answers import render_gold
from shoplm.shopbench.parsers import parse
from shoplm.training.answer_scores import official_scores
from shoplm.training.preferences import PreferencePair, build_pairs, numbered_labels, pair_stats
from tests.forged import FORGED_QUESTION, INJECTION, LITERAL, marker_counts


@pytest.mark.parametrize("share", [0.0, 0.5, 1.0])
def test_every_rejected_answer_scores_strictly_below_the_chosen_one(sample_questions, share):
    """Under the official parser and metric: no tie (a ranking shuffled among equal gains, a list that
    parses back to the gold one), so DPO never pushes a correct answer down."""
    ranking = next(q for q in sample_questions if q.task_type == "ranking")
    tied = ranking.model_copy(update={"output_field": [1.0, 1.0, 1.0, 0.01, 0.0]})  # three Exact items tie
    questions = [*sample_questions, tied, tied.model_copy(update={"output_field": [0.1, 1.0, 1.0, 1.0, 0.0]})]
    pairs = [pair for seed in range(3) for pair in build_pairs(
        questions, RejectedAnswers(bad_format_share=share, pairs_per_question=2), seed=seed)]
    questions = [pair.question for pair in pairs]
    chosen = official_scores(questions, [pair.chosen for pair in pairs])
    rejected = official_scores(questions, [pair.rejected for pair in pairs])
    assert len(pairs) >= 2 * len(sample_questions)
    ties = [(p.question.task_type, p.rejected) for p, c, r in zip(pairs, chosen, rejected) if not r < c]
    assert ties == []


def test_multiple_choice_rejections_are_options_the_prompt_offers(sample_questions):
    [question] = [q for q in sample_questions if q.task_type == "multiple-choice"][:1]
    listed = question.model_copy(update={"input_field": "Which fits?\n1. a\n2. b\n3. c\nAnswer: ", "output_field": 2})
    scale = question.model_copy(update={"input_field": "Rate it on a scale of 1 to 3.\nGood.\nAnswer: ",
                                        "output_field": 3})
    unlisted = question.model_copy(update={"input_field": "Is it waterproof? Answer yes (1) or no (0).\nAnswer: ",
                                           "output_field": 1})
    settings = RejectedAnswers(bad_format_share=0.0, pairs_per_question=2)
    pairs = [p for seed in range(5) for p in build_pairs([listed, scale, unlisted], settings, seed=seed)]
    wrong = {(p.question.input_field, p.rejected) for p in pairs if p.kind == "wrong"}
    assert {rejected for field, rejected in wrong if field == listed.input_field} == {"1", "3"}
    assert {rejected for field, rejected in wrong if field == scale.input_field} == {"1", "2"}
    assert not any(field == unlisted.input_field for field, _ in wrong)  # no invented "5" for a yes/no prompt


def test_on_policy_rejections_are_the_models_answers_that_score_lower(sample_questions):
    questions = [q for q in sample_questions if q.task_type in ("multiple-choice", "ranking")][:6]
    asked = []

    def model(batch, samples):  # answers the gold twice, then something else
        asked.append(samples)
        return [[render_gold(q), render_gold(q), "9", "Answer: " + render_gold(q)][:samples] for q in batch]

    pairs = build_pairs(questions, RejectedAnswers(source="on_policy", samples_per_question=4, pairs_per_question=2),
                        generate=model)
    assert asked == [4] and {p.kind for p in pairs} == {"on_policy"}
    assert all(p.rejected in ("9", "Answer: " + p.chosen) and p.rejected != p.chosen for p in pairs)
    assert len(pairs) == 2 * len(questions)
    with pytest.raises(ValueError, match="needs a model"):
        build_pairs(questions, RejectedAnswers(source="on_policy"))


def test_wrong_answers_keep_the_format_but_change_the_answer(sample_questions):
    pairs = build_pairs(sample_questions, RejectedAnswers(bad_format_share=0.0, pairs_per_question=2), seed=1)
    assert {p.kind for p in pairs} == {"wrong"}
    for pair in pairs:
        q = pair.question
        assert pair.chosen == render_gold(q) and pair.rejected != pair.chosen
        if q.task_type == "multiple-choice":
            assert pair.rejected.isdigit() and parse(q.task_type, pair.rejected) != q.output_field
        elif q.task_type == "retrieval":
            picked = parse(q.task_type, pair.rejected)
            assert len(picked) == len(q.output_field) and set(picked) != set(q.output_field)
            assert set(picked) <= set(numbered_labels(q.input_field))
        elif q.task_type == "ranking":
            assert sorted(parse(q.task_type, pair.rejected)) == list(range(1, 6))


def test_bad_formats_keep_the_answer_but_break_the_format(sample_questions):
    pairs = build_pairs(sample_questions, RejectedAnswers(bad_format_share=1.0), seed=0)
    assert {p.kind for p in pairs} == {"format"}
    # only a one-item retrieval answer has no bad format that scores lower: "[4] are the best" parses as [4]
    missing = [q for q in sample_questions if not any(p.question is q for p in pairs)]
    assert [(q.task_type, len(q.output_field)) for q in missing] == [("retrieval", 1)]
    for pair in pairs:
        assert pair.rejected != pair.chosen
        if pair.question.task_type == "multiple-choice":  # "Answer: 2" and friends fail the official parser
            assert parse("multiple-choice", pair.rejected) != pair.question.output_field
        elif pair.question.task_type == "generation":
            assert pair.chosen in pair.rejected and len(pair.rejected) > len(pair.chosen)


def test_pairs_are_seeded_capped_and_in_trl_format(sample_questions):
    settings = RejectedAnswers(pairs_per_question=2, max_pairs=20)
    first, again = build_pairs(sample_questions, settings, seed=5), build_pairs(sample_questions, settings, seed=5)
    assert [p.rejected for p in first] == [p.rejected for p in again] and len(first) == 20
    record = first[0].as_record()
    assert [m["role"] for m in record["prompt"]] == ["system", "user"]
    assert first[0].question.task_type in record["prompt"][0]["content"]
    assert record["chosen"][0]["role"] == record["rejected"][0]["role"] == "assistant"
    stats = pair_stats(first)
    assert stats["pairs"] == 20 == stats.get("kind.wrong", 0) + stats.get("kind.format", 0)


def _prepared(trainer_class, records, tokenizer):
    """What ``trainer_class`` trains on for ``records``: its dataset preparation, without a model."""
    from types import SimpleNamespace

    from datasets import Dataset

    args = SimpleNamespace(dataset_num_proc=None, max_length=512, truncation_mode="keep_start")
    prepared = trainer_class._prepare_dataset(SimpleNamespace(_tokenizer=tokenizer), Dataset.from_list(records),
                                              tokenizer, args, "train")
    return [{key: row[key] for key in ("prompt_ids", "chosen_ids", "rejected_ids")} for row in prepared]


def test_dpo_pairs_cannot_forge_special_tokens(tokenizer, sample_questions):
    from trl import DPOTrainer

    from shoplm.training.dpo import dpo_trainer_class

    question = sample_questions[0].model_copy(update={"input_field": FORGED_QUESTION})
    record = PreferencePair(question, "1", f"2{INJECTION}", "wrong").as_record()
    (row,) = _prepared(dpo_trainer_class(), [record], tokenizer)
    assert marker_counts(tokenizer, row["prompt_ids"]) == (3, 2)  # system, user, the assistant header
    assert marker_counts(tokenizer, row["chosen_ids"]) == marker_counts(tokenizer, row["rejected_ids"]) == (0, 1)
    assert LITERAL in tokenizer.decode(row["prompt_ids"], skip_special_tokens=True)
    assert tokenizer.decode(row["rejected_ids"]).startswith(f"2{INJECTION}<|im_end|>")
    # ordinary pairs: exactly the ids trl's own preparation gives
    records = [pair.as_record() for pair in build_pairs(sample_questions, RejectedAnswers(max_pairs=12), seed=1)]
    assert _prepared(dpo_trainer_class(), records, tokenizer) == _prepared(DPOTrainer, records, tokenizer)


@pytest.mark.slow
def test_on_policy_dpo_samples_the_sft_model(tiny_base_dir, sample_questions, tiny_hp, tiny_dpo_hp, tmp_path):
    from shoplm.training.dpo import DPORun, train_dpo
    from shoplm.training.on_policy import sample_answers
    from shoplm.training.sft import AdapterRun, train_adapter

    sft_dir = tmp_path / "adapters" / "v7"
    questions = [q for q in sample_questions if q.task_type in ("multiple-choice", "ranking", "retrieval")][:8]
    train_adapter(AdapterRun("v7", questions, tiny_base_dir, sft_dir, tmp_path / "ck" / "v7", tiny_hp(max_steps=1)),
                  progress=False)
    answers = sample_answers(tiny_base_dir, sft_dir, questions[:2], samples=3, temperature=1.0, seed=0, progress=False)
    assert [len(texts) for texts in answers] == [3, 3]
    assert answers == sample_answers(tiny_base_dir, sft_dir, questions[:2], samples=3, temperature=1.0, seed=0,
                                     progress=False)  # seeded

    hp = tiny_dpo_hp(max_steps=1, rejected={"source": "on_policy", "samples_per_question": 3})
    summary = train_dpo(DPORun("v7-dpo", questions, tiny_base_dir, sft_dir, tmp_path / "adapters" / "v7-dpo",
                               tmp_path / "ck" / "v7-dpo", hp), progress=False)
    assert summary["global_step"] == 1 and summary["pairs"]["pairs"] == summary["pairs"]["kind.on_policy"] > 0


@pytest.mark.slow
def test_dpo_continues_an_sft_adapter(tiny_base_dir, sample_questions, tiny_hp, tiny_dpo_hp, tmp_path):
    from peft import PeftModel
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    from shoplm.training.dpo import DPORun, train_dpo
    from shoplm.training.sft import AdapterRun, train_adapter

    sft_dir = tmp_path / "adapters" / "v7"
    train_adapter(AdapterRun("v7", sample_questions[:8], tiny_base_dir, sft_dir, tmp_path / "ck" / "v7",
                             tiny_hp(max_steps=2)), progress=False)
    out = tmp_path / "adapters" / "v7-dpo"
    summary = train_dpo(DPORun("v7-dpo", sample_questions, tiny_base_dir, sft_dir, out, tmp_path / "ck" / "v7-dpo",
                               tiny_dpo_hp(max_steps=3)), progress=False)
    assert summary["global_step"] == 3 and summary["pairs"]["pairs"] >= len(sample_questions)
    assert summary["losses"][0][1] == pytest.approx(0.6931, abs=1e-3)  # the reference IS the SFT adapter
    assert all(loss == loss for _, loss in summary["losses"])  # no NaN
    assert "rewards/margins" in summary["last_log"]
    assert not (out / "ref").exists() and (out / "dpo_summary.json").is_file()

    sft, dpo = load_file(sft_dir / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    assert sft.keys() == dpo.keys()  # same adapter shape: DPO continued it
    assert any(not torch.equal(sft[k], dpo[k].to(sft[k].dtype)) for k in sft)
    model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base_dir), str(out))
    assert model.peft_config["default"].r == 4
