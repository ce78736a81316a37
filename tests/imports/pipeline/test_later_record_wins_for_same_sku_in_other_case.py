import pytest

from products.models import Product


@pytest.mark.django_db
def test_later_record_wins_for_same_sku_in_other_case(import_bytes):
    imported = import_bytes(
        "sku,name,description\n"
        "Mug-1,First mug,old\n"
        "other,Other,x\n"
        "MUG-1,Second mug,newer\n"
        "mug-1,Third mug,newest\n"
    )

    assert (imported.result.rows_valid, imported.result.created) == (4, 2)
    mug = Product.objects.get(sku__iexact="mug-1")
    assert (mug.sku, mug.name, mug.description) == ("mug-1", "Third mug", "newest")


@pytest.mark.django_db
def test_later_record_wins_over_an_existing_product(import_bytes):
    Product.objects.create(sku="MUG-1", name="Existing", description="")

    imported = import_bytes("sku,name\nmug-1,Early\nMug-1,Late\n")

    assert (imported.result.created, imported.result.updated) == (0, 1)
    mug = Product.objects.get()
    assert (mug.sku, mug.name) == ("Mug-1", "Late")


@pytest.mark.django_db
def test_a_rejected_later_record_does_not_win(import_bytes):
    imported = import_bytes("sku,name,active\nmug-1,Valid,yes\nMUG-1,Invalid,perhaps\n")

    assert imported.result.rows_rejected == 1
    assert Product.objects.get().name == "Valid"
