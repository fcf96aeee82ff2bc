"""Correlation with public benchmarks: seed 000's own table reproduced, and small n called out."""

from __future__ import annotations

import pytest

from shoplm.study.correlation import correlate, format_correlations

# Seed 000 ("Analysis on Performance Indicator"): 20 models' Open LLM Leaderboard scores (ARC, HellaSwag,
# MMLU, TruthfulQA, Winogrande, GSM8K) and their local ShopBench score, and below it the team's
# correlation matrix; its last row is what this module computes.
SEED_000 = """\
DARE_TIES_13B 74.32 89.5 64.47 78.66 88.08 67.55 0.621375766
13B_MATH_DPO 74.66 89.51 64.53 78.63 88.08 67.1 0.614808836
Truthful_DPO_MoE_13B 74.91 89.3 64.67 78.02 88.24 69.52 0.614044917
MixTAO-7Bx2-MoE-v8.1 73.81 89.22 64.92 78.57 87.37 71.11 0.589690252
MoE_13B_DPO 74.32 89.39 64.48 78.47 88 67.63 0.578805983
cr-model-v1 70.65 87.85 74.73 80.47 83.66 66.57 0.577217491
Mistroll-7B-v2.2 72.78 89.16 64.35 78.1 85 71.19 0.568295111
Qwen1.5-7B-sft-0502 55.12 77.18 61.68 50.72 71.67 55.57 0.561077625
CarbonBeagle-11B-truthy 82.27 89.31 66.55 78.55 83.82 66.11 0.559303114
Experiment26-7B 73.88 89.15 64.32 78.24 84.93 70.43 0.528064942
T3Q-EN-DPO-Mistral-7B 73.04 89.3 64.13 78.71 85.32 68.08 0.526177149
Meta-Llama-3-8B-Instruct 60.75 78.55 67.07 51.65 74.51 68.89 0.522328422
Calme-7B-Instruct-v0.2 73.12 89.19 64.36 78 84.93 70.05 0.515325888
Hermes-2-Theta-Llama-3-8B 66.04 84.95 63.36 55.75 78.06 60.42 0.512508571
Qwen1.5-14B 56.57 81.08 69.36 52.06 73.48 67.63 0.499776516
stablelm-2-12b-chat 64.85 85.96 61.06 62.01 78.53 57.85 0.468529823
Qwen1.5-MoE-A2.7B-Chat 53.67 80.54 60.97 50.56 69.38 28.2 0.459756886
Yi-9B 61.18 78.82 70.06 42.45 77.51 48.98 0.454430124
Qwen-14B-Llamafied 55.2 82.31 66.11 45.6 76.56 52.77 0.410602201
Yi-6B 55.55 76.57 64.11 41.96 74.19 12.13 0.304252526
"""
BENCHMARKS = ("ARC", "HellaSwag", "MMLU", "TruthfulQA", "Winogrande", "GSM8K")
# The seed's "localscore" row, to its 6 decimals.
SEED_PEARSON = {"ARC": 0.699199, "HellaSwag": 0.680244, "MMLU": 0.077637, "TruthfulQA": 0.769455,
                "Winogrande": 0.675213, "GSM8K": 0.807009}


def seed_table() -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    shopbench, benchmarks = {}, {}
    for line in SEED_000.splitlines():
        name, *numbers = line.split()
        *scores, local = map(float, numbers)
        shopbench[name], benchmarks[name] = local, dict(zip(BENCHMARKS, scores))
    return shopbench, benchmarks


def test_reproduces_seed_000s_pearson_correlations():
    rows = {r.benchmark: r for r in correlate(*seed_table())}
    assert set(rows) == set(BENCHMARKS)
    for benchmark, expected in SEED_PEARSON.items():
        assert rows[benchmark].pearson == pytest.approx(expected, abs=5e-6), benchmark
        assert rows[benchmark].n == 20 and rows[benchmark].warning is None
    # Spearman ranks: GSM8K's outlier (Yi-6B at 12.13) matters less than for Pearson
    assert -1 <= rows["GSM8K"].spearman <= 1 and rows["GSM8K"].spearman != rows["GSM8K"].pearson


def test_too_few_models_are_flagged_or_not_computed():
    shopbench, benchmarks = seed_table()
    four = {name: shopbench[name] for name in list(shopbench)[-4:]}
    (row, *_) = correlate(four, {n: {"ARC": benchmarks[n]["ARC"]} for n in four}, min_n=5)
    assert row.n == 4 and row.pearson is not None and "n=4 < 5" in row.warning and "means nothing" in row.warning
    two = dict(list(four.items())[:2])
    (row,) = correlate(two, {n: {"ARC": benchmarks[n]["ARC"]} for n in two})
    assert row.pearson is None and "not computed" in row.warning
    text = format_correlations([row], "track5")
    assert "| ARC | 2 | – | – |" in text
    assert "no correlation" in format_correlations([], "track5")


def test_only_models_with_both_numbers_count():
    shopbench, benchmarks = seed_table()
    partial = {n: ({"MMLU": b["MMLU"]} if i % 2 else {}) for i, (n, b) in enumerate(benchmarks.items())}
    (row,) = correlate(shopbench, partial)
    assert row.benchmark == "MMLU" and row.n == 10
