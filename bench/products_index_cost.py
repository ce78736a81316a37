"""What each products index costs a 500k-row bulk load (the import's COPY), and to build.

    .venv/bin/python bench/products_index_cost.py [--rows 500000]

Loads the same pre-generated rows (CSV in memory, so generation is not timed) with COPY into a
scratch copy of products_product in the bench database, once per cumulative index set:
  1. primary key + unique lower(sku)      (the minimum: the merge's ON CONFLICT needs it)
  2. + btree sort indexes                 (name,id / updated_at,id / partial inactive)
  3. + trigram GIN on lower(sku), lower(name)
  4. + trigram GIN on lower(description)  (the whole set in products/models.py)
then times building each index on the loaded table (the drop-and-rebuild alternative).
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.products_data import ensure_database, product_rows  # noqa: E402

SCRATCH = "bench_index_cost"
SETS = [
    ("pk + unique lower(sku)", ["product_sku_lower_unique"]),
    (
        "+ btree sort indexes",
        ["product_name_id", "product_updated_at_id", "product_inactive_name_id"],
    ),
    ("+ trgm lower(sku), lower(name)", ["product_sku_lower_trgm", "product_name_lower_trgm"]),
    ("+ trgm lower(description)", ["product_description_lower_trgm"]),
]


def index_definitions(conn: psycopg.Connection) -> dict[str, str]:
    rows = conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'products_product'"
    ).fetchall()
    return {
        name: definition.replace("public.products_product", f"public.{SCRATCH}").replace(
            f"INDEX {name} ", f"INDEX {SCRATCH}_{name} "
        )
        for name, definition in rows
    }


def generate_csv(rows: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for name, sku, description, active in product_rows(rows):
        writer.writerow((name, sku, description, "t" if active else "f"))
    return buffer.getvalue().encode()


def recreate_scratch(conn: psycopg.Connection) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {SCRATCH}")
    conn.execute(
        f"CREATE TABLE {SCRATCH} (LIKE products_product INCLUDING DEFAULTS INCLUDING IDENTITY)"
    )
    conn.execute(f"ALTER TABLE {SCRATCH} ADD PRIMARY KEY (id)")


def copy_into_scratch(conn: psycopg.Connection, data: bytes) -> float:
    started = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy(
            f"COPY {SCRATCH} (name, sku, description, active) FROM STDIN WITH (FORMAT csv)"
        ) as copy,
    ):
        for offset in range(0, len(data), 1 << 20):
            copy.write(data[offset : offset + (1 << 20)])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    args = parser.parse_args()

    url = ensure_database()
    print(f"bench database: {url.rsplit('/', 1)[-1]}, {args.rows:,} rows")
    started = time.perf_counter()
    data = generate_csv(args.rows)
    print(f"generated {len(data) / 1e6:.0f} MB of CSV in {time.perf_counter() - started:.1f} s")

    with psycopg.connect(url, autocommit=True) as conn:
        definitions = index_definitions(conn)
        active: list[str] = []
        previous = None
        print(f"\n{'index set':36} {'COPY s':>8} {'rows/s':>9} {'vs previous':>12}")
        for label, names in SETS:
            active.extend(names)
            recreate_scratch(conn)
            for name in active:
                conn.execute(definitions[name])
            seconds = copy_into_scratch(conn, data)
            delta = f"+{seconds - previous:.1f} s" if previous is not None else ""
            print(f"{label:36} {seconds:8.1f} {args.rows / seconds:9,.0f} {delta:>12}")
            previous = seconds

        # The same full-set load with a big GIN pending list: rows are appended unsorted and
        # merged into the trigram trees in one batch (gin_clean_pending_list) at the end.
        recreate_scratch(conn)
        for name in active:
            conn.execute(definitions[name])
        conn.execute("SET gin_pending_list_limit = '1GB'")
        conn.execute("SET work_mem = '256MB'")
        seconds = copy_into_scratch(conn, data)
        started = time.perf_counter()
        for name in active:
            if name.endswith("_trgm"):
                conn.execute("SELECT gin_clean_pending_list(%s::regclass)", [f"{SCRATCH}_{name}"])
        flush = time.perf_counter() - started
        conn.execute("RESET gin_pending_list_limit")
        conn.execute("RESET work_mem")
        print(
            f"{'all, pending list 1GB + flush':36} {seconds + flush:8.1f} "
            f"{args.rows / (seconds + flush):9,.0f}   (COPY {seconds:.1f} s + flush {flush:.1f} s)"
        )

        print(f"\n{'build on the loaded table':36} {'s':>8}")
        for name in active:
            conn.execute(f"DROP INDEX {SCRATCH}_{name}")
            started = time.perf_counter()
            conn.execute(definitions[name])
            print(f"{name:36} {time.perf_counter() - started:8.1f}")
        sizes = conn.execute(
            "SELECT indexrelname, pg_size_pretty(pg_relation_size(indexrelid)) "
            "FROM pg_stat_user_indexes WHERE relname = %s ORDER BY indexrelname",
            [SCRATCH],
        ).fetchall()
        print(
            "\nindex sizes: " + ", ".join(f"{n.removeprefix(SCRATCH + '_')} {s}" for n, s in sizes)
        )
        conn.execute(f"DROP TABLE {SCRATCH}")


if __name__ == "__main__":
    main()
