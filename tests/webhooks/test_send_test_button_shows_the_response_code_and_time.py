import pytest
from django.urls import reverse

from tests.support.waiting import wait_until
from tests.webhooks.conftest import Reply

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_send_test_button_shows_the_response_code_and_time(
    celery_worker, receiver, make_endpoint, staff_client
):
    receiver.script(Reply(status=202, body=b"SECRET-BODY-NEVER-SHOWN"))
    endpoint = make_endpoint(receiver.url())

    response = staff_client.post(
        reverse("webhooks:test", args=[endpoint.pk]), HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 202
    status_url = response.json()["status_url"]

    def result():
        body = staff_client.get(status_url).json()
        return body if body["final"] else None

    result = wait_until(result, what="test delivery never finished")
    assert result["status"] == "succeeded"
    assert result["status_code"] == 202
    assert isinstance(result["duration_ms"], int)
    (request,) = receiver.requests
    assert b'"type":"webhook.test"' in request.body

    # The endpoint page shows the same result, and never the receiver's body.
    page = staff_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "HTTP 202" in page
    assert f"{result['duration_ms']} ms" in page
    assert "SECRET-BODY-NEVER-SHOWN" not in page
    assert "SECRET-BODY-NEVER-SHOWN" not in str(staff_client.get(status_url).json())


def test_the_api_test_action_queues_a_test_the_worker_sends(
    celery_worker, receiver, make_endpoint, staff_client
):
    endpoint = make_endpoint(receiver.url())

    response = staff_client.post(f"/api/webhooks/{endpoint.pk}/test/")
    assert response.status_code == 202, response.content
    delivery_id = response.json()["id"]

    def result():
        body = staff_client.get(f"/api/webhooks/{endpoint.pk}/deliveries/{delivery_id}/").json()
        return body if body["final"] else None

    result = wait_until(result, what="test delivery never finished")
    assert result["last_status_code"] == 200
    assert result["last_duration_ms"] is not None
    assert len(receiver.requests) == 1
