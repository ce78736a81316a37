"""A revert works whichever way the import merged: after an import that built the catalogue
anew and swapped it in (imports.rebuild), the products it updated get their old values back
and those it created are deleted. A revert that rewrites a large share of the catalogue takes
the same road itself; a small one writes in place."""

import pytest
from django.core.files.base import ContentFile

from imports import execution, services
from imports.models import ImportJob
from tests.imports.pipeline.test_a_bulk_merge_rebuilds_the_catalogue_and_swaps_it_in import (
    schema,
    table_oid,
)
from tests.imports.reverts import catalogue

# One transaction per job, as in production: each job's now() is its own.
pytestmark = pytest.mark.django_db(transaction=True)


def _run(job: ImportJob) -> ImportJob:
    """Run `job` here as the worker would (claim, execute); no task message is sent."""
    done = execution.execute(services.import_job_claim(job_id=job.pk))
    assert done is not None and done.status == ImportJob.Status.COMPLETED, done and done.error
    return done


def _import(text: str) -> ImportJob:
    job = ImportJob(original_name="bulk.csv", size=len(text))
    job.file.save("bulk.csv", ContentFile(text.encode()), save=False)
    job.save()
    return _run(job)


def _revert(job: ImportJob) -> ImportJob:
    return _run(ImportJob.objects.create(kind=ImportJob.Kind.REVERT, reverts=job,
                                         original_name=job.original_name, size=0))  # fmt: skip


def _csv(rows: range, label: str) -> str:
    return "sku,name\n" + "".join(f"sku-{n},{label} {n}\n" for n in rows)


@pytest.mark.parametrize("revert_rebuilds", [True, False], ids=["revert rebuilds", "in place"])
def test_a_revert_after_a_rebuild_restores_the_catalogue(settings, revert_rebuilds):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    first = _import("sku,name,description\n" + "".join(
        f"sku-{n},Name {n},Blue widget {n}\n" for n in range(100)))  # fmt: skip
    before, before_schema = catalogue(), schema()

    # 80 of 100 change and 60 are new: a rebuild.
    oid = table_oid()
    job = _import(_csv(range(20, 160), "Renamed"))
    assert (job.created, job.updated, job.unchanged) == (60, 80, 0)
    assert table_oid() != oid, "the import was expected to rebuild the catalogue"

    settings.IMPORT_REBUILD_MIN_ROWS = 50 if revert_rebuilds else 1_000_000
    oid = table_oid()
    revert = _revert(job)
    assert (revert.restored, revert.deleted, revert.conflicts) == (80, 60, 0)
    assert (table_oid() != oid) is revert_rebuilds

    now = catalogue()
    assert set(now) == set(before)
    for sku, row in before.items():
        assert now[sku][:5] == row[:5], sku  # id, name, description, active, created_at
    assert now["sku-0"] == before["sku-0"]  # untouched by the import: not rewritten
    assert schema() == before_schema
    assert first.created == 100
