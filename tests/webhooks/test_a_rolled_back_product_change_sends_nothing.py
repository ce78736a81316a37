import pytest
from django.db import transaction

from products.services import product_create, product_update
from webhooks.models import Delivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


class Abort(Exception):
    pass


def test_a_rolled_back_product_change_sends_nothing(celery_worker, receiver, make_endpoint):
    product = product_create(sku="RB-1", name="Before")
    make_endpoint(receiver.url(), events=["product.updated"])

    with pytest.raises(Abort), transaction.atomic():
        product_update(product=product, name="Rolled back")
        raise Abort
    assert not Delivery.objects.exists()

    # A committed change afterwards is delivered, and it is the only thing the receiver gets.
    product_update(product=product, name="Committed")
    (request,) = receiver.wait_for(1)
    assert b'"name":"Committed"' in request.body
    assert Delivery.objects.count() == 1
    assert len(receiver.requests) == 1
