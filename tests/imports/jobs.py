"""Test support for import jobs: CSV files, and waiting on real jobs and workers."""

from __future__ import annotations

from pathlib import Path

from tests.support.waiting import wait_until

SAMPLE_PRODUCTS = 1998  # 2,000 rows, two SKUs repeat

# Big enough that a worker is still reading it when the test acts (kill, cancel, progress).
BIG_ROWS = 50_000
DESCRIPTION = (
    "A sturdy product with a long description so that the file is large enough to take a "
    "while to parse and validate and load; it spans one line."
)


def write_csv(path: Path, rows: int, *, prefix: str = "big", bad_rows: int = 0) -> Path:
    """name,sku,description with `rows` good records, then `bad_rows` with an empty sku."""
    lines = ["name,sku,description\n"]
    lines.extend(f"Product {i},{prefix}-{i},{DESCRIPTION} {i}\n" for i in range(rows))
    lines.extend(f"Broken {i},,this record has no sku\n" for i in range(bad_rows))
    path.write_text("".join(lines), encoding="utf-8")
    return path


def wait_for_job(job_id: int, *statuses: str, timeout: float = 90):
    """The job once its status is one of `statuses` (default: any finished status)."""
    from imports.models import ImportJob

    wanted = statuses or ImportJob.FINISHED

    def finished():
        job = ImportJob.objects.get(pk=job_id)
        return job if job.status in wanted else None

    return wait_until(finished, timeout=timeout, what=f"import {job_id} to be {wanted}")


def wait_until_reading(job_id: int, *, timeout: float = 60) -> dict:
    """The live progress once the worker is reading the file (records already processed)."""
    from imports import progress

    def reading():
        state = progress.read(job_id)
        if state and state.get("status") == "running" and (state.get("records_processed") or 0):
            return state
        return None

    return wait_until(reading, timeout=timeout, every=0.01, what=f"import {job_id} to run")


def run_here(data: bytes | str, *, name: str = "products.csv", user=None, **options):
    """Upload `data` as a job and run it to its outcome in this process; returns the
    recorded job. The job is claimed in the transaction that creates it, so a worker that
    gets its task message (sent once that commits) finds it taken and leaves it."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction

    from imports import execution, services

    if isinstance(data, str):
        data = data.encode("utf-8")
    upload = SimpleUploadedFile(name, data, "text/csv")
    with transaction.atomic():
        job = services.import_job_create(uploaded_file=upload, options=options, user=user)
        claimed = services.import_job_claim(job_id=job.pk)
    assert claimed is not None
    return execution.execute(claimed)
