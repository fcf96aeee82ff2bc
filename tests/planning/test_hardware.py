from __future__ import annotations

import pytest

from shoplm.errors import UserError
from shoplm.planning.hardware import HARDWARE, parse_cluster
from shoplm.registry import UnknownNameError


def test_the_registry_holds_the_gpus_with_their_datasheet_figures():
    assert {"T4", "A10G", "L4", "A100-40GB", "A100-80GB", "H100"} <= set(HARDWARE.names())
    t4 = HARDWARE.get("T4")  # the figures: 65 TFLOPS fp16, 320 GB/s, 16 GB; no bf16; PCIe
    assert (t4.fp16_tflops, t4.bandwidth_gbs, t4.memory_gb, t4.has_bf16) == (65, 320, 16, False)
    assert "PCIe" in t4.interconnect.name
    assert t4.tflops("bfloat16") == t4.fp16_tflops  # bf16 asked of a T4 runs as fp16
    assert all(HARDWARE.get(name).has_bf16 for name in HARDWARE.names() if name != "T4")
    assert all(doc for doc in HARDWARE.describe().values())


@pytest.mark.parametrize("spec, count, name", [("4xT4", 4, "T4"), ("T4", 1, "T4"), ("8 x a100-80gb", 8, "A100-80GB"),
                                               ("2×L4", 2, "L4")])
def test_cluster_specs(spec, count, name):
    cluster = parse_cluster(spec)
    assert (cluster.count, cluster.gpu.name) == (count, name)


def test_an_unknown_gpu_names_the_known_ones_with_a_did_you_mean():
    with pytest.raises(UnknownNameError, match=r"unknown GPU 'A10'. Did you mean 'A10G'.*Known: A100-40GB"):
        parse_cluster("4xA10")


def test_a_gpu_count_of_zero_is_refused():
    with pytest.raises(UserError, match="at least 1"):
        parse_cluster("0xT4")
