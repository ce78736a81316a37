"""ProductSerializer builds a product's representation itself (fast enough to serialize the
whole catalogue); it is the one DRF's ModelSerializer machinery gives, key order included."""

from datetime import UTC, datetime

from rest_framework import serializers

from products.models import Product
from products.serializers import ProductSerializer


def test_the_representation_is_drfs(db):
    product = Product.objects.create(
        sku="R-1", name="Lamp", description="Warm\nlight", active=False
    )
    Product.objects.filter(pk=product.pk).update(
        created_at=datetime(2026, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)
    )
    product.refresh_from_db()
    serializer = ProductSerializer()

    fast = serializer.to_representation(product)
    drf = serializers.ModelSerializer.to_representation(serializer, product)

    assert list(fast.items()) == list(drf.items())
    assert fast["created_at"] == "2026-01-02T03:04:05.678900Z"
    # Cursor pages read rows as dicts: the same representation.
    row = Product.objects.values(*ProductSerializer.Meta.fields).get(pk=product.pk)
    assert list(serializer.to_representation(row).items()) == list(drf.items())


def test_the_list_answers_with_the_same_representation(db, staff_client):
    Product.objects.create(sku="R-1", name="Lamp")
    Product.objects.create(sku="R-2", name="Chair", active=False)

    results = staff_client.get("/api/products/").json()["results"]

    serializer = ProductSerializer()
    assert results == [
        serializers.ModelSerializer.to_representation(serializer, product)
        for product in Product.objects.order_by("name", "id")
    ]
