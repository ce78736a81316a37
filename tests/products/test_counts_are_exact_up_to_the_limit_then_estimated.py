from django.db import connection

from products import counting
from products.models import Product


def test_small_results_are_counted_exactly(catalogue):
    total, exact = counting.estimated_count(Product.objects.filter(active=False))

    assert (total, exact) == (2, True)


def test_beyond_the_limit_the_count_is_an_estimate_above_the_limit(monkeypatch, catalogue):
    monkeypatch.setattr(counting, "EXACT_COUNT_LIMIT", 2)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE products_product")

    total, exact = counting.estimated_count(Product.objects.all())
    filtered_total, filtered_exact = counting.estimated_count(Product.objects.filter(active=True))

    assert exact is False and total >= 3
    assert filtered_exact is False and filtered_total >= 3


def test_the_list_page_says_about_when_the_total_is_an_estimate(monkeypatch, staff_client, db):
    monkeypatch.setattr(counting, "EXACT_COUNT_LIMIT", 3)
    Product.objects.bulk_create(Product(sku=f"EST-{i}", name=f"Estimate {i}") for i in range(30))

    html = " ".join(staff_client.get("/products/").content.decode().split())

    assert "About " in html
    assert "Last »" not in html


def test_a_short_first_page_is_its_own_exact_count(monkeypatch, staff_client, catalogue):
    monkeypatch.setattr(counting, "EXACT_COUNT_LIMIT", 3)

    html = " ".join(staff_client.get("/products/").content.decode().split())
    body = staff_client.get("/api/products/").json()

    assert "5 products" in html and "About" not in html
    assert body["count"] == 5
