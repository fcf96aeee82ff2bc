"""Write the project's small sample of every public source, in the publishers' real file formats.

The content is invented by this project (see ``sample_*.py``); the layout, file names, column names,
nesting and encodings are the publishers'. ``write_samples(root)`` is deterministic: the committed
``data/sample/<source>/`` files are its output, and tests/sources/test_source_samples.py checks that
they still are. Nothing in ``shoplm`` or ``tasks`` imports this: the readers and stages read the files.

    python -m data.generators.samples [ROOT]     # from the repository root; default ROOT: data/sample
"""

from __future__ import annotations

import csv
import io
import json
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from data.generators import sample_extra as extra
from data.generators import sample_reviews as rv
from data.generators import sample_shop as shop
from data.generators import sample_text as txt
from shoplm.sources.amazon_m2 import format_prev_items
from shoplm.sources.registry import DEFAULT_SAMPLE_ROOT

SAMPLE_FOLDERS = ("esci", "amazon_m2", "reviews2023", "ecinstruct", "mmlu", "alpaca")


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def _csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue()


def _jsonl(records: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def write_esci(folder: Path) -> list[Path]:
    extra_products, extra_queries = extra.esci_rows()
    products = {(key, locale): row for key, locale, *row in [*shop.ESCI_PRODUCTS, *extra_products]}
    examples: dict[str, list] = {c: [] for c in (
        "example_id", "query", "query_id", "product_id", "product_locale", "esci_label",
        "small_version", "large_version", "split")}
    example_id = 0
    for query_id, (query, locale, split, small, judged) in enumerate([*shop.ESCI_QUERIES, *extra_queries], start=1):
        for key, label in judged:
            if (key, locale) not in products:
                raise KeyError(f"ESCI sample: no product {key!r} in locale {locale!r}")
            values = (example_id, query, query_id, shop.fake_asin("esci:" + key), locale, label,
                      small, 1, split)
            for column, value in zip(examples, values):
                examples[column].append(value)
            example_id += 1
    product_columns: dict[str, list] = {c: [] for c in (
        "product_id", "product_title", "product_description", "product_bullet_point",
        "product_brand", "product_color", "product_locale")}
    for (key, locale), (title, brand, color, description, bullets) in products.items():
        bullet_text = None if bullets is None else "\n".join(b.strip() for b in bullets.split(";"))
        values = (shop.fake_asin("esci:" + key), title, description, bullet_text, brand, color, locale)
        for column, value in zip(product_columns, values):
            product_columns[column].append(value)
    ints = {"example_id", "query_id", "small_version", "large_version"}
    example_schema = pa.schema([(c, pa.int64() if c in ints else pa.string()) for c in examples])
    product_schema = pa.schema([(c, pa.string()) for c in product_columns])
    paths = [folder / "shopping_queries_dataset_examples.parquet",
             folder / "shopping_queries_dataset_products.parquet"]
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(examples, schema=example_schema), paths[0])
    pq.write_table(pa.table(product_columns, schema=product_schema), paths[1])
    return paths


def write_amazon_m2(folder: Path) -> list[Path]:
    header = ["id", "locale", "title", "price", "brand", "color", "size", "model", "material",
              "author", "desc"]
    products = [header] + [[shop.fake_asin("m2:" + key)] + [v or "" for v in rest]
                           for key, *rest in [*shop.M2_PRODUCTS, *extra.m2_rows()]]
    rng = random.Random(2023)
    sessions = [["prev_items", "next_item", "locale"]]
    for locale, count in shop.M2_SESSIONS_PER_LOCALE.items():
        families = shop.M2_FAMILIES[locale]
        for number in range(count):
            family = families[number % len(families)]
            length = rng.choice([2, 3, 3, 4, 5, 6, 8, 11])
            prev = [rng.choice(family)]
            while len(prev) < length:  # a walk through the family, revisits allowed
                prev.append(rng.choice([key for key in family if key != prev[-1]]))
            following = [key for key in family if key != prev[-1]]
            ids = [shop.fake_asin("m2:" + key) for key in prev]
            sessions.append([format_prev_items(ids), shop.fake_asin("m2:" + rng.choice(following)),
                             locale])
    return [_write_text(folder / "sessions_train.csv", _csv_text(sessions)),
            _write_text(folder / "products_train.csv", _csv_text(products))]


def write_reviews2023(folder: Path) -> list[Path]:
    paths = []
    extra_items, extra_reviews = extra.reviews_rows()
    all_reviews = {**rv.REVIEWS, **extra_reviews}
    for category, own in rv.ITEMS.items():
        items = [*own, *extra_items.get(category, [])]
        asins = {item[0]: shop.fake_asin("rv:" + item[0]) for item in items}
        meta, reviews = [], []
        for (key, main, title, avg, count, price, store, cats, feats, desc, details,
             bought) in items:
            meta.append({
                "main_category": main, "title": title, "average_rating": avg, "rating_number": count,
                "features": feats, "description": desc, "price": price,
                "images": [{"thumb": f"https://example.com/img/{key}_thumb.jpg",
                            "large": f"https://example.com/img/{key}_large.jpg",
                            "variant": "MAIN", "hi_res": None}],
                "videos": [], "store": store, "categories": cats, "details": details,
                "parent_asin": asins[key],
                "bought_together": None if bought is None else [asins[b] for b in bought],
            })
            for number, (rating, votes, verified, head, text) in enumerate(all_reviews[key]):
                images = []
                if number == 0 and votes > 10:
                    images = [{"small_image_url": f"https://example.com/rev/{key}_s.jpg",
                               "medium_image_url": f"https://example.com/rev/{key}_m.jpg",
                               "large_image_url": f"https://example.com/rev/{key}_l.jpg",
                               "attachment_type": "IMAGE"}]
                variant = number == 1 and key in ("bottle", "mouse")
                reviews.append({
                    "rating": rating, "title": head, "text": text, "images": images,
                    "asin": shop.fake_asin(f"rv:{key}:variant") if variant else asins[key],
                    "parent_asin": asins[key],
                    "user_id": shop.fake_id(f"user:{key}:{number}", "AE", 28),
                    "timestamp": 1_600_000_000_000 + 604_800_000 * len(reviews) + 3_600_000 * number,
                    "helpful_vote": votes, "verified_purchase": verified,
                })
        paths.append(_write_text(folder / f"{category}.jsonl", _jsonl(reviews)))
        paths.append(_write_text(folder / f"meta_{category}.jsonl", _jsonl(meta)))
    return paths


def write_ecinstruct(folder: Path) -> list[Path]:
    records = txt.ecinstruct_records()
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in records)
    return [_write_text(folder / "dataset.json", "[\n" + body + "\n]\n")]


def write_mmlu(folder: Path) -> list[Path]:
    paths = []
    composed = extra.mmlu_rows()
    for subject, own in txt.MMLU.items():
        rows = [*own, *composed.get(subject, [])]
        paths.append(_write_text(folder / "data" / "dev" / f"{subject}_dev.csv",
                                 _csv_text([list(r) for r in rows[:2]])))
        paths.append(_write_text(folder / "data" / "test" / f"{subject}_test.csv",
                                 _csv_text([list(r) for r in rows[2:]])))
    for source, rows in txt.MMLU_AUX.items():
        paths.append(_write_text(folder / "data" / "auxiliary_train" / f"{source}.csv",
                                 _csv_text([list(r) for r in rows])))
    return paths


def write_alpaca(folder: Path) -> list[Path]:
    records = [{"instruction": i, "input": x, "output": o} for i, x, o in [*txt.ALPACA, *extra.alpaca_rows()]]
    text = json.dumps(records, ensure_ascii=False, indent=4) + "\n"
    return [_write_text(folder / "alpaca_data_cleaned.json", text)]


WRITERS = {
    "esci": write_esci,
    "amazon_m2": write_amazon_m2,
    "reviews2023": write_reviews2023,
    "ecinstruct": write_ecinstruct,
    "mmlu": write_mmlu,
    "alpaca": write_alpaca,
}


def write_samples(root: str | Path = DEFAULT_SAMPLE_ROOT) -> list[Path]:
    """Write every source's sample under ``root/<folder>/``; returns the files written."""
    root = Path(root)
    return [path for folder, write in WRITERS.items() for path in write(root / folder)]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    for path in write_samples(args[0] if args else DEFAULT_SAMPLE_ROOT):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
