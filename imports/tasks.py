"""Celery tasks for imports: thin, they take ids, claim the row and call plain functions."""

from __future__ import annotations

import logging

from celery import shared_task

from imports import change_set, deleted_products, execution, services

logger = logging.getLogger(__name__)


@shared_task(name="imports.tasks.run_import_job", ignore_result=True)
def run_import_job(job_id: int) -> None:
    """Run one queued import. A second delivery of the same message finds the job claimed
    and does nothing (acks_late + reject_on_worker_lost may redeliver after a crash)."""
    job = services.import_job_claim(job_id=job_id)
    if job is None:
        logger.info("import %s: not queued any more (already claimed or cancelled); skipped",
                    job_id)  # fmt: skip
        return
    execution.execute(job)


@shared_task(name="imports.tasks.fail_lost_jobs", ignore_result=True)
def fail_lost_jobs(timeout_seconds: float | None = None) -> list[int]:
    """Beat: fail running jobs whose heartbeat stopped (their worker died)."""
    failed = services.import_jobs_fail_lost(timeout_seconds=timeout_seconds)
    if failed:
        logger.warning("imports failed as worker lost: %s", failed)
    return failed


@shared_task(name="imports.tasks.requeue_stale_jobs", ignore_result=True)
def requeue_stale_jobs() -> list[int]:
    """Beat: send again the task of jobs queued too long (their message may be lost)."""
    sent = services.import_jobs_requeue_stale()
    if sent:
        logger.warning("imports queued too long, sent again: %s", sent)
    return sent


@shared_task(name="imports.tasks.delete_expired_files", ignore_result=True)
def delete_expired_files() -> int:
    """Beat: delete uploads, error reports and change sets past IMPORT_FILE_RETENTION_DAYS
    (and the products kept by delete-alls, imports.deleted_products), and reports no job
    references (left by a worker killed just before its outcome committed)."""
    deleted = services.import_jobs_delete_expired_files()
    if deleted:
        logger.info("deleted the stored files of %s finished imports", deleted)
    changes = change_set.delete_expired()
    if changes:
        logger.info("deleted %s recorded changes of finished imports", changes)
    kept = deleted_products.drop_expired()
    if kept:
        logger.info("dropped the kept catalogues of %s delete-alls", kept)
    orphans = services.import_reports_delete_orphans()
    if orphans:
        logger.info("deleted %s error reports no import references", orphans)
    return deleted
