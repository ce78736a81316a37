"""Synthetic catalogue for the products benchmarks: a bench database and a fast COPY loader.

Shared by bench/products_latency.py and bench/products_index_cost.py (not a test, not imported
by the app). The bench database lives on the same PostgreSQL server as the app by default
(the embedded PostgreSQL 18 under var/postgres) and is named by BENCH_DATABASE (acme_bench).
"""

from __future__ import annotations

import csv
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import bench_db  # the bench helper beside this script
import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "acme_bench")

SAMPLE_CSV = Path(
    os.environ.get("BENCH_SAMPLE_CSV") or ROOT / "tests" / "data" / "products-sample.csv"
)


def vocabulary() -> tuple[list[str], list[str]]:
    """(words, names) from the sample catalogue, so trigram statistics look like real data."""
    words: set[str] = set()
    names: list[str] = []
    with SAMPLE_CSV.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            names.append(row["name"])
            words.update(word.strip(".,").lower() for word in row["description"].split())
    return sorted(word for word in words if word), names


def ensure_database() -> str:
    """Create the bench database if missing and migrate it; returns its DATABASE_URL."""
    return bench_db.ensure_database(bench_db.server_url(BENCH_DATABASE))


def product_rows(count: int, *, seed: int = 42, inactive_share: float = 0.1) -> Iterator[tuple]:
    """(name, sku, description, active) rows like the sample CSV: unique SKUs in mixed case."""
    rng = random.Random(seed)
    words, names = vocabulary()
    for index in range(count):
        name = rng.choice(names)
        sku = f"{rng.choice(words)}-{rng.choice(words)}-{index:07d}"
        if index % 7 == 0:
            sku = sku.upper()
        sentences = []
        for _ in range(rng.randint(1, 5)):
            sentence = " ".join(rng.choices(words, k=rng.randint(4, 11)))
            sentences.append(sentence.capitalize() + ".")
        description = "\n".join(sentences) if index % 3 == 0 else " ".join(sentences)
        yield name, sku, description, rng.random() >= inactive_share


def copy_products(conn: psycopg.Connection, count: int, *, batch: int = 50_000) -> float:
    """COPY `count` generated products into products_product; returns seconds spent."""
    started = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy("COPY products_product (name, sku, description, active) FROM STDIN") as copy,
    ):
        for row in product_rows(count):
            copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started
