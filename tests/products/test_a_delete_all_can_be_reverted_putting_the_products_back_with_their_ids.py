"""Delete all is revertible: it is recorded in the import history as a `delete_all` job holding
every deleted row, and reverting it (by the worker) puts the products back with their ids and
every value; a SKU used again since is a conflict, left to the product that has it now. The
confirmation dialog says so."""

import pytest

from imports import deleted_products
from imports.models import ImportChange, ImportJob
from products import services
from products.models import Product
from tests.imports.jobs import wait_for_job
from tests.imports.reverts import catalogue

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_reverting_a_delete_all_restores_the_products_with_their_ids(celery_worker, staff_client):
    services.product_create(sku="A-1", name="Apple", description="red\tand\nround")
    services.product_create(sku="B-1", name="Banana", description="", active=False)
    services.product_create(sku="C-1", name="Cherry", description="=1+1")
    before = catalogue()

    dialog = staff_client.get("/products/").content.decode()
    assert 'data-role="restore-note"' in dialog and "with their ids" in dialog

    answer = staff_client.post("/products/delete-all/", {"confirm": "DELETE", "count": "3"})
    assert answer.status_code == 302
    assert Product.objects.count() == 0
    job = ImportJob.objects.get(kind=ImportJob.Kind.DELETE_ALL)
    assert (job.status, job.deleted, job.created_by.username) == ("completed", 3, "staff")
    assert deleted_products.archive_of(job) is not None  # kept, not copied row by row
    assert "Delete all" in staff_client.get("/imports/").content.decode()

    # A new product takes C-1's SKU before the revert.
    services.product_create(sku="c-1", name="New cherry")
    page = staff_client.get(f"/imports/{job.pk}/").content.decode()
    assert "Restore deleted products" in page

    answer = staff_client.post(f"/api/imports/{job.pk}/revert/", {"confirm": True},
                               content_type="application/json")  # fmt: skip
    assert answer.status_code == 201, answer.content
    revert = wait_for_job(answer.json()["id"])
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    assert (revert.restored, revert.deleted, revert.conflicts) == (2, 0, 1)

    now = catalogue()
    assert now["A-1"] == before["A-1"]  # id, values, created_at and updated_at as they were
    assert now["B-1"] == before["B-1"]
    assert now["c-1"][1] == "New cherry"  # the SKU's new owner keeps it
    conflict = revert.changes.get(kind=ImportChange.Kind.CONFLICT)
    assert (conflict.sku, conflict.after["name"]) == ("C-1", "New cherry")
    assert (
        "its SKU is now used by product"
        in staff_client.get(f"/imports/{revert.pk}/").content.decode()
    )

    assert deleted_products.archive_of(job) is None  # put back: nothing kept any more
    # The sequence goes on after the restored ids: ids are never reused.
    assert services.product_create(sku="D-1", name="Date").pk > max(r[0] for r in before.values())


def test_a_catalogue_kept_by_a_delete_all_is_dropped_after_the_retention_period(db, settings):
    services.product_create(sku="A-1", name="Apple")
    services.products_delete_all()
    job = ImportJob.objects.get(kind=ImportJob.Kind.DELETE_ALL)
    assert deleted_products.drop_expired(retention_days=30) == 0
    assert deleted_products.archive_of(job) is not None

    ImportJob.objects.filter(pk=job.pk).update(finished_at=job.finished_at.replace(year=2020))
    assert deleted_products.drop_expired(retention_days=30) == 1
    assert deleted_products.archive_of(job) is None


def test_a_catalogue_that_cannot_be_swapped_is_recorded_row_by_row_and_still_put_back(
    celery_worker, staff_client
):
    from django.db import connection

    services.product_create(sku="A-1", name="Apple", description="red")
    before = catalogue()
    with connection.cursor() as cursor:  # a trigger: imports.rebuild will not swap the table
        cursor.execute("CREATE FUNCTION zz_noop() RETURNS trigger LANGUAGE plpgsql AS "
                       "$$ BEGIN RETURN NEW; END $$")  # fmt: skip
        cursor.execute("CREATE TRIGGER zz_noop BEFORE UPDATE ON products_product "
                       "FOR EACH ROW EXECUTE FUNCTION zz_noop()")  # fmt: skip
    try:
        services.products_delete_all()
        job = ImportJob.objects.get(kind=ImportJob.Kind.DELETE_ALL)
        assert deleted_products.archive_of(job) is None
        assert job.changes.filter(kind=ImportChange.Kind.DELETED).count() == 1
        answer = staff_client.post(f"/api/imports/{job.pk}/revert/", {},
                                   content_type="application/json")  # fmt: skip
        revert = wait_for_job(answer.json()["id"])
        assert (revert.status, revert.restored) == ("completed", 1), revert.error
        assert catalogue() == before
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS zz_noop ON products_product")
            cursor.execute("DROP FUNCTION IF EXISTS zz_noop()")


def test_a_revert_right_after_a_delete_all_swaps_the_kept_catalogue_back(
    celery_worker, staff_client
):
    from tests.imports.pipeline.test_a_bulk_merge_rebuilds_the_catalogue_and_swaps_it_in import (
        schema,
        table_oid,
    )

    for n in range(20):
        services.product_create(sku=f"P-{n}", name=f"Product {n}", active=n % 2 == 0)
    before, before_schema, oid = catalogue(), schema(), table_oid()
    services.products_delete_all()
    created_and_deleted = services.product_create(sku="TEMP", name="Gone again")
    handed_out = created_and_deleted.pk
    services.product_delete(product=created_and_deleted)
    job = ImportJob.objects.get(kind=ImportJob.Kind.DELETE_ALL)

    answer = staff_client.post(
        f"/api/imports/{job.pk}/revert/", {}, content_type="application/json"
    )
    revert = wait_for_job(answer.json()["id"])
    assert (revert.status, revert.restored, revert.conflicts) == ("completed", 20, 0), revert.error
    assert table_oid() == oid  # the very table, back under its name
    assert catalogue() == before
    assert schema() == before_schema  # indexes, constraints, columns, sequence
    # Ids go on after the ones the empty catalogue handed out meanwhile.
    assert services.product_create(sku="NEXT", name="Next").pk > handed_out
