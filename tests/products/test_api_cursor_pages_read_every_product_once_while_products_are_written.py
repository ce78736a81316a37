"""A client reading the whole catalogue through the API follows keyset (cursor) pages: every
product that exists when the read starts and is not deleted meanwhile is read exactly once,
whatever is inserted or deleted between pages; products inserted meanwhile come at the end."""

import pytest
from rest_framework.test import APIClient

from products.models import Product


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


def add(count: int, prefix: str, *, start: int = 0) -> list[int]:
    products = Product.objects.bulk_create(
        # Names that sort first: they would shift every page of a name-ordered list.
        Product(sku=f"{prefix}-{start + index}", name=f"{prefix} {start + index:03d}")
        for index in range(count)
    )
    return [product.pk for product in products]


def test_cursor_pages_meet_each_existing_product_once_while_others_are_written(db, api):
    existing = add(40, "B")
    inserted: list[int] = []
    deleted: list[int] = []
    seen: list[int] = []

    response = api.get("/api/products/", {"cursor": "", "page_size": 7})
    pages = 0
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        assert "count" not in body
        seen.extend(row["id"] for row in body["results"])
        pages += 1
        # Between pages: new products whose names sort before every other, and deletes of
        # one product already read and one not read yet.
        inserted += add(3, "A", start=3 * pages)
        unread = [pk for pk in existing if pk not in seen and pk not in deleted]
        for pk in (seen[0] if seen[0] not in deleted else None, unread[0] if unread else None):
            if pk is not None:
                Product.objects.filter(pk=pk).delete()
                deleted.append(pk)
        if not body["next"]:
            break
        assert "cursor=" in body["next"]
        response = api.get(body["next"])

    assert len(seen) == len(set(seen)), "a product was read twice"
    assert seen == sorted(seen)
    kept = [pk for pk in existing if pk not in deleted]
    assert set(kept) <= set(seen), "an existing product was skipped"
    assert set(seen) <= set(existing) | set(inserted)
    assert set(seen) & set(inserted), "products inserted meanwhile come at the end"


def test_cursor_pages_apply_the_filters(db, api):
    add(5, "Lamp")
    add(5, "Chair")

    body = api.get("/api/products/", {"cursor": "", "name": "lamp", "page_size": 2}).json()
    names = [row["name"] for row in body["results"]]
    while body["next"]:
        body = api.get(body["next"]).json()
        names += [row["name"] for row in body["results"]]

    assert sorted(names) == [f"Lamp {index:03d}" for index in range(5)]


def test_cursor_pages_refuse_an_ordering(db, api):
    add(2, "Lamp")

    response = api.get("/api/products/", {"cursor": "", "ordering": "name"})

    assert response.status_code == 400
    assert "ordering" in response.json()


def test_the_schema_documents_cursor_pages(db, api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/products/"]["get"]

    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert "cursor" in parameters
    assert "id order" in parameters["cursor"]["description"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page = schema["components"]["schemas"][page["$ref"].rsplit("/", 1)[-1]]
    assert "count" not in page["required"]
