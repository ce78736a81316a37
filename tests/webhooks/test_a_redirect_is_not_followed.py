import pytest

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_a_redirect_is_not_followed(receiver, make_endpoint):
    receiver.script(Reply(status=302, headers={"location": receiver.url("/elsewhere")}))
    make_endpoint(receiver.url("/hook"), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()

    delivery_module.send(delivery.id)

    assert [request.path for request in receiver.requests] == ["/hook"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED  # a 3xx is not retried either
    assert delivery.last_status_code == 302
    assert "not followed" in delivery.last_error
