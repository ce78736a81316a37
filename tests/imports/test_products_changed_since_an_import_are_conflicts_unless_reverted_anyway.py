"""A product changed after the import (by a page, the API or a later import, or deleted) is a
conflict: a revert leaves it as it is and lists it with its current and old values; "Revert
anyway" (force) overwrites it. Reverting an import a later import touched is answered 409
with the later imports until confirmed, and the page's dialog names them."""

import pytest

from imports.models import ImportJob
from products import services as product_services
from products.models import Product
from tests.imports.jobs import wait_for_job
from tests.imports.reverts import catalogue, import_text, names

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

FIRST = (
    "sku,name,description\n"
    "A-1,Apple v2,red v2\nB-1,Banana v2,yellow\nC-1,Cherry,new\nD-1,Date,new\nE-1,Elder v2,e\n"
)


def _setup():
    for sku, name, description in (
        ("A-1", "Apple", "red"),
        ("B-1", "Banana", "yellow"),
        ("E-1", "Elder", "e"),
    ):
        product_services.product_create(sku=sku, name=name, description=description)
    job = import_text(FIRST)
    assert (job.created, job.updated) == (2, 3), job.error
    # After the import: a page edit, an API edit, a deletion.
    product_services.product_update(product=Product.objects.get(sku="A-1"), description="edited")
    return job


def _revert(client, job, **body):
    return client.post(f"/api/imports/{job.pk}/revert/", body, content_type="application/json")


def test_a_revert_leaves_products_changed_since_and_lists_them(celery_worker, staff_client):
    job = _setup()
    api = staff_client.patch(
        f"/api/products/{Product.objects.get(sku='C-1').pk}/",
        {"name": "Cherry renamed"},
        content_type="application/json",
    )
    assert api.status_code == 200, api.content
    product_services.product_delete(product=Product.objects.get(sku="E-1"))
    before_revert = catalogue()

    answer = _revert(staff_client, job)
    assert answer.status_code == 201, answer.content
    revert = wait_for_job(answer.json()["id"])
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    # B-1 restored, D-1 deleted; A-1 (page), C-1 (API) and E-1 (deleted) are conflicts.
    assert (revert.restored, revert.deleted, revert.conflicts) == (1, 1, 3)
    now = catalogue()
    assert now["A-1"] == before_revert["A-1"]  # not overwritten
    assert now["C-1"] == before_revert["C-1"]  # not deleted
    assert "E-1" not in now and "D-1" not in now
    assert names()["B-1"] == "Banana"

    conflicts = {c.sku: c for c in revert.changes.filter(kind="conflict")}
    assert set(conflicts) == {"A-1", "C-1", "E-1"}
    assert conflicts["A-1"].before == {"name": "Apple", "description": "red"}
    assert conflicts["A-1"].after == {"name": "Apple v2", "description": "edited"}
    assert conflicts["C-1"].before is None and conflicts["C-1"].after["name"] == "Cherry renamed"
    assert conflicts["E-1"].after is None

    page = staff_client.get(f"/imports/{revert.pk}/").content.decode()
    assert "Conflicts" in page
    for text in ("changed since the import", "deleted since the import", "edited", "red",
                 "Cherry renamed", "left as they are"):  # fmt: skip
        assert text in page, text

    # "Revert anyway" after it: the conflicts still there are overwritten.
    forced = _revert(staff_client, job, force=True)
    assert forced.status_code == 201, forced.content
    forced_job = wait_for_job(forced.json()["id"])
    assert forced_job.status == ImportJob.Status.COMPLETED, forced_job.error
    now = catalogue()
    assert (now["A-1"][1], now["A-1"][2]) == ("Apple", "red")
    assert "C-1" not in now
    assert "E-1" not in now  # gone stays gone: there is nothing to overwrite
    assert _revert(staff_client, job, force=True).status_code == 409  # reverted for good


def test_a_forced_revert_overwrites_products_changed_since(celery_worker, staff_client):
    job = _setup()
    answer = _revert(staff_client, job, force=True)
    assert answer.status_code == 201, answer.content
    revert = wait_for_job(answer.json()["id"])
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    assert (revert.restored, revert.deleted, revert.conflicts) == (3, 2, 1)
    now = catalogue()
    assert set(now) == {"A-1", "B-1", "E-1"}
    assert (now["A-1"][1], now["A-1"][2]) == ("Apple", "red")
    assert "overwritten" in staff_client.get(f"/imports/{revert.pk}/").content.decode()


def test_reverting_an_import_a_later_import_touched_asks_first(celery_worker, staff_client):
    job = _setup()
    later = import_text("sku,name\nb-1,Banana v3\nZ-1,Zucchini\n", name="later.csv")
    assert later.updated == 1, later.error

    refused = _revert(staff_client, job)
    assert refused.status_code == 409
    body = refused.json()
    assert body["later_imports"] == [{"id": later.pk, "products": 1}]
    assert f"#{later.pk}" in body["detail"]
    assert not ImportJob.objects.filter(kind="revert").exists()

    dialog = staff_client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-role="later-imports"' in dialog and f"#{later.pk}" in dialog

    answer = _revert(staff_client, job, confirm=True)
    assert answer.status_code == 201, answer.content
    revert = wait_for_job(answer.json()["id"])
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    now = names()
    assert now["b-1"] == "Banana v3"  # as the later import left it: a conflict
    assert "Z-1" in now  # the later import's own product is not this revert's
    assert revert.changes.filter(kind="conflict", sku__iexact="B-1").exists()
