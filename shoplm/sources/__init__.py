"""Readers for the public datasets behind the training questions, in their published schemas.

Each reader takes the path where the publisher's files were put (a file or the publisher's folder),
returns a :class:`ReadResult` (a tidy pandas frame plus a report of skipped rows) and follows an
error policy (``on_error="raise" | "skip"``). The frames' columns are documented in each reader's
docstring and are the API the question builders rely on.

========================  ==========================================  ===========================
registry name             reader                                      publisher's files
========================  ==========================================  ===========================
``esci``                  :func:`read_esci`                           shopping_queries_dataset_*.parquet
``amazon_m2_sessions``    :func:`read_amazon_m2_sessions`             sessions_train.csv
``amazon_m2_products``    :func:`read_amazon_m2_products`             products_train.csv
``reviews2023``           :func:`read_reviews2023`                    <Category>.jsonl
``reviews2023_meta``      :func:`read_reviews2023_meta`               meta_<Category>.jsonl
``ecinstruct``            :func:`read_ecinstruct`                     dataset.json
``mmlu``                  :func:`read_mmlu`                           data/<split>/<subject>_<split>.csv
``alpaca``                :func:`read_alpaca`                         alpaca_data_cleaned.json
========================  ==========================================  ===========================
"""

from .alpaca import read_alpaca
from .amazon_m2 import (
    format_prev_items,
    parse_prev_items,
    read_amazon_m2_products,
    read_amazon_m2_sessions,
)
from .base import ReadResult, SourceError
from .ecinstruct import read_ecinstruct
from .esci import read_esci
from .mmlu import read_mmlu
from .registry import (
    SAMPLE_DIRS,
    SOURCES,
    get_reader,
    read_source,
    sample_path,
)
from .reviews2023 import read_reviews2023, read_reviews2023_meta

__all__ = [
    "SAMPLE_DIRS",
    "SOURCES",
    "ReadResult",
    "SourceError",
    "format_prev_items",
    "get_reader",
    "parse_prev_items",
    "read_alpaca",
    "read_amazon_m2_products",
    "read_amazon_m2_sessions",
    "read_ecinstruct",
    "read_esci",
    "read_mmlu",
    "read_reviews2023",
    "read_reviews2023_meta",
    "read_source",
    "sample_path",
]
