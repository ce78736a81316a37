"""A report stored by an outcome whose transaction never committed (the worker was killed
just before its commit) is a file no job names; the housekeeping deletes it once it is old
enough that no transaction can still be about to reference it."""

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from imports.models import ImportJob
from imports.tasks import delete_expired_files

pytestmark = pytest.mark.django_db(transaction=True)


def _age(name: str, seconds: float) -> None:
    path = default_storage.path(name)
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_an_old_report_no_job_references_is_deleted_and_referenced_ones_stay():
    job = ImportJob(original_name="p.csv", size=20, status=ImportJob.Status.COMPLETED)
    job.error_report.save("import-1-rejected.csv", ContentFile(b"record,line,reason\n"))
    orphan = default_storage.save("imports/reports/2026/01/01/import-9-rejected.csv",
                                  ContentFile(b"record,line,reason\n"))  # fmt: skip
    fresh_orphan = default_storage.save("imports/reports/2026/01/02/import-10-rejected.csv",
                                        ContentFile(b"record,line,reason\n"))  # fmt: skip
    _age(job.error_report.name, 7 * 24 * 3600)
    _age(orphan, 7 * 24 * 3600)

    delete_expired_files()

    assert default_storage.exists(job.error_report.name)
    assert not default_storage.exists(orphan)
    assert default_storage.exists(fresh_orphan)  # its transaction may still commit
