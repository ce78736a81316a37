"""fetch_page picks a plan (filter index, planner's choice, backwards from the end); whichever
it picks, a page holds exactly the rows plain OFFSET/LIMIT would."""

import pytest

from products import counting
from products.filters import ProductFilter
from products.models import Product


@pytest.fixture
def products(db):
    # Reading is under test, not writing: rows straight in, with names that tie.
    Product.objects.bulk_create(
        Product(
            sku=f"SKU-{(index * 7) % 23:02d}",
            name=f"{'Lamp' if index % 3 else 'Chair'} {index % 5}",
            active=index % 4 != 0,
        )
        for index in range(23)
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"ordering": "sku"},
        {"ordering": "-updated_at"},
        {"ordering": "-name"},
        {"name": "lamp"},
        {"name": "lamp", "ordering": "-sku"},
        {"active": "true", "ordering": "name"},
    ],
)
@pytest.mark.parametrize("few_matches", [True, False])
def test_every_page_matches_plain_slicing(monkeypatch, products, params, few_matches):
    monkeypatch.setattr(counting, "DEEP_OFFSET", 6)
    queryset = ProductFilter(params, queryset=Product.objects.all()).qs
    expected = [p.pk for p in queryset]

    pages = []
    for bottom in range(0, len(expected), 4):
        rows = counting.fetch_page(queryset, bottom, bottom + 4, few_matches=few_matches)
        pages.extend(p.pk for p in rows)

    assert pages == expected
    assert (
        counting.fetch_page(queryset, len(expected) + 8, len(expected) + 12, few_matches=True) == []
    )


def test_the_api_last_page_is_read_backwards_and_correct(monkeypatch, staff_client, products):
    monkeypatch.setattr(counting, "DEEP_OFFSET", 4)

    last = staff_client.get("/api/products/", {"page": 5, "page_size": 5}).json()
    everything = staff_client.get("/api/products/", {"page_size": 100}).json()

    assert [row["id"] for row in last["results"]] == [
        row["id"] for row in everything["results"][20:]
    ]


def test_a_plan_cut_off_by_the_timeout_falls_back_to_the_filter_index(monkeypatch, products):
    monkeypatch.setattr(counting, "PLAN_TIMEOUT", "1ms")
    # pg_sleep per row makes the first attempt outlive the 1 ms timeout.
    queryset = Product.objects.filter(name__startswith="Chair").extra(
        where=["pg_sleep(0.002) IS NOT NULL"]
    )
    expected = list(Product.objects.filter(name__startswith="Chair").values_list("pk", flat=True))

    rows = counting.fetch_page(queryset, 0, 25, few_matches=False)

    assert [p.pk for p in rows] == expected


def test_plan_settings_do_not_leak_into_the_callers_transaction(products):
    from django.db import connection

    queryset = ProductFilter({"name": "lamp"}, queryset=Product.objects.all()).qs
    counting.fetch_page(queryset, 0, 5, few_matches=True)
    counting.fetch_page(queryset, 0, 5, few_matches=False)

    with connection.cursor() as cursor:  # the test's own transaction is still open here
        cursor.execute(
            "SELECT current_setting('enable_indexscan'), current_setting('statement_timeout')"
        )
        assert cursor.fetchone() == ("on", "0")
