"""Sync mode (imports.sync): the products the file does not name are deactivated or deleted,
set-based, in the import's transaction, counted, and recorded in the change set with their
whole row; validate only counts and records the same without writing; a file with rejected
records is refused. Whichever road the merge takes: in place, or rebuild and swap."""

import io

import pytest

from imports.models import ImportChange, ImportJob
from imports.pipeline import ImportFailed, ImportOptions, ImportResult, run_import
from products.models import Product

pytestmark = pytest.mark.django_db

# keep-1 and KEEP-2 (another letter case) are in the file; gone-1 (active) and gone-2
# (inactive) are not.
FILE = "sku,name\nkeep-1,Kept one\nkeep-2,Kept two\nnew-1,New\n"


@pytest.fixture
def catalogue() -> dict[str, Product]:
    made = [
        Product.objects.create(sku="keep-1", name="Kept one"),
        Product.objects.create(sku="KEEP-2", name="Old name"),
        Product.objects.create(sku="gone-1", name="Gone one", description="Was here"),
        Product.objects.create(sku="gone-2", name="Gone two", active=False),
    ]
    return {product.sku: product for product in made}


def _import(text: str = FILE, **options) -> tuple[ImportJob, ImportResult]:
    job = ImportJob.objects.create(original_name="sync.csv", size=len(text), **options)
    result = run_import(
        source=io.BytesIO(text.encode()), options=ImportOptions(**options), job_id=job.pk
    )
    return job, result


def _state() -> dict[str, bool]:
    return dict(Product.objects.values_list("sku", "active"))


def _changes(job: ImportJob, kind: str) -> dict[str, ImportChange]:
    return {change.sku: change for change in ImportChange.objects.filter(job=job, kind=kind)}


def test_validate_only_counts_and_records_what_a_sync_would_do_and_writes_nothing(catalogue):
    before = {p.sku: (p.active, p.updated_at) for p in Product.objects.all()}

    job, deactivating = _import(sync="deactivate", validate_only=True)
    _, deleting = _import(sync="delete", validate_only=True)

    assert (deactivating.deactivated, deactivating.deleted) == (1, 0)  # gone-2 is inactive
    assert (deleting.deactivated, deleting.deleted) == (0, 2)
    assert (deactivating.created, deactivating.updated, deactivating.unchanged) == (1, 1, 1)
    assert {p.sku: (p.active, p.updated_at) for p in Product.objects.all()} == before
    assert set(_changes(job, "deactivated")) == {"gone-1"}


def test_a_sync_deactivates_the_active_products_not_in_the_file(catalogue):
    gone = catalogue["gone-1"]

    job, result = _import(sync="deactivate")

    assert (result.created, result.updated, result.unchanged, result.deactivated) == (1, 1, 1, 1)
    assert _state() == {"keep-1": True, "keep-2": True, "new-1": True, "gone-1": False,
                        "gone-2": False}  # fmt: skip
    change = _changes(job, "deactivated")["gone-1"]
    gone_now = Product.objects.get(sku="gone-1")
    assert change.product_id == gone.pk
    assert change.before["id"] == gone.pk
    assert (change.before["active"], change.before["description"]) == (True, "Was here")
    assert change.after == {"active": False}
    assert change.product_updated_at == gone_now.updated_at
    assert set(_changes(job, "deactivated")) == {"gone-1"}  # gone-2 was already inactive


def test_a_sync_chosen_to_delete_deletes_every_product_not_in_the_file(catalogue):
    job, result = _import(sync="delete")

    assert (result.deleted, result.deactivated) == (2, 0)
    assert set(_state()) == {"keep-1", "keep-2", "new-1"}
    deleted = _changes(job, "deleted")
    assert set(deleted) == {"gone-1", "gone-2"}
    assert deleted["gone-2"].product_id == catalogue["gone-2"].pk
    assert deleted["gone-2"].before["id"] == catalogue["gone-2"].pk
    assert deleted["gone-2"].before["active"] is False
    assert deleted["gone-1"].before["description"] == "Was here"


def test_without_sync_the_products_not_in_the_file_are_left_alone(catalogue):
    _, result = _import()

    assert (result.deactivated, result.deleted) == (0, 0)
    assert _state()["gone-1"] is True


def test_a_sync_refuses_a_file_with_rejected_records_and_changes_nothing(catalogue):
    with pytest.raises(ImportFailed, match="sync mode needs every record valid: 1 record"):
        _import(FILE + "gone-1,\n", sync="delete")  # gone-1's record has no name

    assert set(_state()) == {"keep-1", "KEEP-2", "gone-1", "gone-2"}
    assert not ImportChange.objects.exists()


def test_a_sync_after_a_rebuild_deactivates_in_the_new_table(catalogue, settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 1  # every row new or changed: the bulk road
    text = "sku,name\n" + "".join(f"bulk-{n},Bulk {n}\n" for n in range(20))

    job, result = _import(text, sync="deactivate")

    assert (result.created, result.deactivated) == (20, 3)
    assert Product.objects.filter(active=True).count() == 20
    assert set(_changes(job, "deactivated")) == {"keep-1", "KEEP-2", "gone-1"}
