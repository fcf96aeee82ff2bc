"""Generators of the data the project ships, kept beside that data and out of the ``shoplm`` package.

- :mod:`data.generators.samples` (with ``sample_shop``, ``sample_reviews``, ``sample_text``): the small
  invented sample of every public source in ``data/sample/<source>/``, in the publishers' formats; the
  default run and the reader tests read it.

Each writes its files deterministically, and a test regenerates them and compares byte for byte. They
are development tools: no stage runs them and the library never imports them (they import the library,
for the publishers' formats), so they are no DVC dependency either; the stages depend on the files.
Run from the repository root, e.g. ``python -m data.generators.samples``.
"""
