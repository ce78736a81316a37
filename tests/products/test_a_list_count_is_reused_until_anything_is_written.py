"""A filtered list's count, and the exact total a deep page needs, are counted once per
PostgreSQL snapshot: while nothing is written they come from the cache without a count(*);
after any committed write they are counted again, so they are never stale."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from products import counting
from products.filters import ProductFilter
from products.models import Product


def lamps():
    return ProductFilter({"name": "lamp"}, queryset=Product.objects.all()).qs


def counted(call):
    with CaptureQueriesContext(connection) as queries:
        result = call()
    return result, sum("count(*)" in query["sql"].lower() for query in queries.captured_queries)


@pytest.mark.django_db(transaction=True)
def test_counts_are_reused_until_a_write_commits():
    Product.objects.bulk_create(Product(sku=f"L-{i}", name=f"Lamp {i}") for i in range(30))
    Product.objects.bulk_create(Product(sku=f"C-{i}", name=f"Chair {i}") for i in range(5))

    first, first_queries = counted(lambda: counting.estimated_count(lamps()))
    again, again_queries = counted(lambda: counting.estimated_count(lamps()))
    total, _ = counted(lambda: counting.exact_count(Product.objects.filter(active=True)))
    total_again, total_again_queries = counted(
        lambda: counting.exact_count(Product.objects.filter(active=True))
    )

    assert (first, again) == ((30, True), (30, True))
    assert (first_queries, again_queries) == (1, 0)
    assert (total, total_again, total_again_queries) == (35, 35, 0)

    Product.objects.create(sku="L-new", name="Lamp new")  # commits: a new snapshot

    after, after_queries = counted(lambda: counting.estimated_count(lamps()))
    assert (after, after_queries) == ((31, True), 1)
    assert counting.exact_count(Product.objects.filter(active=True)) == 36


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_has_written_counts_its_own_rows():
    from django.db import transaction

    Product.objects.bulk_create(Product(sku=f"L-{i}", name=f"Lamp {i}") for i in range(3))
    assert counting.estimated_count(lamps()) == (3, True)

    with transaction.atomic():
        Product.objects.create(sku="L-mine", name="Lamp mine")
        inside, queries = counted(lambda: counting.estimated_count(lamps()))
        assert (inside, queries) == ((4, True), 1)
        transaction.set_rollback(True)

    assert counting.estimated_count(lamps()) == (3, True)
