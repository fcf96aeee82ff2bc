"""Guess a ShopBench question's task type from what a hidden test set exposes.

A test set gives only ``input_field`` and ``is_multiple_choice``, yet the winning system put the task
type into its system prompt and chose its decoding limits by it. So the type is *predicted* here, with
an ordered list of readable rules: the first rule that matches wins.

Why this order:

* the flag is exact for multiple-choice (the organisers set it from the task type), so it goes first
  and, conversely, a question without the flag is never called multiple-choice;
* translation and title generation come next: the product title they quote can contain anything
  ("Output 3 Ports", "Top 3 ..."), and their instruction is unambiguous;
* the strongest phrasings ("permutation", "select 3", "rank the") come before weaker ones, because a
  retrieval prompt may say "rank" in passing and a ranking prompt never asks for "3 numbers";
* keyword rules are written to need the *instruction* form ("select 3 snippets", "rank the
  products"), so that words in the product text or review ("I recommend 2", "top-ranked") do not fire;
* keyphrase extraction is checked early, before the entity rules and before the long review it
  quotes can trigger anything: in the development set it is a *generation* task (ROUGE-L, task6)
  although it says "extract";
* the layout rules (how many numbered candidates the prompt lists) are a safety net for
  retrieval and ranking prompts worded in ways no keyword anticipates: ranking answers are
  permutations of at most 5 candidates (the parser drops numbers > 5), retrieval lists are longer.

``classify_task_type_with_rule`` also returns the name of the rule that fired, for debugging and for
logging to MLflow.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from shoplm.shopbench.records import TASK_TYPES

MULTIPLE_CHOICE, RANKING, RETRIEVAL, NER, GENERATION = TASK_TYPES


@dataclass(frozen=True)
class Rule:
    """One named rule: ``matches(text, is_multiple_choice)`` on the lower-cased prompt."""

    name: str
    task_type: str
    matches: Callable[[str, bool], bool]

    def __post_init__(self) -> None:
        TASK_TYPES.check(self.task_type)


def _regex(*patterns: str) -> Callable[[str, bool], bool]:
    compiled = [re.compile(p) for p in patterns]
    return lambda text, _flag: any(c.search(text) for c in compiled)


# Small candidate counts, in the languages ShopBench's multilingual track uses (en, de, es, fr, it, ja,
# zh). ShopBench retrieval asks for 3 ("select 3"); 5 and more would be a ranking-sized answer.
_FEW = r"(?:2|3|4|two|three|four|zwei|drei|vier|deux|trois|quatre|dos|tres|cuatro|due|tre|quattro)"
_FEW_CJK = r"[2-4２-４二三四]"
# Verbs that ask the model to pick items. Deliberately not "list"/"give"/"name" ("list three keywords"
# is a generation request) nor "find"/"recommend"/"return" (review text: "I had to return 2 items").
_PICK = (
    r"(?:select|choose|pick|identify|output|retrieve"
    r"|selecciona\w*|elige|escoge|s[ée]lectionne\w*|choisi\w*|w[äa]hle\w*|ausw[äa]hle\w*"
    r"|seleziona\w*|scegli\w*)"
)
# What a retrieval prompt asks to pick (after the count): "3 numbers", "three aspects", "three from".
_PICKED = (
    r"(?:numbers?|indices|indexes|ids|products?|items?|snippets?|aspects?|queries|query|candidates?"
    r"|options?|reviews?|keywords?|results?|categories|titles?|bullet|from|that|which"
    r"|n[úu]meros|nombres|zahlen|numeri|productos|produits|produkte|prodotti)\b"
)
_ORDINAL_WORDS = r"(?:relevan\w*|helpful\w*|likel\w*|prefer\w*|positive|negative|descending|ascending)"


def _count_numbered_options(text: str) -> int:
    """Length of the longest run of lines numbered 1., 2., 3., ... (also "1)" and "1.foo").

    Counting a *consecutive run from 1* keeps stray numbered lines (a "2. ..." inside a review)
    from inflating the count.
    """
    best = run = 0
    for line in text.splitlines():
        m = re.match(r"\s*(\d{1,2})\s*[.)]", line)
        if not m:
            continue
        number = int(m.group(1))
        if number == 1:
            run = 1
        elif number == run + 1:
            run += 1
        else:
            continue
        best = max(best, run)
    return best


RULES: tuple[Rule, ...] = (
    # The organisers' flag: exact for multiple-choice (4 options, "Answer:"), incl. rating 1-5 tasks.
    Rule("multiple_choice_flag", MULTIPLE_CHOICE, lambda _text, flag: flag),
    # "Translate the product title '...' into Italian", "Generate an adequate title for the product
    # when it appears on a(n) German online shopping website". First because a product title can
    # contain anything ("Output 3 Ports", "Top-Ranked"), and these instructions are unambiguous.
    Rule(
        "translation_or_title",
        GENERATION,
        _regex(
            r"\btranslate (?:the|this) (?:product )?(?:title|description|text|query|review|name)",
            r"\bgenerate (?:a|an|the) (?:\w+ ){0,2}title\b",
        ),
    ),
    # "Please extract the keyphrase from the review that mentions the given aspect": scored with
    # ROUGE-L as a *generation* task in the development set, although it says "extract". Early,
    # because the long review it quotes may say anything ("I had to return 2 items").
    Rule("keyphrase_generation", GENERATION, _regex(r"\bkey[- ]?phrases?\b")),
    # "You should output a permutation of 1 to 5", "Only respond with the ranking results".
    Rule(
        "ranking_permutation",
        RANKING,
        _regex(r"\bpermutaci[oó]n\b|\bpermutation\b|\bpermutazione\b|respond with the ranking|ranking results?"),
    ),
    # "Please select 3 snippets", "choose three aspects", "Output ONLY three numbers",
    # "You should output 3 numbers that correspond to ...", "Select three from the list", "the top 3
    # products"; de/es/fr/it/ja/zh too. The count must be followed by what is picked, so product text
    # such as "USB output 2.4A" or "I recommend 2 of them" does not fire.
    Rule(
        "retrieval_pick_k",
        RETRIEVAL,
        _regex(
            rf"\b(?:{_PICK}\b(?:\W+\w+){{0,3}}?\W+|top[- ]?)(?:top[- ]?)?{_FEW}\s+(?:[\w-]+\s+){{0,2}}?{_PICKED}",
            rf"{_FEW_CJK}\s*(?:つ|個|个|件|項目|项)?[^\n]{{0,12}}?(?:選|选|挑)",
            rf"(?:選|选|挑)[^\n]{{0,12}}?{_FEW_CJK}\s*(?:つ|個|个|件|項目|项)",
        ),
    ),
    # "please rank the products according to their relevance", "re-rank these reviews", "ranking of
    # the queries", "sort ... by relevance"; "ordena", "classez", "sortieren", "ordinare", "ランク",
    # "並べ替え", "排序". Imperative forms only: a product called "top-ranked" must not fire.
    Rule(
        "ranking_keyword",
        RANKING,
        _regex(
            r"\b(?:re-?)?rank\s+(?:the|these|those|all|them|each|following|\w+s)\b|\branking\s+(?:of|for)\b",
            rf"\b(?:sort|order|arrange)\b[^.\n]{{0,80}}\b{_ORDINAL_WORDS}",
            # Foreign verbs only with an article after them: bare "ordne"/"ordina" would fire on
            # "Ordner" (folder) and "ordinateur" (computer) in product text.
            r"\b(?:ordena|ordene|clasifica|classez|classe|triez|trie|sortiere|sortieren|ordne|ordnen"
            r"|ordina|ordinate|riordina)\s+(?:los|las|les|die|sie|i|gli|le)\b",
            r"ランク|順位|並べ替|並び替|排序|排名",
        ),
    ),
    # Retrieval without a count: "Please select the products that the user may also buy from the
    # following numbered list" (task14's second wording); "select the products that exactly match the
    # query ... output the numbers of the selected products" (found by the per-builder report: only the
    # 6+ candidates layout caught it, so with 5 candidates it was called ranking).
    Rule(
        "retrieval_pick_from_list",
        RETRIEVAL,
        _regex(
            rf"\b{_PICK}\b[^.\n]{{0,100}}\bfrom the (?:\w+ ){{0,2}}?(?:list|candidates)\b",
            rf"\b{_PICK}\s+(?:the|all)\s+(?:\w+\s+)?{_PICKED}\s+(?:that|which)\b",
            r"\bnumbers? of (?:the|all) (?:selected|chosen|picked|matching)\b",
        ),
    ),
    # "phrases ... that correspond to the entity type 'brand'", "named entities", in several languages.
    Rule(
        "ner_entity",
        NER,
        _regex(
            r"\bentit(?:y|ies)\b|\bnamed[- ]entit",
            r"\bentidad(?:es)?\b|\bentit[ée]s?\b|\bentit[äa]t(?:en)?\b|\bentit[àa]\b",
            r"エンティティ|固有表現|实体|實體",
        ),
    ),
    # "Extract all attribute values / phrases / spans / mentions of ..." (attribute value extraction).
    Rule(
        "ner_extract_spans",
        NER,
        _regex(
            r"\b(?:extract|extrae\w*|extraire|extrayez|extrahiere\w*|estrai\w*)\b[^.\n]{0,60}"
            r"\b(?:phrases?|spans?|mentions?|terms?|words?|values?|frases?|mots?|w[öo]rter|parole)\b",
            r"\battribute values?\b[^.\n]{0,40}\bextract|\bextract\w*\b[^.\n]{0,40}\battribute\b",
            r"(?:抽出|提取)[^\n]{0,20}(?:フレーズ|語|词|短语|属性)",
        ),
    ),
    # Explicit open-ended requests: "Explain the product type", "Tell me what this product category
    # is about", "Summarize ...", "Write a description". Checked before the layout rules so a
    # generation prompt that shows a numbered list is not mistaken for retrieval or ranking
    # ("explanations" is excluded: every retrieval prompt says "Do not give explanations").
    Rule(
        "generation_instruction",
        GENERATION,
        _regex(
            r"\bexplain\b|\bsummari[sz]e\b|\bparaphrase\b|\brewrite\b|\bdescribe\b|\btranslate\b",
            r"\b(?:generate|write|compose|create)\s+(?:a|an|the|one)\b|\btell me\b",
            r"\btradu[cz]\w*|\b[üu]bersetze\w*|翻訳|翻译|説明して|解释|生成",
        ),
    ),
    # Layout safety net: a long numbered candidate list (6+; ShopBench uses 10 or 15) is retrieval.
    Rule("numbered_list_long", RETRIEVAL, lambda text, _flag: _count_numbered_options(text) >= 6),
    # ... and exactly 5 numbered candidates is the ranking layout (nDCG over a permutation of 1-5).
    Rule("numbered_list_five", RANKING, lambda text, _flag: _count_numbered_options(text) == 5),
    # Everything else is free text: explanations, titles, answers to open questions.
    Rule("default_generation", GENERATION, lambda _text, _flag: True),
)


def classify_task_type_with_rule(input_field: str, is_multiple_choice: bool) -> tuple[str, str]:
    """Return ``(task_type, rule_name)``: the type and the name of the first rule that matched."""
    text = input_field.lower()
    for rule in RULES:
        if rule.matches(text, bool(is_multiple_choice)):
            return rule.task_type, rule.name
    raise AssertionError("unreachable: the last rule always matches")  # pragma: no cover


def classify_task_type(input_field: str, is_multiple_choice: bool) -> str:
    """Predict one of ``TASK_TYPES`` from the prompt text and the multiple-choice flag only."""
    return classify_task_type_with_rule(input_field, is_multiple_choice)[0]


def rule_names() -> list[str]:
    """The rule names in the order they are tried (for docs and MLflow params)."""
    return [rule.name for rule in RULES]

