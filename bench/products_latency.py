"""Catalogue latency at 500,000 products: list page and API, single client and 16 clients.

    .venv/bin/python bench/products_latency.py [--rows 500000] [--requests 25] [--seconds 20]

Steps:
1. Create/migrate the bench database (BENCH_DATABASE, default acme_bench, on the embedded
   PostgreSQL 18 under var/postgres; BENCH_SERVER_URL=postgres://user@host:port to use another
   server), TRUNCATE it and COPY --rows generated products into it, then VACUUM ANALYZE.
2. Time count strategies straight in PostgreSQL (exact count(*) vs the capped count).
3. Start gunicorn (gthread, 4 workers x 4 threads, DEBUG off) on a free loopback port.
4. Single client: p50/p95 of --requests requests per scenario, list page and API.
5. 16 concurrent clients (threads with requests) for --seconds over the page-1 scenarios.
5b. A full read of the catalogue through the API's cursor pages (1,000 a page), and the same
   keyset pages straight from PostgreSQL, with the ratio (target <= 10x).
6. With --delete-all: delete-all through the API, timed, while a probe keeps loading the list
   page (it empties the bench catalogue: the next run loads it again).
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.products_data import copy_products, ensure_database, vocabulary  # noqa: E402

USERNAME, PASSWORD = "bench", "bench-password-not-secret"  # noqa: S105 - bench database only
CLIENTS = 16
SINGLE_P95 = 50  # ms, issue #13's targets
CONCURRENT_P95 = 250
FULL_READ_RATIO = 10  # a full read through the API <= 10x the same read straight from PostgreSQL


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = max(0, math.ceil(share * len(ordered)) - 1)
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
        "LOG_LEVEL": "WARNING",
        # Plain HTTP on loopback: without these, DEBUG off redirects every request to https.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def load(url: str, rows: int) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("TRUNCATE products_product")
        conn.commit()
        seconds = copy_products(conn, rows)
    with psycopg.connect(url, autocommit=True) as conn:
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE products_product")
        vacuum = time.perf_counter() - started
    print(
        f"loaded {rows:,} products with COPY in {seconds:.1f} s "
        f"({rows / seconds:,.0f} rows/s, all indexes in place); VACUUM ANALYZE {vacuum:.1f} s"
    )


def pick_terms(url: str) -> dict[str, str]:
    """Search terms with known selectivity, taken from the loaded data (whichever generator or
    file it came from): the most common first and last word of the names, one whole name, a
    description's first three words, a piece of one SKU."""
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM products_product").fetchone()[0]
        # Fixed offsets at 500k (figures stay comparable), proportional below.
        sku, description = conn.execute(
            "SELECT sku, description FROM products_product ORDER BY id OFFSET %s LIMIT 1",
            [min(123_456, total // 4)],
        ).fetchone()
        name = conn.execute(
            "SELECT name FROM products_product ORDER BY id OFFSET %s LIMIT 1",
            [min(234_567, total // 2)],
        ).fetchone()[0]
        common = {}
        for part, position in (("first", 1), ("second", 2)):
            # The most common word at that position of the names, from every tenth product.
            common[part] = conn.execute(
                "SELECT lower(split_part(name, ' ', %s)) AS word FROM products_product "
                "WHERE id %% 10 = 0 AND length(split_part(name, ' ', %s)) >= 3 "
                "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                [position, position],
            ).fetchone()[0]
        has_the = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM products_product "
            "WHERE lower(description) LIKE '%% the %%' LIMIT 1000) s"
        ).fetchone()[0]
    words, _ = vocabulary()
    rare_phrase = " ".join(description.split()[:3]).lower()
    return {
        "sku": sku.lower(),
        "sku_fragment": sku[-7:],
        "common_name": common["first"],
        "common_surname": common["second"],
        "rare_name": name.lower(),
        "common_word": "the" if has_the >= 1000 else words[len(words) // 2],
        "rare_phrase": rare_phrase,
    }


def scenarios(terms: dict[str, str], last_page: int) -> list[tuple[str, dict]]:
    return [
        ("all, page 1", {}),
        ("all, page 100", {"page": 100}),
        ("all, last page", {"page": last_page}),
        ("sku exact (other case)", {"sku": terms["sku"].upper()}),
        ("name contains, common", {"name": terms["common_name"]}),
        ("name contains, common surname", {"name": terms["common_surname"]}),
        ("name common surname, by -name", {"name": terms["common_surname"], "ordering": "-name"}),
        ("name contains, rare", {"name": terms["rare_name"]}),
        ("description contains, common", {"description": terms["common_word"]}),
        ("description contains, rare", {"description": terms["rare_phrase"]}),
        ("active=true", {"active": "true"}),
        ("active=false", {"active": "false"}),
        ("search, common", {"search": terms["common_word"]}),
        ("search, rare (sku part)", {"search": terms["sku_fragment"]}),
        (
            "search + inactive, by -name",
            {"search": terms["common_name"], "active": "false", "ordering": "-name"},
        ),
        ("ordering=sku", {"ordering": "sku"}),
        ("ordering=-updated_at", {"ordering": "-updated_at"}),
    ]


def count_strategies(url: str, terms: dict[str, str]) -> None:
    """Exact count(*) against the capped count products/counting.py does, per filter."""
    cases = {
        "whole table": ("TRUE", []),
        "active=true": ("active", []),
        "description, common": ("lower(description) LIKE %s", [f"%{terms['common_word']}%"]),
        "search, common": (
            "lower(sku::text) LIKE %s OR lower(name::text) LIKE %s OR lower(description) LIKE %s",
            [f"%{terms['common_word']}%"] * 3,
        ),
    }
    print(f"\n{'count of':24} {'exact count(*) ms':>18} {'capped (1,001) ms':>19}")
    with psycopg.connect(url, autocommit=True) as conn:
        for label, (where, params) in cases.items():
            timings = {}
            for kind, sql in (
                ("exact", f"SELECT count(*) FROM products_product WHERE {where}"),
                (
                    "capped",
                    f"SELECT count(*) FROM (SELECT 1 FROM products_product "
                    f"WHERE {where} LIMIT 1001) s",
                ),
            ):
                samples = []
                for _ in range(5):
                    started = time.perf_counter()
                    conn.execute(sql, params).fetchone()
                    samples.append((time.perf_counter() - started) * 1000)
                timings[kind] = statistics.median(samples)
            print(f"{label:24} {timings['exact']:18.1f} {timings['capped']:19.1f}")


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "acme.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                "4",
                "--threads",
                "4",
                "--log-level",
                "warning",
                # The project's gunicorn.conf.py logs every request to stdout; not here.
                "--access-logfile",
                "/dev/null",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"{self.base}/health", timeout=1)
                return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, 15)
        self.process.wait(timeout=20)


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    response.raise_for_status()
    assert "/accounts/login/" not in response.url, "bench login failed"
    return session


def timed_get(session: requests.Session, url: str, params: dict) -> float:
    started = time.perf_counter()
    response = session.get(url, params=params)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} {params} answered {response.status_code}")
    return elapsed


def single_client(base: str, cases: list[tuple[str, dict]], requests_per_case: int) -> None:
    session = login(base)
    print(
        f"\nsingle client, {requests_per_case} requests each (ms; x target: p95 / {SINGLE_P95} ms)"
        f"; load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"{'scenario':32} {'page p50':>9} {'page p95':>9} {'x target':>8} "
        f"{'API p50':>9} {'API p95':>9} {'x target':>8}"
    )
    for label, params in cases:
        row = []
        for path in ("/products/", "/api/products/"):
            for _ in range(3):
                timed_get(session, base + path, params)
            samples = [timed_get(session, base + path, params) for _ in range(requests_per_case)]
            p95 = percentile(samples, 0.95)
            row.append(f"{statistics.median(samples):9.1f} {p95:9.1f} {p95 / SINGLE_P95:8.2f}")
        print(f"{label:32} " + " ".join(row))


def concurrent_clients(base: str, cases: list[tuple[str, dict]], seconds: float) -> None:
    page_one = [(label, params) for label, params in cases if "page" not in params]
    cookies = login(base).cookies
    latencies: dict[str, list[float]] = {"page": [], "api": []}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client(number: int) -> None:
        session = requests.Session()
        session.cookies.update(cookies)
        index = number
        while time.monotonic() < stop_at:
            _, params = page_one[index % len(page_one)]
            kind = "page" if index % 2 == 0 else "api"
            path = "/products/" if kind == "page" else "/api/products/"
            try:
                elapsed = timed_get(session, base + path, params)
            except Exception as error:  # reported below
                with lock:
                    errors.append(str(error))
                continue
            with lock:
                latencies[kind].append(elapsed)
            index += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = len(latencies["page"]) + len(latencies["api"])
    print(
        f"\n{CLIENTS} concurrent clients for {seconds:.0f} s over the page-1 scenarios: "
        f"{total:,} requests, {total / seconds:.0f} req/s, {len(errors)} errors; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    for kind, values in latencies.items():
        p95 = percentile(values, 0.95)
        print(
            f"  {kind:5} p50 {statistics.median(values):7.1f} ms   p95 {p95:7.1f} ms "
            f"({p95 / CONCURRENT_P95:.2f}x the {CONCURRENT_P95} ms target)   "
            f"p99 {percentile(values, 0.99):7.1f} ms"
        )
    if errors:
        print("  first error:", errors[0])


def cpu_seconds(pids: list[int]) -> float:
    """CPU time so far of these processes (all their threads) and their children
    (/proc/<pid>/stat utime + stime, in clock ticks)."""
    total, seen, todo = 0, set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
            with open(f"/proc/{pid}/task/{pid}/children") as handle:
                todo += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return total / os.sysconf("SC_CLK_TCK")


def postmaster_pid() -> int | None:
    """The embedded PostgreSQL's postmaster (None for a server given by BENCH_SERVER_URL)."""
    if os.environ.get("BENCH_SERVER_URL"):
        return None
    try:
        return int((ROOT / "var" / "postgres" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def full_read(server: Server, url: str, page_size: int = 1000) -> None:
    """Every product through the API's cursor pages, then the same keyset pages straight
    from PostgreSQL (psycopg, same columns), in the same run; wall time and CPU time (this
    client, gunicorn, PostgreSQL) of each: on a busy machine the CPU ratio is the one a
    quiet machine would show."""
    base = server.base
    session = login(base)
    postgres = postmaster_pid()

    def cpu() -> tuple[float, float, float]:
        database = cpu_seconds([postgres]) if postgres else 0.0
        return time.process_time(), cpu_seconds([server.process.pid]), database

    api_rows, pages = 0, 0
    cpu_before = cpu()
    started = time.perf_counter()
    next_url = f"{base}/api/products/?cursor=&page_size={page_size}"
    while next_url:
        response = session.get(next_url)
        response.raise_for_status()
        body = response.json()
        api_rows += len(body["results"])
        pages += 1
        next_url = body["next"]
    api_seconds = time.perf_counter() - started
    api_cpu = [after - before for after, before in zip(cpu(), cpu_before, strict=True)]
    pg_rows, last = 0, 0
    cpu_before = cpu()
    started = time.perf_counter()
    with psycopg.connect(url) as conn:
        while True:
            batch = conn.execute(
                "SELECT id, sku, name, description, active, created_at, updated_at "
                "FROM products_product WHERE id > %s ORDER BY id LIMIT %s",
                [last, page_size],
            ).fetchall()
            if not batch:
                break
            pg_rows += len(batch)
            last = batch[-1][0]
    pg_seconds = time.perf_counter() - started
    pg_cpu = [after - before for after, before in zip(cpu(), cpu_before, strict=True)]
    ratio = api_seconds / pg_seconds
    print(
        f"\nfull read, pages of {page_size:,}: API (cursor) {api_rows:,} products in "
        f"{pages} pages, "
        f"{api_seconds:.1f} s; straight from PostgreSQL {pg_rows:,} in {pg_seconds:.2f} s; "
        f"{ratio:.1f}x ({'ok' if ratio <= FULL_READ_RATIO else 'MISS'}, target "
        f"<= {FULL_READ_RATIO}x); load average {os.getloadavg()[0]:.1f}"
    )
    cpu_ratio = sum(api_cpu) / max(sum(pg_cpu), 1e-9)
    print(
        f"  CPU seconds (client / gunicorn / PostgreSQL): API read {api_cpu[0]:.1f} / "
        f"{api_cpu[1]:.1f} / {api_cpu[2]:.1f} = {sum(api_cpu):.1f}; PostgreSQL read "
        f"{pg_cpu[0]:.1f} / {pg_cpu[1]:.1f} / {pg_cpu[2]:.1f} = {sum(pg_cpu):.1f}; "
        f"{cpu_ratio:.1f}x ({'ok' if cpu_ratio <= FULL_READ_RATIO else 'MISS'} on a quiet "
        "machine, where wall time follows CPU time)"
    )


def delete_all(base: str, sku: str) -> None:
    session = login(base)
    token = session.cookies.get("csrftoken")
    probe_latencies: list[float] = []
    done = threading.Event()

    def probe() -> None:
        probe_session = requests.Session()
        probe_session.cookies.update(session.cookies)
        while not done.is_set():
            probe_latencies.append(timed_get(probe_session, f"{base}/products/", {"sku": sku}))

    thread = threading.Thread(target=probe)
    thread.start()
    time.sleep(0.5)
    started = time.perf_counter()
    response = session.post(
        f"{base}/api/products/delete-all/",
        json={"confirm": True},
        headers={"X-CSRFToken": token, "Referer": f"{base}/products/"},
    )
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    done.set()
    thread.join()
    print(
        f"\ndelete-all via API: {response.status_code} {response.json()} in {elapsed:.2f} s; "
        f"list page meanwhile: max {max(probe_latencies):.0f} ms over "
        f"{len(probe_latencies)} requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--reuse", action="store_true", help="keep the products already loaded if enough"
    )
    parser.add_argument("--delete-all", action="store_true", help="end with a timed delete-all")
    parser.add_argument("--no-full-read", action="store_true", help="skip the full API read")
    parser.add_argument("--only-full-read", action="store_true", help="only the full API read")
    args = parser.parse_args()

    url = ensure_database()
    print(f"bench database: {url.rsplit('/', 1)[-1]} ({url.split('@', 1)[1].split('/')[0]})")
    env = server_env(url)
    with psycopg.connect(url) as conn:
        loaded = conn.execute("SELECT count(*) FROM products_product").fetchone()[0]
    if args.reuse and loaded >= args.rows:
        print(f"reusing the {loaded:,} products already loaded")
    else:
        load(url, args.rows)
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        (
            "from django.contrib.auth.models import User; "
            f"u, _ = User.objects.get_or_create(username='{USERNAME}'); "
            f"u.is_staff = u.is_superuser = True; u.set_password('{PASSWORD}'); u.save()"
        ),
    )
    terms = pick_terms(url)
    with psycopg.connect(url) as conn:
        total = conn.execute("SELECT count(*) FROM products_product").fetchone()[0]
    cases = scenarios(terms, last_page=math.ceil(total / 25))
    if not args.only_full_read:
        count_strategies(url, terms)

    server = Server(env)
    try:
        if not args.only_full_read:
            single_client(server.base, cases, args.requests)
            concurrent_clients(server.base, cases, args.seconds)
        if not args.no_full_read:
            full_read(server, url)
        if args.delete_all:
            delete_all(server.base, terms["sku"])
    finally:
        server.stop()


if __name__ == "__main__":
    main()
