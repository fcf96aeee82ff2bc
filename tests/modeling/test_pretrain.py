"""Pre-training pieces: packing with separators, document-aligned windows, the schedule, a few steps."""

from __future__ import annotations

import pytest
import torch

from data.generators.corpus import generate_documents
from shoplm.modeling.pretrain import _lr_factor, document_starts, pretrain, tokenize_corpus
from shoplm.modeling.tiny import init_model, qwen2_config
from shoplm.modeling.tokenizer import train_tokenizer
from shoplm.params.base import TinyModelSpec


def test_document_starts() -> None:
    stream = torch.tensor([5, 6, 0, 7, 8, 9, 0, 4, 0, 3, 3])
    assert document_starts(stream, eot_id=0, seq_len=3).tolist() == [0, 3, 7]
    assert document_starts(stream, eot_id=0, seq_len=10).tolist() == [0]


def test_schedule_warms_up_then_decays_to_a_tenth() -> None:
    factors = [_lr_factor(s, 100, 10) for s in range(100)]
    assert factors[0] == 0.1 and factors[9] == 1.0
    assert all(a >= b for a, b in zip(factors[9:], factors[10:]))
    assert abs(_lr_factor(100, 100, 10) - 0.1) < 1e-9


@pytest.mark.slow
def test_a_few_steps_lower_the_loss_and_are_reproducible() -> None:
    docs = generate_documents(seed=4, plain_docs=30, chat_docs=30)
    tokenizer = train_tokenizer(docs, vocab_size=512)
    stream = tokenize_corpus(tokenizer, docs)
    assert (stream == 0).sum() == len(docs)  # one <|endoftext|> after every document
    spec = TinyModelSpec(vocab_size=512, num_layers=1)
    runs = []
    for _ in range(2):
        model = init_model(qwen2_config(spec, tokenizer), seed=0)
        result = pretrain(model, stream, steps=8, batch_size=2, seq_len=64, learning_rate=3e-3, warmup_steps=2,
                          progress=False)
        runs.append((result, model.state_dict()))
    (first, weights), (second, weights_again) = runs
    assert first.final_loss < first.initial_loss
    assert first.tokens_seen == 8 * 2 * 64 and first.tokens_per_second > 0
    assert first.final_loss == second.final_loss
    assert all(torch.equal(weights[k], weights_again[k]) for k in weights)
