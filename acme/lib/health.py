"""Liveness and readiness probes for load balancers and orchestrators."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from acme.lib.redis_client import get_redis

logger = logging.getLogger(__name__)

WORKER_PING_TIMEOUT_SECONDS = 1.0
# The worker check's last answer (shared by every web process through the Redis cache).
WORKER_CHECK_CACHE_KEY = "health:worker-check"
_WORKER_CHECK_LOCK_KEY = "health:worker-check:lock"


def check_postgres() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def check_redis() -> None:
    get_redis().ping()


def ping_workers() -> None:
    """Each of this installation's queues (settings.ACME_QUEUES) has a worker consuming it.

    One broadcast asks every worker on the broker which queues it consumes: any answer at all
    would also count another installation's workers on the same Redis, or a housekeeping
    worker while no worker takes imports.
    """
    from acme.celery import app

    replies = app.control.inspect(timeout=WORKER_PING_TIMEOUT_SECONDS).active_queues() or {}
    consumed = {queue["name"] for answer in replies.values() for queue in answer or []}
    missing = {kind: name for kind, name in settings.ACME_QUEUES.items() if name not in consumed}
    if missing:
        kinds = ", ".join(f"{kind} ({name})" for kind, name in missing.items())
        raise RuntimeError(f"no Celery worker consumes the queue of: {kinds}")


def check_worker() -> None:
    """The worker check's answer (ping_workers), at most HEALTH_WORKER_PING_CACHE_SECONDS old.

    A ping is a broadcast that waits up to a second for replies: run per probe, a burst of
    probes would hold every web thread. One process pings when the answer is stale (a lock in
    the cache); the others meanwhile reuse the stale answer.
    """
    max_age = settings.HEALTH_WORKER_PING_CACHE_SECONDS
    cached = cache.get(WORKER_CHECK_CACHE_KEY)
    fresh = cached is not None and time.time() - cached["at"] < max_age
    if not fresh and (cached is None or cache.add(_WORKER_CHECK_LOCK_KEY, 1, timeout=max_age)):
        error = None
        try:
            ping_workers()
        except Exception as exc:  # remembered and re-raised below
            error = f"{exc.__class__.__name__}: {exc}"
        cached = {"at": time.time(), "error": error}
        # Kept past its freshness so that others have something to reuse while one pings.
        cache.set(WORKER_CHECK_CACHE_KEY, cached, timeout=max_age * 10 + 60)
        cache.delete(_WORKER_CHECK_LOCK_KEY)
    if cached["error"]:
        raise RuntimeError(cached["error"])


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
    """PostgreSQL, Redis and a Celery worker on each queue all answer: 200, else 503.

    Anyone (load balancers) learns the status; only staff see which check failed and why
    (exception text names hosts, ports and libraries).
    """
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
    body: dict[str, object] = {"status": "fail" if failed else "ok"}
    if request.user.is_staff:
        body.update(failed=failed, checks=results)
    return JsonResponse(body, status=503 if failed else 200)
