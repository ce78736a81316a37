"""The API does what the pages do: rotate the secret, enable and disable, redeliver, and a
filterable, paginated deliveries list; with the pages' permissions, and in the schema."""

from datetime import timedelta

import pytest
import yaml
from django.contrib.auth.models import Permission
from django.utils import timezone

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_api_rotates_the_secret_and_enables_and_disables(staff_client, make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    old_secret = endpoint.secret

    rotated = staff_client.post(f"/api/webhooks/{endpoint.pk}/rotate-secret/")
    assert rotated.status_code == 200, rotated.content
    endpoint.refresh_from_db()
    assert rotated.json()["secret"] == endpoint.secret != old_secret

    disabled = staff_client.post(f"/api/webhooks/{endpoint.pk}/disable/")
    assert disabled.status_code == 200 and disabled.json()["enabled"] is False
    endpoint.refresh_from_db()
    assert not endpoint.enabled

    endpoint.consecutive_failures = 4
    endpoint.save()
    enabled = staff_client.post(f"/api/webhooks/{endpoint.pk}/enable/")
    assert enabled.status_code == 200
    assert enabled.json()["enabled"] is True and enabled.json()["consecutive_failures"] == 0


def test_api_redelivers_a_finished_delivery_and_refuses_a_waiting_one(
    receiver, staff_client, make_endpoint
):
    receiver.script(Reply(status=404), Reply(status=200))
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()

    waiting = staff_client.post(f"/api/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert waiting.status_code == 409
    assert "still waiting" in waiting.json()["detail"]

    delivery_module.send(delivery.id)
    response = staff_client.post(f"/api/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    delivery_module.send(delivery.id)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert [r.headers["webhook-id"] for r in receiver.requests] == [delivery.msg_id] * 2

    other = make_endpoint(receiver.url("/other"), events=["product.created"])
    elsewhere = staff_client.post(f"/api/webhooks/{other.pk}/deliveries/{delivery.pk}/redeliver/")
    assert elsewhere.status_code == 404


def test_api_lists_deliveries_filtered_by_status_event_and_time(staff_client, make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook")
    other = make_endpoint("http://127.0.0.1:9/other")
    for number in range(3):
        emit("product.created", {"id": number})
    emit("import.failed", {"id": 9})
    mine = Delivery.objects.filter(endpoint=endpoint)
    first = mine.filter(event_type="product.created").order_by("id").first()
    Delivery.objects.filter(pk=first.pk).update(
        status="failed", created_at=timezone.now() - timedelta(days=2)
    )

    listed = staff_client.get(f"/api/webhooks/{endpoint.pk}/deliveries/").json()
    assert listed["count"] == 4
    assert {row["id"] for row in listed["results"]} == set(mine.values_list("id", flat=True))

    failed = staff_client.get(f"/api/webhooks/{endpoint.pk}/deliveries/", {"status": "failed"})
    assert [row["id"] for row in failed.json()["results"]] == [first.pk]
    by_event = staff_client.get(
        f"/api/webhooks/{endpoint.pk}/deliveries/", {"event_type": "import.failed"}
    ).json()
    assert [row["event_type"] for row in by_event["results"]] == ["import.failed"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    recent = staff_client.get(
        f"/api/webhooks/{endpoint.pk}/deliveries/", {"created_after": since}
    ).json()
    assert recent["count"] == 3 and first.pk not in {row["id"] for row in recent["results"]}
    paged = staff_client.get(f"/api/webhooks/{endpoint.pk}/deliveries/", {"page_size": 2}).json()
    assert paged["count"] == 4 and len(paged["results"]) == 2 and paged["next"]

    everywhere = staff_client.get("/api/deliveries/", {"endpoint": other.pk}).json()
    assert everywhere["count"] == 4
    assert {row["endpoint"] for row in everywhere["results"]} == {other.pk}
    bad = staff_client.get("/api/deliveries/", {"status": "exploded"})
    assert bad.status_code == 400


def test_api_actions_need_the_pages_permissions(client, viewer_user, make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    client.force_login(viewer_user)
    assert client.get(f"/api/webhooks/{endpoint.pk}/deliveries/").status_code == 403
    assert client.get("/api/deliveries/").status_code == 403

    viewer_user.user_permissions.add(Permission.objects.get(codename="view_webhookendpoint"))
    assert client.get(f"/api/webhooks/{endpoint.pk}/deliveries/").status_code == 200
    assert client.get("/api/deliveries/").status_code == 200
    for path in (
        f"/api/webhooks/{endpoint.pk}/rotate-secret/",
        f"/api/webhooks/{endpoint.pk}/disable/",
        f"/api/webhooks/{endpoint.pk}/enable/",
        f"/api/webhooks/{endpoint.pk}/deliveries/{delivery.pk}/redeliver/",
    ):
        assert client.post(path).status_code == 403, path
    secret = endpoint.secret
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.secret == secret


def test_every_new_answer_is_in_the_schema(staff_client):
    schema = yaml.safe_load(staff_client.get("/api/schema/").content)
    paths = schema["paths"]
    for path, code in [
        ("/api/webhooks/{id}/rotate-secret/", "200"),
        ("/api/webhooks/{id}/enable/", "200"),
        ("/api/webhooks/{id}/disable/", "200"),
        ("/api/webhooks/{endpoint_id}/deliveries/{delivery_id}/redeliver/", "202"),
    ]:
        body = paths[path]["post"]["responses"][code]["content"]["application/json"]["schema"]
        assert body["$ref"], path
    for path in ("/api/webhooks/{endpoint_id}/deliveries/", "/api/deliveries/"):
        operation = paths[path]["get"]
        names = {parameter["name"] for parameter in operation["parameters"]}
        assert {"status", "event_type", "created_after", "created_before", "page"} <= names, path
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.startswith("#/components/schemas/Paginated"), path
