"""A change set has one index (importchange_job_kind_sku) and no primary-key index, so
that recording 500k changes stays cheap (imports.models.ImportChange). Every read of it must
still go through that index, without sorting the job's rows: a page of one kind, the SKU
search with or without a kind, the API's list, and the retention sweep's batches."""

import pytest
from django.db import connection

from imports import change_list, change_set
from imports.api import ImportChangeViewSet
from imports.models import ImportChange, ImportJob

INDEX = "importchange_job_kind_sku"


@pytest.fixture
def job(db) -> ImportJob:
    job = ImportJob.objects.create(original_name="p.csv", size=1)
    ImportChange.objects.bulk_create(
        ImportChange(
            job=job,
            kind="created" if n % 2 else "updated",
            sku=f"SKU-{n:04}",
            new_name=f"Product {n}",
        )
        for n in range(300)
    )
    return job


def plan(sql: str, params) -> str:
    with connection.cursor() as cursor:
        # With few rows a sequential scan is cheaper; forbid it to see which index serves.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def queryset_plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    return plan(sql, params)


def test_a_page_of_one_kind_is_read_in_order_from_the_index(job):
    explained = queryset_plan(change_list.changes(job, kind="updated")[50:100])

    assert INDEX in explained
    assert "Sort" not in explained


def test_the_api_lists_every_kind_in_order_from_the_index(job):
    view = ImportChangeViewSet(kwargs={"job_id": job.pk})
    explained = queryset_plan(view.get_queryset()[:50])

    assert INDEX in explained
    assert "Sort" not in explained


@pytest.mark.parametrize("kind", ["", "created"])
def test_the_sku_search_probes_the_index_with_or_without_a_kind(job, kind):
    explained = queryset_plan(change_list.changes(job, kind=kind, sku="sku-0007"))

    assert INDEX in explained
    assert "Index Cond" in explained and "lower((sku)::text)" in explained
    assert [c.sku for c in change_list.changes(job, kind=kind, sku="sku-0007")] == ["SKU-0007"]


def test_the_retention_sweep_finds_a_batch_by_the_index_and_deletes_it_by_address(job):
    explained = plan(change_set.DELETE_A_BATCH, [job.pk, 100])

    assert "Tid Scan" in explained
    assert INDEX in explained
