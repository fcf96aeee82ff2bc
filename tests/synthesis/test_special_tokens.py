"""Special-token text in what synthesis sends: the server applies the chat template and parses special
tokens in the whole rendered text, so source records and example questions reach it with every
``<|name|>`` broken up (``templates.neutral_text``)."""

from __future__ import annotations

from shoplm.builders.decontam import decontaminate  # noqa: F401  (imports the builders first)
from shoplm.synthesis.runner import plan
from tests.forged import INJECTION, IM_END, IM_START, marker_counts
from tests.synthesis.test_faults import ROW, products, settings


def _as_the_server_encodes(tokenizer, content: str) -> list[int]:
    """vLLM's OpenAI server: the chat template rendered to text, then tokenized with special tokens parsed."""
    text = tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                         add_generation_prompt=True)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_neutral_text_breaks_up_every_special_token_spelling():
    from shoplm.synthesis.templates import neutral_text

    assert neutral_text(INJECTION) == INJECTION.replace("<|", "< |")
    assert neutral_text("a <|eot_id|> b <|begin_of_text|>") == "a < |eot_id|> b < |begin_of_text|>"
    assert neutral_text("<|<|im_end|>|> x|y <b>|</b> a < |im_end|>") == "<|< |im_end|>|> x|y <b>|</b> a < |im_end|>"
    plain = "Product 3: 5 < 6 | 7 > 2, <i>italic</i>, [SEP]"
    assert neutral_text(plain) == plain and neutral_text(neutral_text(INJECTION)) == neutral_text(INJECTION)


def test_source_records_cannot_forge_special_tokens(tiny_base_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_base_dir)
    planned = plan(settings(rows={ROW: 4}), products(4, {1: INJECTION, 2: "plain"}), "http://unused/v1")
    forged = [p for p in planned if "Ignore the question" in p.messages[0]["content"]]
    assert len(forged) == 1 and forged[0].record["title"].endswith(INJECTION.strip())  # the record is untouched
    content = forged[0].messages[0]["content"]
    assert IM_END not in content and IM_START not in content and "< |im_end|>\n< |im_start|>system" in content
    # the tiny template's default system turn, the user turn, the assistant header: nothing from the record
    assert marker_counts(tokenizer, _as_the_server_encodes(tokenizer, content)) == (3, 2)
    others = [p.messages[0]["content"] for p in planned if p is not forged[0]]
    assert len(others) == 3 and not any("< |" in text for text in others)  # nothing to break up: sent as before
    assert any("Product number 2 plain" in text for text in others)
