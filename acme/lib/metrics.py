"""GET /metrics: Prometheus text format, read at scrape time from PostgreSQL and Redis.

Nothing is counted in process memory, so every gunicorn worker serving a scrape gives the
same answer, and the work of every Celery process is included:
- imports (PostgreSQL; one row per job): jobs by status, rows by outcome, the duration of
  completed jobs, the age of the oldest queued job and of the oldest running job's heartbeat;
- webhooks: waiting deliveries by status and the oldest one's age (PostgreSQL, the partial
  indexes on waiting deliveries), finished deliveries and attempt latency (counters in Redis,
  webhooks/delivery_metrics.py);
- Celery workers: seconds since each one's last heartbeat (Redis, acme/lib/worker_heartbeats.py).
Label values come from fixed choices, buckets are fixed, and worker names are those heard
from recently: every label set is bounded.

Allowed for staff (session or API token) and for `Authorization: Bearer <METRICS_TOKEN>` when
that setting is set; anyone else gets 401 or 403.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.db import connection
from django.db.models import Count, Min, Q, Sum
from django.http import HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from acme.lib import worker_heartbeats
from imports.models import ImportJob
from webhooks import delivery_metrics
from webhooks.models import Delivery

# Upper bounds in seconds of the import duration histogram (then +Inf).
IMPORT_DURATION_BUCKETS = (1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600)
IMPORT_ROW_OUTCOMES = {
    "created": "created",
    "updated": "updated",
    "unchanged": "unchanged",
    "rejected": "rows_rejected",
}
FINISHED_DELIVERY_STATES = Delivery.FINAL_STATUSES
WAITING_DELIVERY_STATES = [s for s in Delivery.Status.values if s not in FINISHED_DELIVERY_STATES]


def _age(oldest) -> float:
    return max((timezone.now() - oldest).total_seconds(), 0.0) if oldest else 0.0


class Collector:
    """A prometheus_client custom collector: every scrape runs the queries below."""

    def collect(self) -> Iterator[Metric]:
        yield from self._imports()
        yield from self._deliveries()
        yield from self._workers()

    def _imports(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("acme_import_jobs", "Import jobs by status.", labels=["status"])
        by_status = dict(ImportJob.objects.values_list("status").annotate(n=Count("id")))
        for status in ImportJob.Status.values:
            jobs.add_metric([status], by_status.get(status, 0))
        yield jobs

        rows = CounterMetricFamily(
            "acme_import_rows", "Rows of finished imports by outcome.", labels=["outcome"]
        )
        sums = ImportJob.objects.aggregate(
            **{outcome: Sum(field) for outcome, field in IMPORT_ROW_OUTCOMES.items()}
        )
        for outcome in IMPORT_ROW_OUTCOMES:
            rows.add_metric([outcome], sums[outcome] or 0)
        yield rows

        yield self._import_durations()

        oldest_queued = ImportJob.objects.filter(status=ImportJob.Status.QUEUED).aggregate(
            oldest=Min("created_at", filter=Q(enqueued_at__isnull=True)),
            oldest_enqueued=Min("enqueued_at"),
        )
        stamps = [stamp for stamp in oldest_queued.values() if stamp]
        yield GaugeMetricFamily(
            "acme_oldest_queued_import_age_seconds",
            "Seconds the oldest queued import has waited (0: none).",
            value=_age(min(stamps) if stamps else None),
        )
        oldest_beat = ImportJob.objects.filter(status=ImportJob.Status.RUNNING).aggregate(
            oldest=Min("heartbeat_at")
        )["oldest"]
        yield GaugeMetricFamily(
            "acme_import_heartbeat_age_seconds",
            "Seconds since the stalest running import's heartbeat (0: none running).",
            value=_age(oldest_beat),
        )

    def _import_durations(self) -> Metric:
        bounds = ", ".join(
            f"count(*) FILTER (WHERE seconds <= {float(b)})" for b in IMPORT_DURATION_BUCKETS
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT {bounds}, count(*), coalesce(sum(seconds), 0) FROM (
                    SELECT extract(epoch FROM finished_at - started_at) AS seconds
                    FROM {ImportJob._meta.db_table}
                    WHERE status = %s AND started_at IS NOT NULL AND finished_at IS NOT NULL
                ) AS completed
                """,  # noqa: S608 - only the fixed bounds and table name are formatted in
                [ImportJob.Status.COMPLETED],
            )
            *counts, total, seconds = cursor.fetchone()
        buckets = [
            (str(float(bound)), count)
            for bound, count in zip(IMPORT_DURATION_BUCKETS, counts, strict=True)
        ]
        return HistogramMetricFamily(
            "acme_import_duration_seconds",
            "Duration of completed imports (start to finish).",
            buckets=[*buckets, ("+Inf", total)],
            sum_value=float(seconds),
        )

    def _deliveries(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily(
            "acme_webhook_deliveries_waiting",
            "Deliveries not finished yet, by status.",
            labels=["status"],
        )
        rows = (
            Delivery.objects.filter(status__in=WAITING_DELIVERY_STATES)
            .values_list("status")
            .annotate(n=Count("id"), oldest=Min("created_at"))
        )
        found = {status: (count, oldest) for status, count, oldest in rows}
        for status in WAITING_DELIVERY_STATES:
            waiting.add_metric([status], found.get(status, (0, None))[0])
        yield waiting
        oldest = min((o for _, o in found.values() if o), default=None)
        yield GaugeMetricFamily(
            "acme_webhook_oldest_waiting_delivery_age_seconds",
            "Seconds since the oldest unfinished delivery was created (0: none).",
            value=_age(oldest),
        )

        finished_counts, buckets, latency_sum, _ = delivery_metrics.read()
        finished = CounterMetricFamily(
            "acme_webhook_deliveries_finished",
            "Deliveries that reached a final status.",
            labels=["status"],
        )
        for status in FINISHED_DELIVERY_STATES:
            finished.add_metric([status], finished_counts.get(status, 0))
        yield finished
        yield HistogramMetricFamily(
            "acme_webhook_delivery_latency_seconds",
            "Time from sending a delivery attempt to the receiver's answer.",
            buckets=buckets,
            sum_value=latency_sum,
        )

    def _workers(self) -> Iterator[Metric]:
        heartbeats = GaugeMetricFamily(
            "acme_worker_heartbeat_age_seconds",
            "Seconds since each Celery worker's last heartbeat (workers silent for "
            f"{worker_heartbeats.FORGET_SECONDS} s are dropped).",
            labels=["worker"],
        )
        for worker, age in sorted(worker_heartbeats.ages().items()):
            heartbeats.add_metric([worker], age)
        yield heartbeats


registry = CollectorRegistry(auto_describe=False)
registry.register(Collector())


class StaffOrMetricsToken(BasePermission):
    message = "Staff only, or send Authorization: Bearer <METRICS_TOKEN>."

    def has_permission(self, request, view) -> bool:
        if request.user and request.user.is_authenticated and request.user.is_staff:
            return True
        token = settings.METRICS_TOKEN
        header = request.META.get("HTTP_AUTHORIZATION", "")
        return bool(token) and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


class MetricsView(APIView):
    """DRF only for authentication (session or API token) and the 401/403 answers."""

    permission_classes = [StaffOrMetricsToken]
    schema = None  # not part of the API's OpenAPI schema

    def get(self, request, *args, **kwargs) -> HttpResponse:
        return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
