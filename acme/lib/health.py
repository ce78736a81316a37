"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from acme.lib.redis_client import get_redis

logger = logging.getLogger(__name__)

WORKER_PING_TIMEOUT_SECONDS = 1.0


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    get_redis().ping()


def check_worker() -> None:
    from acme.celery import app

    replies = app.control.ping(timeout=WORKER_PING_TIMEOUT_SECONDS)
    if not replies:
        raise RuntimeError("no Celery worker answered a ping")


CHECKS = {"postgres": check_postgres, "redis": check_redis, "worker": check_worker}


@login_not_required
@never_cache
@require_GET
def live(request):
    """The process is up and serving; touches nothing else."""
    return JsonResponse({"status": "ok"})


@login_not_required
@never_cache
@require_GET
def ready(request):
    """PostgreSQL, Redis and a Celery worker all answer; 503 naming what failed otherwise."""
    results = {}
    failed = []
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # any failure of a dependency means "not ready"
            logger.warning("readiness check %s failed: %s", name, exc)
            results[name] = f"error: {exc.__class__.__name__}: {exc}"
            failed.append(name)
            if name == "redis":
                # The worker ping goes through Redis too; skip it rather than wait.
                results["worker"] = "skipped: redis is down"
                failed.append("worker")
                break
    status = 503 if failed else 200
    return JsonResponse(
        {"status": "fail" if failed else "ok", "failed": failed, "checks": results}, status=status
    )
