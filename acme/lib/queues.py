"""The Celery queues: one per kind of work, so a slow kind never holds up another.

A receiver that hangs can keep webhook workers busy, and an import can run for hours; on one
queue either would stop the rest. Each kind has its own queue, named `<CELERY_QUEUE>.<kind>`
(the prefix keeps several installations or test runs on one Redis apart), and its own worker:
`celery -A acme worker -Q <prefix>.<kind>`. A worker started without `-Q` consumes all three.

Tasks not listed in TASKS (beat's periodic sweeps) go to the housekeeping queue, the default.
"""

from __future__ import annotations

IMPORTS = "imports"
WEBHOOKS = "webhooks"
HOUSEKEEPING = "housekeeping"
KINDS = (IMPORTS, WEBHOOKS, HOUSEKEEPING)

# Task name -> kind; every other task is housekeeping.
TASKS = {
    "imports.tasks.run_import_job": IMPORTS,
    "webhooks.tasks.send_queued": WEBHOOKS,
    "webhooks.tasks.send_delivery": WEBHOOKS,
    "webhooks.tasks.drain_endpoint": WEBHOOKS,
}

# Pool processes per worker that `make run` starts (compose sets its own).
LOCAL_CONCURRENCY = {IMPORTS: 2, WEBHOOKS: 4, HOUSEKEEPING: 1}


def queue_name(kind: str, prefix: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown queue kind {kind!r}; one of {', '.join(KINDS)}")
    return f"{prefix}.{kind}"


def queue_names(prefix: str) -> dict[str, str]:
    """Kind -> queue name, for every kind."""
    return {kind: queue_name(kind, prefix) for kind in KINDS}


def task_routes(prefix: str) -> dict[str, dict[str, str]]:
    """Celery's `task_routes`: each listed task to its kind's queue."""
    return {task: {"queue": queue_name(kind, prefix)} for task, kind in TASKS.items()}


def task_annotations(time_limits: dict[str, float]) -> dict[str, dict[str, float]]:
    """Celery's `task_annotations`: each listed task gets its kind's time limits.

    `time_limits` maps a kind to its soft limit in seconds; the hard limit (the worker kills
    the pool process) comes a minute later, so the task has time to record how it ended.
    """
    return {
        task: {"soft_time_limit": time_limits[kind], "time_limit": time_limits[kind] + 60}
        for task, kind in TASKS.items()
    }
