"""Storing the rejected-rows report (a copy that may take long: hundreds of MB, perhaps to S3)
happens once validation has finished writing it, before the merge: a rebuild's swap holds
ACCESS EXCLUSIVE on the catalogue until the import commits, and every product read would
wait for the copy. The job still names only a report that exists."""

from pathlib import Path

import pytest
from django.conf import settings

from imports import execution, services
from tests.imports.jobs import write_csv


def stored_reports(job_id: int) -> list[Path]:
    return sorted(Path(settings.MEDIA_ROOT).rglob(f"import-{job_id}-rejected*.csv"))


@pytest.mark.django_db(transaction=True)
def test_the_report_is_in_storage_when_the_merge_starts(tmp_path):
    path = write_csv(tmp_path / "p.csv", 200, prefix="store", bad_rows=3)
    job = services.import_job_create_local(path=str(path), options={}, size=path.stat().st_size)
    job = services.import_job_claim(job_id=job.pk)
    seen_at_merge: list[list[Path]] = []

    def listener(update) -> None:
        if update.phase == "merging" and not seen_at_merge:
            seen_at_merge.append(stored_reports(job.pk))

    with open(path, "rb") as source:
        recorded = execution.execute(job, source=source, listener=listener)

    assert recorded is not None and recorded.status == "completed"
    assert recorded.rows_rejected == 3
    assert seen_at_merge and len(seen_at_merge[0]) == 1, seen_at_merge
    assert Path(recorded.error_report.path) == seen_at_merge[0][0]
    assert stored_reports(job.pk) == seen_at_merge[0]
