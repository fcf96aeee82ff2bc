"""Table 7 rows that need an LLM (seed 003, "LLM = Yes"): declared here, built by the synthesis stage.

Each declaration names the row's Table 7 number, source frames, task type, metric and track; what the row
asks the model (``LLMRequest``: the source columns placed in the prompt, the prompt, the JSON fields the
model must return) is data, in ``shoplm/synthesis/templates/*.yaml`` with the reply's JSON schema.
The synth stage validates the JSON and assembles ShopBench questions in the dev layout of the task the
row resembles (``shoplm/synthesis/assemble_*.py``); ``build`` reads them back from the
``synthetic`` frame, so a mixture lists an LLM row like any other builder.

Two ways the seed used an LLM (section 3 of seed 003):

* extract labels first, then build the question from data (rows 1, 2, 3, 4, 20): the LLM reads one
  product or review and returns facts (a product type, aspects, snippets); options and distractors
  come from other rows' extractions, so the LLM never writes the answer key by itself;
* rephrase a dataset's task (ECInstruct rows 11-15): the LLM restates the record's instruction,
  input and options as one ShopBench-style question, keeping the record's answer, which the
  synthesis stage checks against the record's ``output``;
* instruction wordings (ESCI rows 21-26): GPT-4 wrote the instructions with different wordings; the
  options come from ESCI judgements (the correct one from an E entry, the others from S/C/I entries
  of the same query), so the LLM is asked once per row for a list of wordings, grounded by one
  example row.

Column conventions: Reviews 2023 rows are reviews joined with their item's metadata on
``parent_asin``; the metadata ``title`` is ``meta_title`` (the review has its own ``title``).
"""

from __future__ import annotations

from shoplm.builders.layout import TRACK_BEHAVIOR, TRACK_CONCEPTS, TRACK_REASONING
import functools

from shoplm.builders.registry import SYNTHETIC_FRAME, BuildContext, LLMRequest
from shoplm.builders.registry import register_llm as _register
from shoplm.shopbench.records import question_from_dict
from shoplm.synthesis.templates import get_template


def _synthesized(name: str):
    """The build function of row ``name``: its questions from the synth stage's output, in order."""

    def build(ctx: BuildContext):
        frame = ctx.frame(SYNTHETIC_FRAME)
        for record in frame[frame["row"] == name].drop(columns="row").to_dict(orient="records"):
            yield question_from_dict(record, source=f"{SYNTHETIC_FRAME} frame, row {name}")

    build.__name__ = f"synthesized_{name.replace('-', '_')}"
    return build


@functools.wraps(_register)
def register_llm(name: str, **fields) -> None:  # every LLM row reads its synthesized questions
    _register(name, build=_synthesized(name), **fields)


def _request(name: str) -> LLMRequest:
    """What row ``name`` asks the model, read from its template file (shoplm/synthesis/templates/)."""
    row = get_template(name)
    return LLMRequest(purpose=row.purpose, inputs=row.inputs, outputs=row.outputs, template=row.template)

# ---------------------------------------------------------------------------------------------------
# Extract, then build (rows 1, 2, 3, 4, 20)
# ---------------------------------------------------------------------------------------------------

register_llm(
    "m2-attribute-category-mc", table7_row=1, frames=("amazon_m2_products",),
    task_type="multiple-choice", metric="accuracy", track=TRACK_CONCEPTS, adapters=("v7", "v8"),
    description="Task2: 'Which of the following product categories may have the attribute X?'; the LLM "
                "extracts each product's category and attribute names, options are other products' "
                "categories that lack the attribute.",
    llm=_request("m2-attribute-category-mc"),
)

register_llm(
    "reviews-snippet-retrieval", table7_row=2, frames=("reviews2023", "reviews2023_meta"),
    task_type="retrieval", metric="hit rate@3", track=TRACK_CONCEPTS, adapters=("v7", "v7b", "v8"),
    description="Task3: given a product type and a sentiment on an aspect, select the 3 review snippets "
                "a customer is most likely to write, among 15; the LLM extracts snippets with aspect and "
                "sentiment, distractors are other aspects' or products' snippets.",
    llm=_request("reviews-snippet-retrieval"),
)

register_llm(
    "reviews-aspect-retrieval", table7_row=3, frames=("reviews2023", "reviews2023_meta"),
    task_type="retrieval", metric="hit rate@3", track=TRACK_CONCEPTS, adapters=("v7", "v7b", "v8"),
    description="Task7: given a product type and a review, choose the 3 aspects the review covers from a "
                "list of 10; the LLM lists covered aspects and plausible uncovered ones.",
    llm=_request("reviews-aspect-retrieval"),
)

register_llm(
    "reviews-complement-category-mc", table7_row=4, frames=("reviews2023_meta",),
    task_type="multiple-choice", metric="accuracy", track=TRACK_REASONING, adapters=("v7", "v7b", "v8"),
    description="Task10: 'Which of the following product categories best complement the product type X?'; "
                "the LLM names the product type, complementary and unrelated product types.",
    llm=_request("reviews-complement-category-mc"),
)

register_llm(
    "m2-product-type-explanation", table7_row=20, frames=("amazon_m2_products",),
    task_type="generation", metric="sent-transformer", track=TRACK_CONCEPTS, adapters=("v7", "v8"),
    description="Task1-like: 'Explain the product type X' answered with a one-to-two sentence definition; "
                "the LLM extracts the type from title and description and writes the explanation.",
    llm=_request("m2-product-type-explanation"),
)

# ---------------------------------------------------------------------------------------------------
# ECInstruct tasks rephrased as ShopBench questions (rows 11-15)
# ---------------------------------------------------------------------------------------------------

register_llm(
    "ecinstruct-attribute-ner", table7_row=11, frames=("ecinstruct",),
    task_type="named_entity_recognition", metric="micro f1", track=TRACK_CONCEPTS, adapters=("v7", "v8"),
    description="ECInstruct Attribute_Value_Extraction as task4-style extraction: 'extract phrases from the "
                "product text that correspond to the attribute X'; gold = values copied verbatim.",
    llm=_request("ecinstruct-attribute-ner"),
)

register_llm(
    "ecinstruct-product-classification-mc", table7_row=12, frames=("ecinstruct",),
    task_type="multiple-choice", metric="accuracy", track=TRACK_BEHAVIOR, adapters=("v7", "v8"),
    description="ECInstruct Multiclass_Product_Classification (query-product relevance E/S/C/I) rephrased "
                "as a dev-style MC question.",
    llm=_request("ecinstruct-product-classification-mc"),
)

register_llm(
    "ecinstruct-relation-mc", table7_row=13, frames=("ecinstruct",),
    task_type="multiple-choice", metric="accuracy", track=TRACK_BEHAVIOR, adapters=("v7", "v8"),
    description="ECInstruct Product_Relation_Prediction (also bought / also viewed / similar) rephrased "
                "as a dev-style MC question.",
    llm=_request("ecinstruct-relation-mc"),
)

register_llm(
    "ecinstruct-query-product-retrieval", table7_row=14, frames=("ecinstruct",),
    task_type="retrieval", metric="hit rate@3", track=TRACK_BEHAVIOR, adapters=("v7", "v8"),
    description="ECInstruct Query_Product_Rank as task14-style retrieval: select the 3 products most "
                "relevant to the query from the numbered list (gold = the top of the record's ranking).",
    llm=_request("ecinstruct-query-product-retrieval"),
)

register_llm(
    "ecinstruct-sequential-recommendation-mc", table7_row=15, frames=("ecinstruct",),
    task_type="multiple-choice", metric="accuracy", track=TRACK_BEHAVIOR, adapters=("v7", "v8"),
    description="ECInstruct Sequential_Recommendation (next purchase from history) rephrased as a "
                "dev-style MC question.",
    llm=_request("ecinstruct-sequential-recommendation-mc"),
)

# ---------------------------------------------------------------------------------------------------
# ESCI multiple choice with LLM-written instruction wordings (rows 21-26)
# ---------------------------------------------------------------------------------------------------

_ESCI_OPTIONS = ("The options come from ESCI judgements: the correct one from an E (exact) entry, the "
                 "others from S/C/I entries of the same query.")

for _name, _row, _track, _task in (
        ("esci-query-for-description-mc", 21, TRACK_BEHAVIOR, "Select the user query that matches the product description"),
        ("esci-query-for-features-mc", 22, TRACK_BEHAVIOR, "Select the user query that matches the product features"),
        ("esci-query-for-title-mc", 23, TRACK_BEHAVIOR, "Select the user query that matches the product title"),
        ("esci-title-for-description-mc", 24, TRACK_CONCEPTS, "Select the title for the product description"),
        ("esci-title-for-features-mc", 25, TRACK_CONCEPTS, "Select the title for the product features"),
        ("esci-title-for-query-mc", 26, TRACK_BEHAVIOR, "Select the product title for the user query")):
    register_llm(_name, table7_row=_row, frames=("esci",), task_type="multiple-choice", metric="accuracy",
                 track=_track, adapters=("v7", "v8"), description=f"{_task} (MC). {_ESCI_OPTIONS}",
                 llm=_request(_name))
