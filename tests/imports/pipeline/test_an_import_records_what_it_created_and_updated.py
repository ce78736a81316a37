"""Every import, validate only included, records its change set (imports.change_set): each
product it creates with the values written, each product it updates with only the fields that
change, before and after; nothing for an unchanged product, nothing for a column the file
lacks. Whichever road the merge takes: in place, or rebuild and swap."""

import io

import pytest
from django.db import DatabaseError, connection

from imports.models import ImportChange, ImportJob
from imports.pipeline import ImportOptions, ImportResult, run_import
from products.models import Product
from tests.imports.pipeline.test_a_bulk_merge_rebuilds_the_catalogue_and_swaps_it_in import (
    table_oid,
)
from tests.imports.pipeline.test_failure_mid_merge_leaves_catalogue_unchanged import (
    EXPLODE_ON_SKU,
)

pytestmark = pytest.mark.django_db


def _products(count: int) -> None:
    Product.objects.bulk_create(
        Product(sku=f"sku-{n}", name=f"Name {n}", description=f"Kept {n}", active=n % 2 == 0)
        for n in range(count)
    )


def _import(text: str, **options) -> tuple[ImportJob, ImportResult]:
    job = ImportJob.objects.create(original_name="changes.csv", size=len(text), **options)
    result = run_import(
        source=io.BytesIO(text.encode()), options=ImportOptions(**options), job_id=job.pk
    )
    return job, result


def _changes(job: ImportJob) -> dict[str, tuple]:
    return {
        change.sku: (change.kind, change.before, change.after)
        for change in ImportChange.objects.filter(job=job)
    }


# sku-0 renamed, sku-1 as it is, sku-2 not in the file; no description or active column.
FILE_WITHOUT_DESCRIPTION = "sku,name\nsku-0,Renamed 0\nsku-1,Name 1\nnew-1,New\n"


def test_created_and_updated_products_are_recorded_in_place_and_unchanged_ones_are_not():
    _products(3)

    job, result = _import(FILE_WITHOUT_DESCRIPTION)

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert _changes(job) == {
        "sku-0": ("updated", {"name": "Name 0"}, {"name": "Renamed 0"}),
        "new-1": ("created", None, {"sku": "new-1", "name": "New", "description": "",
                                    "active": True}),
    }  # fmt: skip
    for change in ImportChange.objects.filter(job=job):
        product = Product.objects.get(sku=change.sku)
        assert change.product_id == product.pk
        assert change.product_updated_at == product.updated_at


def test_only_the_fields_that_change_are_recorded_including_a_cleared_description():
    _products(3)

    job, _ = _import(
        "sku,name,description,active\n"
        "SKU-0,Name 0,Kept 0,true\n"  # only the SKU's letter case changes
        "sku-1,Name 1,,\n"  # an empty description clears it; an empty active keeps it
        "sku-2,Name 2,Kept 2,false\n"  # only active changes
    )

    assert _changes(job) == {
        "SKU-0": ("updated", {"sku": "sku-0"}, {"sku": "SKU-0"}),
        "sku-1": ("updated", {"description": "Kept 1"}, {"description": ""}),
        "sku-2": ("updated", {"active": True}, {"active": False}),
    }


def test_a_rebuild_records_the_same_change_set(settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    _products(100)
    before_oid = table_oid()
    body = "".join(f"sku-{n},Renamed {n}\n" for n in range(1, 100))

    job, result = _import(f"sku,name\nsku-0,Name 0\n{body}new-1,New\n")

    assert table_oid() != before_oid  # the rebuild road was taken
    assert (result.created, result.updated, result.unchanged) == (1, 99, 1)
    changes = _changes(job)
    assert len(changes) == 100
    assert "sku-0" not in changes
    assert changes["sku-7"] == ("updated", {"name": "Name 7"}, {"name": "Renamed 7"})
    assert changes["new-1"] == (
        "created", None, {"sku": "new-1", "name": "New", "description": "", "active": True}
    )  # fmt: skip
    products = dict(Product.objects.values_list("sku", "pk"))
    updated_at = dict(Product.objects.values_list("sku", "updated_at"))
    for change in ImportChange.objects.filter(job=job):
        assert change.product_id == products[change.sku]
        assert change.product_updated_at == updated_at[change.sku]


def test_a_bulk_merge_that_stays_in_place_records_each_change_once(settings):
    # Enough rows for the bulk road's lock (its classifying join records the updates), too
    # few changes to rebuild: the UPDATE in place must not record them a second time.
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    _products(1000)
    before_oid = table_oid()
    body = "".join(f"sku-{n},Name {n}\n" for n in range(5, 60))
    renamed = "".join(f"sku-{n},Renamed {n}\n" for n in range(5))

    job, result = _import(f"sku,name\n{renamed}{body}new-1,New\n")

    assert table_oid() == before_oid  # merged in place
    assert (result.created, result.updated, result.unchanged) == (1, 5, 55)
    rows = list(ImportChange.objects.filter(job=job).values_list("sku", "kind"))
    assert sorted(rows) == sorted(
        [(f"sku-{n}", "updated") for n in range(5)] + [("new-1", "created")]
    )
    assert _changes(job)["sku-3"] == ("updated", {"name": "Name 3"}, {"name": "Renamed 3"})
    assert Product.objects.get(sku="sku-3").name == "Renamed 3"
    updated_at = dict(Product.objects.values_list("sku", "updated_at"))
    for change in ImportChange.objects.filter(job=job):
        assert change.product_updated_at == updated_at[change.sku]


def test_validate_only_records_what_it_would_do_and_writes_no_product():
    _products(3)
    before = list(Product.objects.order_by("pk").values())

    job, result = _import(FILE_WITHOUT_DESCRIPTION, validate_only=True)

    assert (result.created, result.updated, result.unchanged) == (1, 1, 1)
    assert list(Product.objects.order_by("pk").values()) == before
    assert _changes(job) == {
        "sku-0": ("updated", {"name": "Name 0"}, {"name": "Renamed 0"}),
        "new-1": ("created", None, {"sku": "new-1", "name": "New", "description": "",
                                    "active": True}),
    }  # fmt: skip
    created = ImportChange.objects.get(job=job, kind="created")
    assert created.product_id is None
    updated = ImportChange.objects.get(job=job, kind="updated")
    assert updated.product_id == Product.objects.get(sku="sku-0").pk


def test_an_identical_import_records_nothing():
    _products(3)

    job, result = _import("sku,name,description\nsku-0,Name 0,Kept 0\nsku-1,Name 1,Kept 1\n")

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert _changes(job) == {}


def test_a_merge_that_fails_records_nothing():
    _products(1)
    with connection.cursor() as cursor:
        cursor.execute(EXPLODE_ON_SKU)
    job = ImportJob.objects.create(original_name="changes.csv", size=0)

    with pytest.raises(DatabaseError, match="provoked failure"):
        run_import(
            source=io.BytesIO(b"sku,name\nsku-0,Renamed\nnew-1,New\nexplodes,Boom\n"),
            options=ImportOptions(),
            job_id=job.pk,
        )

    assert _changes(job) == {}
