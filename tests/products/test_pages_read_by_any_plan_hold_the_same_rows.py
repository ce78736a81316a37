"""page_plans.fetch_page picks a plan (a bounded walk of the sort index, the filter's index,
backwards from the end); whichever it picks, a page holds exactly the rows a plain query
(`list(queryset)[bottom:top]`) holds: on the sample catalogue (real names, descriptions and
SKUs), for every filter with common and rare terms, every sort, first, middle and last pages."""

import csv
from pathlib import Path

import pytest
from django.db import connection

from products import counting, page_plans
from products.filters import ORDERINGS, ProductFilter
from products.models import Product

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "products-sample.csv"
PER_PAGE = 25

FILTERS = [
    {"name": "michael"},  # common, clustered in name order (the Michaels)
    {"name": "smith"},  # common, spread through name order
    {"name": "bryce jones"},  # rare
    {"description": "the"},  # common word
    {"description": "art community floor"},  # rare phrase
    {"search": "the"},
    {"search": "raise-best"},  # a piece of one SKU
    {"active": "false"},
    {"active": "true", "name": "john"},
    {"sku": "CUP-RETURN-GUESS"},
    {"name": "no such name"},
]


@pytest.fixture
def sample_catalogue(db):
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        # One row per SKU whatever its case (the last wins, as in an import).
        rows = list({row["sku"].lower(): row for row in csv.DictReader(handle)}.values())
    # Reading is under test, not writing: rows straight in.
    Product.objects.bulk_create(
        Product(
            sku=row["sku"],
            name=row["name"],
            description=row["description"],
            active=index % 9 != 0,
        )
        for index, row in enumerate(rows)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")


PLAN_SETTINGS = {
    "as shipped": {},
    # Budgets so small that walks end early and fall back to the filter's index.
    "walks cut short": {"WALK_ROWS_MIN": 10, "WALK_SLACK": 1},
    # Everything past the first page is deep: read backwards from the end when past the middle.
    "deep pages": {"DEEP_OFFSET": PER_PAGE},
}


@pytest.mark.parametrize("plan_settings", PLAN_SETTINGS.values(), ids=PLAN_SETTINGS.keys())
def test_every_page_matches_the_plain_query(monkeypatch, sample_catalogue, plan_settings):
    for name, value in plan_settings.items():
        monkeypatch.setattr(page_plans, name, value)
    mismatches = []
    for filters in FILTERS:
        for ordering in ORDERINGS:
            params = {**filters, "ordering": ordering}
            queryset = ProductFilter(params, queryset=Product.objects.all()).qs
            expected = list(queryset.values_list("pk", flat=True))
            matches, exact = counting.estimated_count(queryset)
            last = max(0, (len(expected) - 1) // PER_PAGE * PER_PAGE)
            for bottom in sorted({0, PER_PAGE, last // 2 // PER_PAGE * PER_PAGE, last}):
                top = bottom + PER_PAGE
                rows = page_plans.fetch_page(
                    queryset,
                    bottom,
                    top,
                    matches=matches,
                    exact=exact,
                    total=lambda queryset=queryset: counting.exact_count(queryset),
                )
                if [row.pk for row in rows] != expected[bottom:top]:
                    mismatches.append((params, bottom))
            first = counting.CataloguePaginator(queryset, PER_PAGE).page("1")
            if [row.pk for row in first] != expected[:PER_PAGE]:
                mismatches.append((params, "paginator page 1"))

    assert mismatches == []


def test_a_page_past_the_end_is_empty(sample_catalogue):
    queryset = ProductFilter({"name": "smith"}, queryset=Product.objects.all()).qs

    rows = page_plans.fetch_page(
        queryset, 20_000, 20_025, matches=None, exact=False, total=queryset.count
    )

    assert rows == []


def test_the_api_last_page_is_read_backwards_and_correct(monkeypatch, staff_client, db):
    monkeypatch.setattr(page_plans, "DEEP_OFFSET", 4)
    Product.objects.bulk_create(
        Product(sku=f"SKU-{(index * 7) % 23:02d}", name=f"Lamp {index % 5}") for index in range(23)
    )

    last = staff_client.get("/api/products/", {"page": 5, "page_size": 5}).json()
    everything = staff_client.get("/api/products/", {"page_size": 100}).json()

    assert [row["id"] for row in last["results"]] == [
        row["id"] for row in everything["results"][20:]
    ]


def test_plan_settings_do_not_leak_into_the_callers_transaction(sample_catalogue):
    queryset = ProductFilter({"name": "michael"}, queryset=Product.objects.all()).qs
    page_plans.fetch_page(queryset, 0, 5, matches=40, exact=True, total=queryset.count)
    page_plans.fetch_page(queryset, 0, 5, matches=None, exact=False, total=queryset.count)

    with connection.cursor() as cursor:  # the test's own transaction is still open here
        cursor.execute("SELECT current_setting('enable_indexscan')")
        assert cursor.fetchone() == ("on",)
