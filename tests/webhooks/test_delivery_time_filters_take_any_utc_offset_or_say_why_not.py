"""The deliveries list's time filters take a time with any offset ISO 8601 allows (PostgreSQL
refuses offsets past 15:59 when they reach it as they are: that answered 500), and a time that
cannot be expressed in UTC is a 400 naming the parameter. Found by the schema fuzz test."""

from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/deliveries/", "/api/webhooks/{pk}/deliveries/"])
def test_an_offset_postgresql_refuses_still_filters(staff_client, make_endpoint, path):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    # 20 hours east of the delivery's own time in UTC: the same instant, written far east.
    far_east = timezone.localtime(delivery.created_at, timezone.get_fixed_timezone(20 * 60))
    url = path.format(pk=endpoint.pk)

    same_instant = staff_client.get(url, {"created_after": far_east.isoformat()})
    assert same_instant.status_code == 200, same_instant.content
    assert [row["id"] for row in same_instant.json()["results"]] == [delivery.pk]

    later = (far_east + timedelta(seconds=1)).isoformat()
    after_it = staff_client.get(url, {"created_after": later, "created_before": later})
    assert after_it.status_code == 200, after_it.content
    assert after_it.json()["results"] == []


def test_a_time_before_the_first_utc_instant_is_a_clear_400(staff_client):
    response = staff_client.get("/api/deliveries/", {"created_before": "0001-01-01T00:00:00+23:00"})
    assert response.status_code == 400, response.content
    assert "created_before" in response.json()


def test_the_recover_form_reads_far_offsets_as_the_same_instant_in_utc():
    from datetime import UTC

    from webhooks.forms import RecoverForm

    an_hour_ago = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    far_east = timezone.localtime(an_hour_ago, timezone.get_fixed_timezone(20 * 60))
    form = RecoverForm({"since": far_east.isoformat()})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["since"] == an_hour_ago.astimezone(UTC)

    refused = RecoverForm({"since": "0001-01-01T00:00:00+23:00"})
    assert not refused.is_valid()
    assert "since" in refused.errors
