import pytest

from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_emit_writes_one_row_per_enabled_subscribed_endpoint_after_commit(
    make_endpoint, django_capture_on_commit_callbacks
):
    subscribed = make_endpoint("http://127.0.0.1:9/a", events=["product.updated"])
    make_endpoint("http://127.0.0.1:9/b", events=["product.created"])
    make_endpoint("http://127.0.0.1:9/c", events=["product.updated"], enabled=False)

    with django_capture_on_commit_callbacks() as callbacks:
        emit("product.updated", {"id": 1})

    (delivery,) = Delivery.objects.all()
    assert delivery.endpoint == subscribed
    assert delivery.payload["type"] == "product.updated"
    assert delivery.payload["data"] == {"id": 1}
    assert delivery.status == Delivery.Status.QUEUED
    assert len(callbacks) == 1  # the task message goes out only on commit


def test_emit_refuses_unknown_event_types(db):
    with pytest.raises(ValueError, match="unknown webhook event"):
        emit("product.exploded", {})


def test_emit_costs_one_query_when_nothing_subscribes(
    make_endpoint, django_assert_num_queries, django_capture_on_commit_callbacks
):
    make_endpoint("http://127.0.0.1:9/a", events=["import.failed"])
    with django_capture_on_commit_callbacks() as callbacks, django_assert_num_queries(1):
        emit("product.updated", {"id": 1})
    assert callbacks == []
    assert not Delivery.objects.exists()
