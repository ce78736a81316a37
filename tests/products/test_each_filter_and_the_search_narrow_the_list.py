"""Each filter, in the API and on the list page, against the same small catalogue."""

import pytest
from rest_framework.test import APIClient

CASES = [
    ({"sku": "lamp-001"}, {"LAMP-001"}),  # case-insensitive exact
    ({"sku": " LAMP-SHADE-2 "}, {"lamp-shade-2"}),
    ({"sku": "lamp"}, set()),  # exact, not contains
    ({"name": "LAMP"}, {"LAMP-001", "lamp-shade-2"}),
    ({"name": "chair"}, {"CH-77"}),
    ({"description": "DESK"}, {"lamp-shade-2"}),
    ({"description": "300 ml"}, {"MUG-1"}),
    ({"description": "%"}, set()),  # LIKE wildcards are matched literally
    ({"active": "true"}, {"LAMP-001", "lamp-shade-2", "CH-77"}),
    ({"active": "false"}, {"tbl-9", "MUG-1"}),
    ({"search": "oak"}, {"tbl-9"}),  # name and description
    ({"search": "LAMP"}, {"LAMP-001", "lamp-shade-2"}),  # sku, name, description
    ({"search": "ch-7"}, {"CH-77"}),  # sku only
    ({"search": "desk", "active": "true"}, {"LAMP-001", "lamp-shade-2"}),
    ({"name": "lamp", "description": "linen"}, {"lamp-shade-2"}),
]


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_api_filters(api, catalogue, params, expected):
    body = api.get("/api/products/", params).json()

    assert {row["sku"] for row in body["results"]} == expected
    assert body["count"] == len(expected)


@pytest.mark.parametrize(("params", "expected"), CASES)
def test_list_page_filters(staff_client, catalogue, params, expected):
    response = staff_client.get("/products/", params)

    assert {p.sku for p in response.context["page_obj"]} == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("name", ["Coffee Mug", "Desk Lamp", "Lampshade", "Oak Table", "Office Chair"]),
        ("-name", ["Office Chair", "Oak Table", "Lampshade", "Desk Lamp", "Coffee Mug"]),
        ("sku", ["Office Chair", "Desk Lamp", "Lampshade", "Coffee Mug", "Oak Table"]),
        ("-sku", ["Oak Table", "Coffee Mug", "Lampshade", "Desk Lamp", "Office Chair"]),
    ],
)
def test_ordering(api, staff_client, catalogue, ordering, expected):
    body = api.get("/api/products/", {"ordering": ordering}).json()
    assert [row["name"] for row in body["results"]] == expected

    page = staff_client.get("/products/", {"ordering": ordering})
    assert [p.name for p in page.context["page_obj"]] == expected


def test_ordering_by_updated_puts_the_last_edited_first(api, catalogue):
    from products import services

    services.product_update(product=catalogue["chair"], name="Office Chair v2")

    body = api.get("/api/products/", {"ordering": "-updated_at"}).json()
    assert body["results"][0]["sku"] == "CH-77"


def test_an_invalid_active_value_is_a_400_not_a_500(api, catalogue):
    response = api.get("/api/products/", {"active": "maybe"})

    assert response.status_code == 400
    assert "active" in response.json()
