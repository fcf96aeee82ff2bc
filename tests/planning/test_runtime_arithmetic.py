"""The runtime and memory model checked against a configuration worked out by hand (every figure below
was computed on paper from the formulas in shoplm/planning/runtime.py, not read off the code's output)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shoplm.planning.architecture import KNOWN_MODELS, Architecture
from shoplm.planning.hardware import GPU, Cluster, Interconnect
from shoplm.planning.runtime import Deployment, batch_seconds, track_memory, track_seconds
from shoplm.planning.weights import WeightFormat
from shoplm.planning.workload import TrackLoad, TypeLoad

# A made-up decoder with round numbers: hidden 1024, 8 heads of 128 (attention width 1024), 2 KV heads
# (KV width 256), MLP 4096, 10 layers, vocabulary 32000, untied output head.
ARCH = Architecture(name="hand", hidden_size=1024, intermediate_size=4096, num_layers=10, num_heads=8,
                    num_kv_heads=2, head_dim=128, vocab_size=32000, tied_embeddings=False)
# A made-up GPU: 100 TFLOPS, 1000 GB/s, 16 GB; link 10 GB/s, 5 µs per ring step.
GPU_ = GPU(name="hand", description="hand-worked GPU", source="test", memory_gb=16, fp16_tflops=100,
           bandwidth_gbs=1000, interconnect=Interconnect(name="test link", gbs=10, latency_us=5))


def deployment(efficiency: float = 0.5) -> Deployment:
    return Deployment(arch=ARCH, weights=WeightFormat(bits=16), cluster=Cluster(GPU_, 2), tensor_parallel=2,
                      batch_size=4, caps={"generation": 11, "multiple-choice": 1}, efficiency=efficiency,
                      memory_utilization=0.9)


def test_parameters_and_bytes_of_the_hand_worked_model():
    # per layer: q, o 1024x1024 each = 2,097,152; k, v 1024x256 each = 524,288; MLP 3x1024x4096 = 12,582,912
    assert ARCH.layer_linear_params() == 2_097_152 + 524_288 + 12_582_912 == 15_204_352
    # embedding + head 2x32000x1024 = 65,536,000; norms (2x10+1)x1024 = 21,504
    assert ARCH.other_params() == 65_557_504
    assert ARCH.params() == 152_043_520 + 65_557_504 == 217_601_024
    # KV per token: 10 layers x 2 heads x 128 x (K and V) x 2 bytes = 10,240; per GPU one head of two: 5,120
    assert ARCH.kv_bytes_per_token() == 10_240
    d = deployment()
    assert d.kv_bytes_per_token_per_gpu == 5_120
    assert d.weight_bytes_per_gpu == 217_601_024  # 2 bytes x 217,601,024 / tp 2


def test_one_batch_prefill_decode_and_all_reduce_times():
    # 4 prompts of 100 tokens, cap 11: prefill makes the first token, then 10 decode steps.
    seconds = batch_seconds(deployment(), n=4, prompt_tokens=100, cap=11)
    # prefill FLOPs per GPU: Linear layers 2 x 152,043,520 / 2 x 400 tokens = 60,817,408,000
    #   + the output head at each prompt's last token only, 2 x 32,000x1024 / 2 x 4 = 131,072,000
    #   + attention 2 x 10 layers x 1024 / 2 x 4 prompts x 100² = 409,600,000 → 61,358,080,000 FLOPs
    #   / 100e12 = 613.5808 µs; memory 217,601,024 + 400 x 5,120 bytes / 1e12 = 219.649 µs → compute-bound
    assert seconds.prefill_raw == pytest.approx(613.5808e-6, rel=1e-9)
    # decode step, mean context 100 + 11/2 = 105.5: bytes 217,601,024 + 4 x 105.5 x 5,120 = 219,761,664
    #   / 1e12 = 219.761664 µs; FLOPs 739,246,080 + 8,642,560 = 7.48 µs → memory-bound; x 10 steps
    assert seconds.decode_raw == pytest.approx(2197.61664e-6, rel=1e-9)
    # all-reduce, tp 2: 2(tp-1)/tp = 1 x bytes / 10 GB/s + 2(tp-1) = 2 steps x 5 µs, twice per layer x 10:
    #   prefill 400 x 1024 x 2 = 819,200 B → 81.92 + 10 = 91.92 µs x 20 = 1,838.4 µs
    #   decode 4 x 1024 x 2 = 8,192 B → 0.8192 + 10 = 10.8192 µs x 20 x 10 steps = 2,163.84 µs
    assert seconds.comm == pytest.approx(1838.4e-6 + 2163.84e-6, rel=1e-9)
    # efficiency 0.5 doubles compute and memory time, not the link's: 2 x 2,811.19744 + 4,002.24 µs
    assert seconds.total(0.5) == pytest.approx(9624.63488e-6, rel=1e-9)


def test_a_track_sums_full_batches_and_the_rest_and_splits_over_replicas():
    d = deployment()
    track = TrackLoad("t", (TypeLoad("generation", 10, 100, 150),), limit_s=60)
    one = batch_seconds(d, 4, 100, 11)
    two = batch_seconds(d, 2, 100, 11)
    # 10 questions in batches of 4: two full batches and one of 2
    assert track_seconds(d, track).decode_raw == pytest.approx(2 * one.decode_raw + two.decode_raw)
    four_gpus = replace(d, cluster=Cluster(GPU_, 4))  # two replicas of tp 2
    assert four_gpus.replicas == 2
    assert track_seconds(four_gpus, track).total(0.5) == pytest.approx(track_seconds(d, track).total(0.5) / 2)


def test_memory_per_gpu_of_a_track():
    memory = track_memory(deployment(), TrackLoad("t", (TypeLoad("generation", 10, 100, 150),), limit_s=60))
    assert memory["weights"] == 217_601_024
    # KV: batch 4 x (longest prompt 150 + cap 11) x 5,120 bytes = 3,297,280
    assert memory["kv_cache"] == 3_297_280
    # activations: 4 x 150 prompt tokens x (2 x 4096/2 + 4 x 1024) x 2 bytes = 600 x 8,192 x 2 = 9,830,400
    assert memory["activations"] == 9_830_400


def test_w4a16_bits_and_the_published_model_sizes():
    # 4 bits + an fp16 scale and a 4-bit zero point per 128 weights: 4 + 20/128
    assert WeightFormat(bits=4, group_size=128).bits_per_linear_weight == 4.15625
    assert WeightFormat(bits=4, group_size=128, zero_point=False).bits_per_linear_weight == 4.125
    # Parameter counts the model cards publish: Llama-3-8B 8.03B, Qwen2-72B 72.7B
    assert KNOWN_MODELS.get("Llama-3-8B-Instruct").params() / 1e9 == pytest.approx(8.03, abs=0.005)
    qwen = KNOWN_MODELS.get("Qwen/Qwen2-72B-Instruct")
    assert qwen.params() / 1e9 == pytest.approx(72.71, abs=0.01)
    # Seed 003: "4bit quantization ... reduced its size [150 GB at fp16] to 40GB"
    assert WeightFormat(bits=16).weight_bytes(qwen) / 1e9 == pytest.approx(145.4, abs=0.1)
    padded = WeightFormat(bits=4, group_size=128, pad_intermediate_to=29696).weight_bytes(qwen) / 1e9
    assert 40 <= padded <= 42


def test_tensor_parallel_beyond_the_gpus_or_the_heads_is_refused():
    from shoplm.errors import UserError

    with pytest.raises(UserError, match="needs 4 GPUs"):
        replace(deployment(), tensor_parallel=4)
    with pytest.raises(UserError, match="does not divide the 9 attention heads"):
        smol = KNOWN_MODELS.get("SmolLM2-135M-Instruct")
        replace(deployment(), arch=smol, cluster=Cluster(GPU_, 4), tensor_parallel=4)
