import pytest

from products import services
from products.models import Product


def test_same_sku_in_other_case_is_refused_with_a_clear_error(make_product):
    make_product("abc-1")

    with pytest.raises(services.ProductSkuTaken) as raised:
        services.product_create(sku="ABC-1", name="Other")

    assert raised.value.field == "sku"
    assert raised.value.message == "A product with this SKU already exists."
    assert Product.objects.count() == 1


def test_sku_is_trimmed_before_it_is_stored_and_compared(make_product):
    product = make_product("  Sku-9 \t")

    assert product.sku == "Sku-9"
    with pytest.raises(services.ProductSkuTaken):
        services.product_create(sku=" sku-9 ", name="Twin")


def test_renaming_a_sku_onto_another_products_sku_is_refused(make_product):
    make_product("first")
    second = make_product("second")

    with pytest.raises(services.ProductSkuTaken):
        services.product_update(product=second, sku="FIRST")

    second.refresh_from_db()
    assert second.sku == "second"


def test_changing_only_the_case_of_its_own_sku_is_allowed(make_product):
    product = make_product("mixed-case")

    services.product_update(product=product, sku="MIXED-CASE")

    product.refresh_from_db()
    assert product.sku == "MIXED-CASE"


def test_blank_sku_and_name_are_refused(db):
    with pytest.raises(services.ProductError) as raised:
        services.product_create(sku="   ", name="Nameless sku")
    assert raised.value.field == "sku"

    with pytest.raises(services.ProductError) as raised:
        services.product_create(sku="x-1", name="  ")
    assert raised.value.field == "name"
