"""Database writes while a rate-limited webhook backlog drains.

    DEBUG=true .venv/bin/python bench/webhooks_backlog.py [--events 2000] [--window 60]
                                                          [--windows 5]

What it does (everything on this machine, loopback only):
1. A bench database `acme_bench_backlog` (BENCH_BACKLOG_DATABASE) on the app's PostgreSQL
   server (the embedded one under var/postgres by default), migrated and emptied; Redis db 10
   (BENCH_REDIS_URL) and queues `acme-bench-backlog.*`, so running tests are not disturbed.
2. A receiver answering 204, and one Celery worker (2 pool processes) consuming the webhooks
   and housekeeping queues, with beat, WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS=`--window`.
3. One endpoint limited to 1 delivery per window; `--events` product.created events for it.
4. Once every event's message has been handled (one delivery sent, the rest waiting), it
   watches `--windows` windows and prints, per window, the rows inserted, updated and deleted
   in the webhooks tables (pg_stat_user_tables deltas) and the deliveries sent, then the
   writes per minute. The limit is 1 per window, so a few writes per window is the target;
   rewriting the waiting rows would cost about `--events` writes per window.
pg_stat counters reach the statistics a little after each commit (up to ~1 s, 10 s for an
idle backend), so a window's figure can include the tail of the one before.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import bench_db  # the bench helper beside this script
from webhooks_throughput import RECEIVER, Processes, free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = os.environ.get("BENCH_BACKLOG_DATABASE", "acme_bench_backlog")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/10")
BENCH_PREFIX = "acme-bench-backlog"
TABLES = ("webhooks_delivery", "webhooks_deliveryattempt", "webhooks_webhookendpoint")


def table_writes() -> dict[str, int]:
    """Rows inserted + updated + deleted so far, per webhooks table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            [list(TABLES)],
        )
        return dict(cursor.fetchall())


def counts() -> dict[str, int]:
    from django.db.models import Count

    from webhooks.models import Delivery

    return dict(Delivery.objects.values_list("status").annotate(n=Count("id")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--window", type=int, default=60, help="rate window in seconds")
    parser.add_argument("--windows", type=int, default=5, help="windows to measure")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    url = bench_db.ensure_database(bench_db.server_url(BENCH_DATABASE))
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=BENCH_REDIS_URL,
        CELERY_QUEUE=BENCH_PREFIX,
        DEBUG="true",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS=str(args.window),
        DJANGO_SETTINGS_MODULE="acme.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from acme.celery import app
    from acme.lib.redis_client import get_redis
    from webhooks.events import emit
    from webhooks.models import Delivery, WebhookEndpoint

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}")
    for key in get_redis().scan_iter(match="acme:webhooks:*"):
        get_redis().delete(key)
    app.control.purge()

    processes = Processes()
    receiver_port = free_port()
    queues = f"{settings.ACME_QUEUES['webhooks']},{settings.ACME_QUEUES['housekeeping']}"
    try:
        processes.start("receiver", [sys.executable, "-c", RECEIVER, str(receiver_port)])
        processes.start(
            "backlog-worker",
            [sys.executable, "-m", "celery", "-A", "acme", "worker", "--loglevel=WARNING",
             "--concurrency=2", f"--queues={queues}", "--hostname=backlog@%h", "--beat",
             f"--schedule={ROOT / 'var' / 'bench-backlog-beat'}"],
        )  # fmt: skip
        endpoint = WebhookEndpoint.objects.create(
            url=f"http://127.0.0.1:{receiver_port}/backlog",
            events=["product.created"],
            rate_limit=1,
        )
        started = time.monotonic()
        for first in range(0, args.events, 200):
            with transaction.atomic():
                for number in range(first, min(first + 200, args.events)):
                    emit("product.created", {"id": number, "sku": f"BACKLOG-{number}"})
        print(f"{args.events} events for endpoint {endpoint.id} (limit 1 per {args.window} s)")
        # (A design that reschedules each waiting delivery keeps them queued for a later
        # window, and may never settle: "handled" means none is due or being sent, and the
        # measurement starts after at most three windows anyway.)
        settle_by = time.monotonic() + 3 * args.window
        while (
            time.monotonic() < settle_by
            and Delivery.objects.filter(
                status__in=["queued", "sending"], next_attempt_at__lte=timezone.now()
            ).exists()
        ):
            time.sleep(0.5)
        state = counts()
        print(f"after {time.monotonic() - started:.1f} s: {state}")
        time.sleep(2)  # let the statistics catch up with that burst

        print(
            f"{'window':>6} {'delivery':>9} {'attempt':>8} {'endpoint':>9} {'total':>6} {'sent':>5}"
        )
        before, sent_before = table_writes(), counts().get("succeeded", 0)
        total_writes = 0
        measured_from = time.monotonic()
        for number in range(1, args.windows + 1):
            time.sleep(args.window)
            after, sent_after = table_writes(), counts().get("succeeded", 0)
            delta = {table: after.get(table, 0) - before.get(table, 0) for table in TABLES}
            window_total = sum(delta.values())
            total_writes += window_total
            print(
                f"{number:>6} {delta['webhooks_delivery']:>9} "
                f"{delta['webhooks_deliveryattempt']:>8} {delta['webhooks_webhookendpoint']:>9} "
                f"{window_total:>6} {sent_after - sent_before:>5}"
            )
            before, sent_before = after, sent_after
        minutes = (time.monotonic() - measured_from) / 60
        print(
            f"writes per minute: {total_writes / minutes:.1f} over {minutes:.1f} min "
            f"(limit: {60 / args.window:g} deliveries per minute); still waiting: "
            f"{counts().get('waiting', 0)}"
        )
    finally:
        processes.stop_all()
        app.control.purge()


if __name__ == "__main__":
    main()
