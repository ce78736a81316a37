"""Names containing "michael", sorted by name, sit together in the middle of the name order.
A walk of the name index meets every name before them first (at 500,000 products: 340,000
rows, 2.6 s); the page read walks at most its budget, then reads the matches through the
trigram index. Work is counted in rows PostgreSQL fetched for this transaction
(pg_stat_xact_user_tables), not in time."""

import csv
from pathlib import Path

import pytest
from django.db import connection

from products import counting, page_plans
from products.counting import CataloguePaginator
from products.filters import ProductFilter
from products.models import Product

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "products-sample.csv"


@pytest.fixture
def sample_catalogue(db):
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        # One row per SKU whatever its case (the last wins, as in an import).
        rows = list({row["sku"].lower(): row for row in csv.DictReader(handle)}.values())
    Product.objects.bulk_create(
        Product(sku=row["sku"], name=row["name"], description=row["description"]) for row in rows
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")
    return rows


def rows_fetched() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) "
            "FROM pg_stat_xact_user_tables WHERE relname = 'products_product'"
        )
        return cursor.fetchone()[0]


def test_page_one_of_clustered_matches_walks_at_most_its_budget(monkeypatch, sample_catalogue):
    budget = 300
    monkeypatch.setattr(page_plans, "WALK_ROWS_MIN", budget)
    monkeypatch.setattr(page_plans, "WALK_SLACK", 0)
    # Counts above 10 are estimated: the page is read as a common term's would be.
    monkeypatch.setattr(counting, "EXACT_COUNT_LIMIT", 10)
    names = sorted(row["name"] for row in sample_catalogue)
    michaels = [index for index, name in enumerate(names) if "michael" in name.lower()]
    assert len(michaels) >= 25 and michaels[0] > 4 * budget  # clustered, far into the order
    queryset = ProductFilter({"name": "michael"}, queryset=Product.objects.all()).qs
    with connection.cursor() as cursor:
        # 2,000 rows are read faster in one sequential scan; at 500,000 that is not so.
        cursor.execute("SET LOCAL enable_seqscan = off")
    paginator = CataloguePaginator(queryset, 25)
    assert paginator.count > 25 and not paginator.count_is_exact
    before = rows_fetched()

    page = paginator.page("1")

    fetched = rows_fetched() - before
    assert [product.name for product in page] == [names[index] for index in michaels[:25]]
    # The walk (at most `budget` rows, and as many index entries to find where it ends) plus
    # the matches, twice at most; not the 1,370 names before the first Michael.
    assert fetched <= 2 * budget + 2 * len(michaels), fetched
