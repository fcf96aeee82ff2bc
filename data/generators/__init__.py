"""Generators of the data the project ships, kept beside that data and out of the ``shoplm`` package.

- :mod:`data.generators.samples` (with ``sample_shop``, ``sample_reviews``, ``sample_text``): the small
  invented sample of every public source in ``data/sample/<source>/``, in the publishers' formats; the
  default run and the reader tests read it.
- :mod:`data.generators.corpus` (with ``corpus_items``, ``corpus_tasks``, ``corpus_vocabulary``): the
  tiny test model's training text ``data/corpus/tiny_corpus.txt`` and its probe's held-out questions
  ``data/corpus/probe_questions.jsonl`` (read by :mod:`shoplm.modeling.corpus`).

Each writes its files deterministically, and a test regenerates them and compares byte for byte. They
are development tools: no stage runs them and the library never imports them (they import the library,
for the publishers' formats), so they are no DVC dependency either; the stages depend on the files.
Run from the repository root: ``python -m data.generators.samples``, ``python -m data.generators.corpus``.
"""
