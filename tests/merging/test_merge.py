"""Merges checked against their definitions: weighted sum, wise-ft, TIES and DARE-TIES."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from shoplm.merging import MERGE_METHODS, MergeWorkspace, merge_to_folder
from shoplm.params.merging import MergeSpec
from shoplm.registry import UnknownNameError

TOLERANCE = 1e-6


def lora_deltas(adapter_dir) -> dict[str, torch.Tensor]:
    """ΔW = (alpha/r)·B@A per module, read straight from the adapter files (independent of the merge code)."""
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    scale = config["lora_alpha"] / config["r"]
    tensors = load_file(adapter_dir / "adapter_model.safetensors")
    deltas = {}
    for key, a in tensors.items():
        if ".lora_A." in key:
            b = tensors[key.replace(".lora_A.", ".lora_B.")]
            module = key.removeprefix("base_model.model.").split(".lora_A.")[0]
            deltas[module + ".weight"] = scale * (b.double() @ a.double())
    return deltas


def merged_weights(folder) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def test_weighted_merge_equals_base_plus_weighted_deltas(tiny_base_dir, tiny_adapters, tmp_path):
    spec = MergeSpec(adapters={"v7": 0.56, "v8": 0.75})
    out = merge_to_folder(tiny_base_dir, tiny_adapters, spec, tmp_path / "merged")
    base, merged = merged_weights(tiny_base_dir), merged_weights(out)
    deltas = {name: lora_deltas(folder) for name, folder in tiny_adapters.items()}
    lora_keys = set(deltas["v7"]) | set(deltas["v8"])
    assert len(lora_keys) == 2 * 7  # 2 layers × (q, k, v, o, gate, up, down)
    worst = 0.0
    for key, weight in base.items():
        expected = weight.double()
        for name, w in spec.adapters.items():
            if key in deltas[name]:
                expected = expected + w * deltas[name][key]
        error = (merged[key].double() - expected).abs().max().item()
        worst = max(worst, error)
        if key in lora_keys:
            assert (merged[key] - weight).abs().max() > 1e-4, f"{key}: merge left the LoRA layer unchanged"
    print(f"\nweighted merge vs W_base + Σ wᵢ·scaleᵢ·BᵢAᵢ over {len(base)} tensors: max |error| {worst:.2e} "
          f"(tolerance {TOLERANCE:g})")
    assert worst < TOLERANCE
    assert (out / "tokenizer.json").is_file() and (out / "merge_spec.json").is_file()


def test_wise_ft_alpha_zero_is_base_and_one_is_plain_merge(tiny_base_dir, tiny_adapters):
    workspace = MergeWorkspace(tiny_base_dir, tiny_adapters)
    base = {k: v.clone() for k, v in workspace.model.state_dict().items()}
    workspace.apply(MergeSpec(adapters={"v7": 0.56, "v8": 0.75}, alpha=1.0))
    plain = {k: v.clone() for k, v in workspace.model.state_dict().items()}
    workspace.apply(MergeSpec(adapters={"v7": 0.56, "v8": 0.75}, alpha=0.0))
    at_zero = max((workspace.model.state_dict()[k] - v).abs().max().item() for k, v in base.items())
    workspace.apply(MergeSpec(adapters={"v7": 0.56, "v8": 0.75}, alpha=0.5))
    half = {k: v.clone() for k, v in workspace.model.state_dict().items()}
    workspace.apply(MergeSpec(adapters={"v7": 0.56, "v8": 0.75}, alpha=1.0))
    at_one = max((workspace.model.state_dict()[k] - v).abs().max().item() for k, v in plain.items())
    # α=0.5 lies half way: also what scaling A and B by √α gives (seed 003 §4.4)
    at_half = max((half[k] - (base[k] + 0.5 * (plain[k] - base[k]))).abs().max().item() for k in base)
    print(f"\nwise-ft: α=0 vs base {at_zero:.2e}, α=1 vs plain merge {at_one:.2e}, α=0.5 vs midpoint {at_half:.2e} "
          f"(tolerance {TOLERANCE:g})")
    assert at_zero == 0.0 and at_one < TOLERANCE and at_half < TOLERANCE


def test_wise_ft_matches_peft_sqrt_alpha_scaling(tiny_base_dir, tiny_adapters):
    """The seed's own recipe: scale A and B by √α, merge_and_unload; our α·ΔW must agree."""
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    alpha = 0.35
    workspace = MergeWorkspace(tiny_base_dir, {"v7": tiny_adapters["v7"]})
    workspace.apply(MergeSpec(adapters={"v7": 1.0}, alpha=alpha))
    peft_model = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(tiny_base_dir), tiny_adapters["v7"])
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                param.mul_(alpha**0.5)
    reference = peft_model.merge_and_unload().state_dict()
    error = max((workspace.model.state_dict()[k] - v).abs().max().item() for k, v in reference.items())
    print(f"\nwise-ft α={alpha} vs peft √α scaling + merge_and_unload: max |error| {error:.2e}")
    assert error < TOLERANCE


# ------------------------------------------------------------------------------- TIES and DARE-TIES by hand

@pytest.fixture(scope="module")
def pico_workspace(pico_base_dir, tmp_path_factory):
    """Two rank-1 adapters on q_proj of a 2-layer model, with factors chosen so the deltas are readable."""
    from tests.merging.conftest import save_random_adapter

    root = tmp_path_factory.mktemp("pico_adapters")
    folders = {name: save_random_adapter(pico_base_dir, root / name, seed=s, r=1, alpha=1, targets=["q_proj"])
               for name, s in (("a", 1), ("b", 2))}
    workspace = MergeWorkspace(pico_base_dir, folders)
    # ΔW_a = u vᵀ, ΔW_b = -2·u' v'ᵀ: signs conflict on many entries, and no two magnitudes are equal
    # within a delta, so "the top half by magnitude" has one answer.
    rows = torch.tensor([1.1, -2.3, 0.7, 0.13, 3.7, -1.9, 0.29, 2.9])
    cols = torch.tensor([1.0, 0.51, -1.7, 2.3, 0.031, -0.47, 1.3, -3.1])
    for layer, factors in workspace.factors.items():
        workspace.factors[layer] = {
            "a": type(factors["a"])(cols[None, :].clone(), rows[:, None].clone(), 1.0),
            "b": type(factors["b"])(cols.flip(0)[None, :].clone(), -2.0 * rows.roll(1)[:, None].clone(), 1.0),
        }
    return workspace


def hand_ties(deltas: list[torch.Tensor], weights: list[float], density: float) -> torch.Tensor:
    """TIES-Merging written out entry by entry: trim each delta, elect the sign, mean of agreeing entries."""
    trimmed = []
    for delta in deltas:
        assert len(set(delta.abs().flatten().tolist())) == delta.numel(), "equal magnitudes: trimming ambiguous"
        keep = int(density * delta.numel())
        threshold = sorted(delta.abs().flatten().tolist(), reverse=True)[keep - 1]
        trimmed.append(torch.where(delta.abs() >= threshold, delta, torch.zeros_like(delta)))
    out = torch.zeros_like(deltas[0])
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            values = [t[i, j].item() for t in trimmed]
            sign = 1.0 if sum(values) >= 0 else -1.0
            agreeing = [w * v for w, v in zip(weights, values) if v != 0 and (v > 0) == (sign > 0)]
            out[i, j] = sum(agreeing) / max(len(agreeing), 1)
    return out


def test_ties_matches_hand_computation(pico_workspace):
    workspace, weights = pico_workspace, [0.6, 0.9]
    original = {name: w.clone() for name, w in workspace._originals.items()}
    workspace.apply(MergeSpec(method="ties", adapters={"a": 0.6, "b": 0.9}, density=0.5, alpha=0.8))
    worst = 0.0
    for name in workspace.layer_names:
        deltas = [workspace.factors[name][a].delta() for a in ("a", "b")]
        expected = original[name] + 0.8 * hand_ties(deltas, weights, density=0.5)
        relative = (workspace._weights[name] - expected).abs() / expected.abs().clamp(min=1.0)
        worst = max(worst, relative.max().item())
    print(f"\nTIES (density 0.5, α 0.8) vs hand computation on 2 layers: max relative error {worst:.2e} "
          f"(float32, entries up to ~20; tolerance {TOLERANCE:g})")
    assert len(workspace.layer_names) == 2 and worst < TOLERANCE


def test_dare_ties_matches_hand_computation_for_each_drop_pattern(pico_workspace):
    """Every merged entry must be the TIES value of one drop pattern (each delta kept ×1/density or
    dropped); the kept share is near density; the same seed repeats the merge, another does not."""
    workspace, density = pico_workspace, 0.5
    spec = MergeSpec(method="dare_ties", adapters={"a": 0.6, "b": 0.9}, density=density, seed=3)
    workspace.apply(spec)
    first = {n: workspace._weights[n].clone() for n in workspace.layer_names}
    kept = total = 0
    for name in workspace.layer_names:
        da, db = (workspace.factors[name][a].delta() for a in ("a", "b"))
        merged = first[name] - workspace._originals[name]
        for i in range(da.shape[0]):
            for j in range(da.shape[1]):
                candidates = {}
                for keep_a in (0, 1):
                    for keep_b in (0, 1):
                        values = [keep_a * da[i, j].item() / density, keep_b * db[i, j].item() / density]
                        sign = 1.0 if sum(values) >= 0 else -1.0
                        agree = [w * v for w, v in zip((0.6, 0.9), values) if v != 0 and (v > 0) == (sign > 0)]
                        candidates[(keep_a, keep_b)] = sum(agree) / max(len(agree), 1)
                # relative: entries reach ~25, and float32 W_base + Δ − W_base keeps ~7 digits
                match = [k for k, v in candidates.items() if abs(v - merged[i, j].item()) < TOLERANCE * max(1, abs(v))]
                assert match, f"{name}[{i},{j}] = {merged[i, j].item()} fits no drop pattern: {candidates}"
                if da[i, j] != 0 and db[i, j] != 0 and len(set(round(v, 9) for v in candidates.values())) == 4:
                    kept += sum(match[0])
                    total += 2
    share = kept / total
    workspace.apply(spec)
    again = max((workspace._weights[n] - first[n]).abs().max().item() for n in workspace.layer_names)
    workspace.apply(spec.model_copy(update={"seed": 4}))
    other = max((workspace._weights[n] - first[n]).abs().max().item() for n in workspace.layer_names)
    print(f"\nDARE-TIES: every entry fits a drop pattern; kept share {share:.2f} (density {density}); "
          f"same seed Δ {again:.1e}, other seed Δ {other:.2e}")
    assert 0.3 < share < 0.7 and again == 0.0 and other > 1e-3


def test_spec_rejects_unknown_method_and_misplaced_density():
    with pytest.raises(ValueError, match="Did you mean 'ties'"):
        MergeSpec(method="tie", adapters={"a": 1.0}, density=0.5)
    with pytest.raises(ValueError, match="needs a density"):
        MergeSpec(method="dare_ties", adapters={"a": 1.0})
    with pytest.raises(ValueError, match="takes no density"):
        MergeSpec(method="weighted", adapters={"a": 1.0}, density=0.5)
    with pytest.raises(UnknownNameError):
        MERGE_METHODS.get("slerp")
    assert set(MERGE_METHODS.describe()) == {"weighted", "ties", "dare_ties", "dare_linear"}


def test_spec_fingerprint_and_change_from_base():
    one = MergeSpec(adapters={"v7": 0.5, "v8": 0.25}, alpha=0.5)
    assert one.fingerprint() == MergeSpec(adapters={"v7": 0.5, "v8": 0.25}, alpha=0.5).fingerprint()
    assert one.fingerprint() != one.model_copy(update={"alpha": 0.75}).fingerprint()
    assert one.change_from_base() == pytest.approx(0.375)
