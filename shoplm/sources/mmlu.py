"""MMLU (Hendrycks et al., "Measuring Massive Multitask Language Understanding"), github.com/hendrycks/test.

Published as ``data.tar``, which unpacks to::

    data/dev/<subject>_dev.csv        5 few-shot examples per subject
    data/val/<subject>_val.csv
    data/test/<subject>_test.csv
    data/auxiliary_train/<source>.csv arc_easy, arc_hard, aux_law_90s, mc_test, obqa, race,
                                      science_elementary, science_middle

Every CSV is headerless with six fields: question, A, B, C, D, answer letter.
"""

from __future__ import annotations

from pathlib import Path

from .base import (
    FieldError,
    ReadResult,
    RowErrors,
    SourceError,
    check_choices,
    check_decoded,
    check_limit,
    iter_csv,
    require_path,
    str_frame,
)

SPLITS = ("dev", "val", "test", "auxiliary_train")
ANSWERS = ("A", "B", "C", "D")
FIELDS = ("question", "A", "B", "C", "D", "answer")  # the CSV files have no header row
COLUMNS: dict[str, str] = {
    "subject": "str", "split": "str", "question": "str",
    "A": "str", "B": "str", "C": "str", "D": "str", "answer": "str",
}


def _split_dirs(path: Path) -> list[Path]:
    for root in (path, path / "data"):
        dirs = [root / s for s in SPLITS if (root / s).is_dir()]
        if dirs:
            return dirs
    if path.name in SPLITS:
        return [path]
    raise FileNotFoundError(f"MMLU: no {'/'.join(SPLITS)} folders in {path} (or {path / 'data'})")


def subject_and_split(file: Path) -> tuple[str, str]:
    """``data/test/marketing_test.csv`` -> ``("marketing", "test")``; auxiliary files keep their
    stem as the subject (``data/auxiliary_train/race.csv`` -> ``("race", "auxiliary_train")``)."""
    stem = file.stem
    split = file.parent.name if file.parent.name in SPLITS else None
    if split is None:
        split = next((s for s in SPLITS if stem.endswith(f"_{s}")), None)
    if split is None:
        raise SourceError(file, f"cannot tell the split: not in a {list(SPLITS)} folder and the "
                                "name does not end in _<split>")
    if stem.endswith(f"_{split}"):
        stem = stem[: -len(split) - 1]
    return stem, split


def read_mmlu(
    path: str | Path,
    *,
    splits: str | list[str] | None = None,
    subjects: str | list[str] | None = None,
    limit: int | None = None,
    on_error: str = "raise",
    progress: bool | None = None,
) -> ReadResult:
    """Read MMLU multiple-choice questions.

    Args:
        path: the unpacked ``data/`` folder (or its parent), one split folder, or one CSV file.
        splits: keep only these splits (``dev``, ``val``, ``test``, ``auxiliary_train``).
        subjects: keep only these subjects (file-name stems, e.g. ``"marketing"``, ``"race"``).
        limit: at most this many questions in total.
        on_error: ``"raise"`` or ``"skip"``; rows are named by their 1-based CSV ``line``.
            Malformed: bytes that are not UTF-8, not exactly six fields, an empty question, an answer
            other than A-D.

    Returns a :class:`ReadResult` whose frame has one row per question:

    ========  =====  ================================================================
    column    dtype  meaning
    ========  =====  ================================================================
    subject   str    from the file name (``high_school_physics``; ``race`` for auxiliary)
    split     str    ``dev`` / ``val`` / ``test`` / ``auxiliary_train``
    question  str    question text (auxiliary RACE rows include the passage)
    A         str    choice A (may be empty)
    B         str    choice B
    C         str    choice C
    D         str    choice D
    answer    str    correct letter, ``A``-``D``
    ========  =====  ================================================================
    """
    check_limit(limit)
    wanted_splits = check_choices("splits", splits, SPLITS)
    wanted_subjects = None if subjects is None else (
        {subjects} if isinstance(subjects, str) else set(subjects))
    path = require_path(path, "MMLU")
    if path.is_file():
        files = [path]
    else:
        files = [f for d in _split_dirs(path) for f in sorted(d.glob("*.csv"))]
    selected = []
    for file in files:
        subject, split = subject_and_split(file)
        if wanted_splits is not None and split not in wanted_splits:
            continue
        if wanted_subjects is not None and subject not in wanted_subjects:
            continue
        selected.append((file, subject, split))
    if wanted_subjects is not None:
        found = {subject for _, subject, _ in selected}
        if wanted_subjects - found:
            known = sorted({subject_and_split(f)[0] for f in files})
            raise ValueError(f"unknown subjects {sorted(wanted_subjects - found)}; known: {known}")
    errors = RowErrors(on_error)
    rows: list[dict[str, str]] = []
    for file, subject, split in selected:
        if limit is not None and len(rows) >= limit:
            break
        for line, fields in iter_csv(file, progress, f"MMLU {subject}"):
            if limit is not None and len(rows) >= limit:
                break
            try:
                check_decoded(fields, FIELDS)
                if len(fields) != 6:
                    raise FieldError(None, f"expected 6 fields (question, A-D, answer), "
                                          f"got {len(fields)}")
                question, a, b, c, d, answer = fields
                if not question.strip():
                    raise FieldError("question", "is empty")
                if answer.strip() not in ANSWERS:
                    raise FieldError("answer", f"{answer!r} not one of {list(ANSWERS)}")
            except FieldError as exc:
                errors.handle(SourceError(file, exc.reason, row=line, field=exc.field))
                continue
            rows.append({"subject": subject, "split": split, "question": question,
                         "A": a, "B": b, "C": c, "D": d, "answer": answer.strip()})
    return errors.result(str_frame(rows, COLUMNS), [f for f, _, _ in selected])
