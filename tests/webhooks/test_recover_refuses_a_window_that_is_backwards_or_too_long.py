"""Recover sends again a bounded window: `until` must be later than `since`, and the window
(up to now when `until` is left out) may be at most recovery.MAX_WINDOW long; otherwise the API
answers 400 with the field's error and the page shows it, and nothing is sent again."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from webhooks.models import Delivery, Recovery
from webhooks.recovery import MAX_WINDOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(make_endpoint):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": "x", "data": {}},
        msg_id="msg_old_failure",
        status=Delivery.Status.FAILED,
        completed_at=timezone.now(),
    )
    return endpoint


def recover(staff_client, endpoint, **window):
    body = {name: value.isoformat() for name, value in window.items()}
    return staff_client.post(
        f"/api/webhooks/{endpoint.pk}/recover/", body, content_type="application/json"
    )


def test_the_api_refuses_an_until_not_later_than_since(staff_client, endpoint):
    now = timezone.now()
    answer = recover(
        staff_client, endpoint, since=now - timedelta(hours=1), until=now - timedelta(hours=2)
    )
    assert answer.status_code == 400, answer.content
    assert "later than" in answer.json()["until"][0]
    same = recover(staff_client, endpoint, since=now, until=now)
    assert same.status_code == 400 and "until" in same.json()


def test_the_api_refuses_a_window_longer_than_the_cap(staff_client, endpoint):
    now = timezone.now()
    answer = recover(staff_client, endpoint, since=now - MAX_WINDOW - timedelta(hours=1))
    assert answer.status_code == 400, answer.content
    assert f"{MAX_WINDOW.days} days" in answer.json()["since"][0]
    since_epoch = recover(
        staff_client, endpoint, since=now.replace(year=1970), until=now - timedelta(hours=1)
    )
    assert since_epoch.status_code == 400 and "since" in since_epoch.json()
    assert not Recovery.objects.exists()
    assert Delivery.objects.get().status == Delivery.Status.FAILED

    # A window of exactly the cap is fine.
    fine = recover(staff_client, endpoint, since=now - MAX_WINDOW, until=now)
    assert fine.status_code == 202, fine.content


def test_the_page_shows_the_error_and_recovers_nothing(staff_client, endpoint):
    since = timezone.localtime(timezone.now() - MAX_WINDOW - timedelta(days=1))
    response = staff_client.post(
        reverse("webhooks:recover", args=[endpoint.pk]),
        {"since": since.strftime("%Y-%m-%dT%H:%M")},
        follow=True,
    )
    assert response.status_code == 200
    assert f"at most {MAX_WINDOW.days} days" in response.content.decode()
    assert not Recovery.objects.exists()
