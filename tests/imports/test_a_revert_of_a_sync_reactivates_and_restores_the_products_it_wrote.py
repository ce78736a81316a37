"""A sync import (imports.sync) deactivates or deletes the products its file does not name;
reverting it reactivates the deactivated ones (only `active`) and puts the deleted ones back
with their ids and every value, besides undoing its creates and updates."""

import pytest

from imports.models import ImportJob
from products import services as product_services
from products.models import Product
from tests.imports.jobs import wait_for_job
from tests.imports.reverts import catalogue, import_text

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _revert(client, job):
    answer = client.post(f"/api/imports/{job.pk}/revert/", {}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    return wait_for_job(answer.json()["id"])


@pytest.mark.parametrize("mode", ["deactivate", "delete"])
def test_reverting_a_sync_puts_back_what_it_deactivated_or_deleted(celery_worker, staff_client,
                                                                   mode):  # fmt: skip
    product_services.product_create(sku="KEEP", name="Keep", description="k")
    product_services.product_create(sku="GONE-1", name="Gone one", description="g1")
    product_services.product_create(sku="GONE-2", name="Gone two", description="", active=False)
    before = catalogue()

    job = import_text("sku,name\nKEEP,Keep v2\nNEW,New\n", sync=mode)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    if mode == "deactivate":
        assert job.deactivated == 1  # GONE-2 was inactive already: not written
        assert Product.objects.get(sku="GONE-1").active is False
    else:
        assert job.deleted == 2
        assert not Product.objects.filter(sku__startswith="GONE").exists()

    revert = _revert(staff_client, job)
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    restored = 2 if mode == "deactivate" else 3  # KEEP, and GONE-1 (and GONE-2)
    assert (revert.restored, revert.deleted, revert.conflicts) == (restored, 1, 0)
    now = catalogue()
    assert set(now) == set(before)
    for sku, row in before.items():
        assert now[sku][:5] == row[:5], sku  # id, name, description, active, created_at
    if mode == "delete":
        assert now["GONE-1"] == before["GONE-1"]  # the whole row, updated_at included
