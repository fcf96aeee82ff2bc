"""The classifier's report on labelled questions: per builder, without the flag, and a confusion table."""

from __future__ import annotations

from shoplm.shopbench.records import Question
from shoplm.shopbench.tasktype_report import classifier_report, confusion_markdown

FIVE = "\n1. a\n2. b\n3. c\n4. d\n5. e\n"


def _question(text: str, task_type: str, flag: bool = False) -> Question:
    output, metric = {"multiple-choice": (1, "accuracy"), "ranking": ([1, 2, 3, 4, 5], "ndcg"),
                      "retrieval": ([1, 2], "hit rate@3"), "generation": ("text", "rougel")}[task_type]
    return Question(input_field=text, output_field=output, task_type=task_type, is_multiple_choice=flag,
                    task_name="t", metric=metric, track="amazon-kdd-cup-24-understanding-shopping-concepts")


def test_report_counts_per_builder_and_names_the_misfiring_rule() -> None:
    questions = [
        _question("Which one? 0. a 1. b\nAnswer: ", "multiple-choice", flag=True),
        _question("Rank the products by relevance." + FIVE, "ranking"),
        _question("Here are some products." + FIVE, "retrieval"),   # only the 5-candidate layout: ranking
        _question("Explain the product type 'kettle'.", "generation"),
    ]
    report = classifier_report(questions, ["mc", "rank", "retr", "gen"])
    assert report["overall"] == {"n": 4, "correct": 3, "accuracy": 0.75}
    assert report["without_flag"] == {"n": 3, "correct": 2, "accuracy": 0.6667}
    assert report["per_group"]["retr"]["misfired_rules"] == {"numbered_list_five→ranking": 1}
    assert report["per_group"]["mc"]["rules"] == {"multiple_choice_flag": 1}
    assert report["confusion"]["retrieval"] == {"ranking": 1}
    table = confusion_markdown(report)
    assert "| retr | 1 | 0 | 0.000 | numbered_list_five ×1 | numbered_list_five→ranking ×1 |" in table
    assert "| retrieval | 0 | 0 | 1 | 0 |" in table  # columns: generation, multiple-choice, ranking, retrieval
