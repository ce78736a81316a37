"""Django's iexact/icontains compile to UPPER(...), which no index here can serve; the filters
must compile to lower(col) = / lower(col) LIKE, and PostgreSQL must pick the indexes."""

import pytest
from django.db import connection

from products.filters import ProductFilter
from products.models import Product


def sql_for(params: dict) -> str:
    return str(ProductFilter(params, queryset=Product.objects.all()).qs.query)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sku": "Abc"}, 'LOWER("products_product"."sku") = abc'),
        ({"name": "Lamp"}, 'LOWER("products_product"."name")::text LIKE %lamp%'),
        ({"description": "Oak"}, 'LOWER("products_product"."description")::text LIKE %oak%'),
    ],
)
def test_filters_use_lower_not_upper(db, params, expected):
    sql = sql_for(params)

    assert expected in sql
    assert "UPPER" not in sql


def plan_for(params: dict, *, bitmap_only: bool) -> str:
    queryset = ProductFilter(params, queryset=Product.objects.all()).qs
    sql, sql_params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # With few rows a sequential scan is cheaper; forbid it to see which index is usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:
            # A trigram index is read by a bitmap scan; without this, walking the (tiny)
            # sort index and filtering every row looks cheaper.
            cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", sql_params)
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.parametrize(
    ("params", "index"),
    [
        ({"sku": "LAMP-001"}, "product_sku_lower_unique"),
        ({"name": "lamp"}, "product_name_lower_trgm"),
        ({"description": "linen"}, "product_description_lower_trgm"),
        ({"search": "lamp"}, "product_sku_lower_trgm"),
        ({"search": "lamp"}, "product_name_lower_trgm"),
        ({"search": "lamp"}, "product_description_lower_trgm"),
        ({"active": "false"}, "product_inactive_name_id"),
        ({"ordering": "sku"}, "product_sku_lower_unique"),
        ({"ordering": "-updated_at"}, "product_updated_at_id"),
        ({}, "product_name_id"),
    ],
)
def test_postgresql_can_serve_each_filter_from_an_index(catalogue, params, index):
    # Filters (trigram and sku equality) are shown as bitmap scans: with plain index scans
    # allowed, walking the tiny name index in list order (no sort) can tie with them,
    # depending on what statistics earlier tests left. Orderings need the plain index scan.
    filtered = index.endswith("_trgm") or "sku" in params
    assert index in plan_for(params, bitmap_only=filtered)
