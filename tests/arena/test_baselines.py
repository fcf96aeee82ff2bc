"""Baselines, folds and metrics: the figures a user compares the classifiers against."""

from __future__ import annotations

import numpy as np
import pytest

from arena.baselines import BucketMeanModel, GBDTModel, PriorModel, out_of_fold
from arena.data import joined, swap_sides
from arena.folds import grouped_folds
from arena.metrics import label_entropy, log_loss
from arena.registry import ARENA_MODELS
from shoplm.registry import UnknownNameError


def test_prior_log_loss_is_the_label_entropy(length_frame):
    labels = length_frame["label"].to_numpy()
    probs = PriorModel().fit(length_frame).predict_proba(length_frame)
    assert log_loss(labels, probs) == pytest.approx(label_entropy(labels), abs=1e-12)
    assert label_entropy(np.array([0, 1, 2])) == pytest.approx(np.log(3))


def test_bucket_and_gbdt_learn_the_length_signal(length_frame):
    labels = length_frame["label"].to_numpy()
    folds = grouped_folds(length_frame, 3)
    prior, _ = out_of_fold(PriorModel, length_frame, folds)
    bucket, _ = out_of_fold(lambda: BucketMeanModel(quantiles=10), length_frame, folds)
    gbdt, _ = out_of_fold(lambda: GBDTModel(max_iter=30, min_samples_leaf=2), length_frame, folds)
    assert log_loss(labels, bucket) < log_loss(labels, prior) - 0.3
    assert log_loss(labels, gbdt) < log_loss(labels, prior) - 0.3
    assert 0 < bucket.min() and bucket.max() < 1  # smoothed toward the prior: never certain


def test_gbdt_is_trained_on_both_orders(length_frame):
    model = GBDTModel(max_iter=30, min_samples_leaf=2).fit(length_frame)
    swapped = model.predict_proba(swap_sides(length_frame))[:, [1, 0, 2]]
    np.testing.assert_allclose(model.predict_proba(length_frame), swapped, atol=0.05)


def test_folds_never_split_a_prompt(length_frame):
    folds = grouped_folds(length_frame, 3, seed=1)
    prompts = length_frame["prompt"].map(joined)
    assert (prompts.groupby(folds).apply(set).map(len).sum()) == prompts.nunique()
    assert sorted(set(folds)) == [0, 1, 2]


def test_registry_names_every_model_and_rejects_typos():
    assert {"prior", "bucket", "gbdt", "lora"} <= set(ARENA_MODELS.names())
    with pytest.raises(UnknownNameError, match="Did you mean 'gbdt'"):
        ARENA_MODELS.get("gbtd")


@pytest.fixture(scope="session")
def sample_split():
    """The committed sample split as arena/params.yaml splits it (validation fold by prompt)."""
    from arena.runs import load_split
    from arena.settings import load_arena_section

    return load_split(load_arena_section("data", "arena/params.yaml"))


@pytest.mark.parametrize("name", ["bucket", "length_gbdt", "gbdt"])
def test_length_does_not_give_the_sample_away(sample_split, name):
    """Issue 25: on the committed sample a model of response size stays near the prior (above 1.0), so
    the arena run has to read what the answers say; the old sample let a length GBDT reach 0.53."""
    from arena.settings import load_arena_section

    options = load_arena_section("baselines", "arena/params.yaml").models[name]
    model = ARENA_MODELS.get(name)(**options).fit(sample_split.train)
    assert log_loss(sample_split.valid_labels, model.predict_proba(sample_split.valid)) > 1.0


def test_length_gbdt_sees_lengths_only(length_frame):
    model = ARENA_MODELS.get("length_gbdt")(max_iter=5, min_samples_leaf=2).fit(length_frame)
    assert set(model.model.feature_names_in_) == {f"{side}_{k}" for side in ("a", "b", "diff")
                                                   for k in ("chars", "words", "lines")}
    with pytest.raises(TypeError, match="features must be one of all, length"):
        GBDTModel(features="size")
