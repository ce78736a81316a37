"""Revert import: a job of kind `revert`, run by the worker, restores the products the import
updated (only the fields it changed), deletes those it created, counts what it did, and
emits one `import.reverted` event; the history lists it; an import is reverted once."""

import json

import pytest

from imports.models import ImportJob
from products import services as product_services
from tests.imports.jobs import wait_for_job
from tests.imports.reverts import catalogue, deliveries_settle, import_text
from tests.webhooks.conftest import receiver  # noqa: F401 - the webhooks tests' fixture
from webhooks.models import Delivery, EventType, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def endpoint(db, receiver):  # noqa: F811 - the imported fixture, by name
    return WebhookEndpoint.objects.create(
        url=receiver.url(), events=list(EventType.values), enabled=True
    )


def test_a_revert_puts_the_catalogue_back_as_it_was_before_the_import(
    celery_worker,
    staff_client,
    receiver,  # noqa: F811
):
    product_services.product_create(sku="A-1", name="Apple", description="red", active=True)
    product_services.product_create(sku="B-1", name="Banana", description="yellow", active=False)
    product_services.product_create(sku="X-1", name="Untouched", description="", active=True)
    before = catalogue()

    # No description column: descriptions are not the import's to change, nor the revert's.
    job = import_text("sku,name,active\nA-1,Apple v2,true\nb-1,Banana,true\nC-1,Cherry,false\n")
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.created, job.updated, job.unchanged) == (1, 2, 0)
    after_import = catalogue()
    assert after_import["A-1"][1] == "Apple v2" and after_import["b-1"][3] is True

    answer = staff_client.post(
        f"/api/imports/{job.pk}/revert/", {}, content_type="application/json"
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["kind"], body["reverts"], body["force"]) == ("revert", job.pk, False)

    revert = wait_for_job(body["id"])
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    assert (revert.restored, revert.deleted, revert.conflicts) == (2, 1, 0)
    now = catalogue()
    assert set(now) == set(before) == {"A-1", "B-1", "X-1"}
    for sku in before:
        # id, name, description, active and created_at as before the import ...
        assert now[sku][:5] == before[sku][:5], sku
    # ... and the product the import did not touch was not rewritten either.
    assert now["X-1"] == before["X-1"]

    counts = staff_client.get(f"/api/imports/{revert.pk}/").json()["counts"]
    assert (counts["restored"], counts["deleted"], counts["conflicts"]) == (2, 1, 0)

    deliveries_settle(5)  # 3 product.created, import.completed, import.reverted
    events = list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert events.count("import.reverted") == 1
    reverted = json.loads(next(r.body for r in receiver.requests if b'"import.reverted"' in r.body))
    assert reverted["data"]["reverts"] == job.pk
    assert (reverted["data"]["kind"], reverted["data"]["restored"]) == ("revert", 2)
    assert (reverted["data"]["deleted"], reverted["data"]["conflicts"]) == (1, 0)

    history = staff_client.get("/imports/").content.decode()
    assert f"Revert of #{job.pk}" in history
    page = staff_client.get(f"/imports/{revert.pk}/").content.decode()
    assert "Revert complete: 2 restored, 1 deleted" in page

    again = staff_client.post(f"/api/imports/{job.pk}/revert/", {}, content_type="application/json")
    assert again.status_code == 409
    assert "already reverted" in again.json()["detail"]
