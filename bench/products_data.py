"""Synthetic catalogue for the products benchmarks: a bench database and a fast COPY loader.

Shared by bench/products_latency.py and bench/products_index_cost.py (not a test, not imported
by the app). The bench database lives on the same PostgreSQL server as the app by default
(the embedded PostgreSQL 18 under var/postgres) and is named by BENCH_DATABASE (acme_bench).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "acme_bench")
EMBEDDED_SOCKET_DIR = ROOT / "var" / "postgres"

WORDS = (
    "alpha bravo cable delta ember falcon garnet harbor iris jasper kettle lumen maple nickel "
    "orbit pepper quartz raven saddle timber umber velvet walnut xenon yarrow zephyr amber "
    "birch cedar dune echo fjord glacier hollow indigo juniper kelp lagoon meadow nectar "
    "onyx prairie quill ridge sierra tundra upland vapor willow summit copper silver golden "
    "crimson cobalt linen marble granite canvas leather cotton wool steel brass"
).split()
FIRST = "Ada Bryce Carla Dmitri Elena Farid Greta Hugo Ines Jonas Kira Luca Mara Nils Olga".split()
LAST = "Jones Robinson Taylor Huerta Buckley Johnson Golden Wright Burch Novak Silva Okafor".split()


def server_url(database: str = "postgres") -> str:
    """postgres:// URL for `database` on the app's server (DATABASE_URL's server if set)."""
    base = os.environ.get("BENCH_SERVER_URL")
    if base:
        return f"{base.rstrip('/')}/{database}"
    host = quote(str(EMBEDDED_SOCKET_DIR), safe="")
    return f"postgres://postgres@{host}:5432/{database}"


def ensure_database() -> str:
    """Create the bench database if missing and migrate it; returns its DATABASE_URL."""
    with psycopg.connect(server_url(), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DATABASE]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{BENCH_DATABASE}"')
    url = server_url(BENCH_DATABASE)
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    return url


def product_rows(count: int, *, seed: int = 42, inactive_share: float = 0.1) -> Iterator[tuple]:
    """(name, sku, description, active) rows like the sample CSV: unique SKUs in mixed case."""
    rng = random.Random(seed)
    for index in range(count):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {rng.choice(WORDS).title()}"
        sku = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{index:07d}"
        if index % 7 == 0:
            sku = sku.upper()
        sentences = []
        for _ in range(rng.randint(1, 4)):
            words = rng.choices(WORDS, k=rng.randint(5, 12))
            sentences.append(" ".join(words).capitalize() + ".")
        description = "\n".join(sentences) if index % 5 == 0 else " ".join(sentences)
        yield name, sku, description, rng.random() >= inactive_share


def copy_products(conn: psycopg.Connection, count: int, *, batch: int = 50_000) -> float:
    """COPY `count` generated products into products_product; returns seconds spent."""
    started = time.perf_counter()
    with conn.cursor() as cursor:
        with cursor.copy(
            "COPY products_product (name, sku, description, active) FROM STDIN"
        ) as copy:
            for row in product_rows(count):
                copy.write_row(row)
    conn.commit()
    return time.perf_counter() - started
