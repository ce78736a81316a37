"""Products test fixtures: a few products, clients with and without permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from products import services

PRODUCT_EVENTS = ["product.created", "product.updated", "product.deleted", "products.deleted_all"]


@pytest.fixture
def make_product(db):
    def make(sku: str, name: str = "Widget", description: str = "", active: bool = True):
        return services.product_create(sku=sku, name=name, description=description, active=active)

    return make


@pytest.fixture
def catalogue(make_product):
    """Five products chosen so each filter selects a different subset."""
    return {
        "lamp": make_product("LAMP-001", "Desk Lamp", "Warm light for a study"),
        "lampshade": make_product("lamp-shade-2", "Lampshade", "Linen, fits the desk LAMP"),
        "chair": make_product("CH-77", "Office Chair", "Ergonomic, mesh back"),
        "table": make_product("tbl-9", "Oak Table", "Solid oak", active=False),
        "mug": make_product("MUG-1", "Coffee Mug", "Stoneware; holds 300 ml", active=False),
    }


@pytest.fixture
def viewer_client(viewer_user):
    client = Client()
    client.force_login(viewer_user)
    return client


@pytest.fixture
def subscribed_endpoint(db):
    """A webhook endpoint subscribed to every product event: emit() writes Delivery rows."""
    from webhooks.models import WebhookEndpoint

    return WebhookEndpoint.objects.create(url="https://example.com/hooks", events=PRODUCT_EVENTS)


@pytest.fixture
def emitted(subscribed_endpoint):
    """The product events recorded so far, oldest first, as (event_type, data)."""
    from webhooks.models import Delivery

    def read() -> list[tuple[str, dict]]:
        deliveries = Delivery.objects.filter(endpoint=subscribed_endpoint).order_by("id")
        return [(d.event_type, d.payload["data"]) for d in deliveries]

    return read
