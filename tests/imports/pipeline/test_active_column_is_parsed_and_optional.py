import pytest

from products.models import Product


@pytest.mark.django_db
def test_active_values_are_read_case_insensitively(import_bytes):
    imported = import_bytes(
        "sku,name,Active\n"
        "t1,A,true\nt2,A,TRUE\nt3,A,1\nt4,A, Yes \n"
        "f1,A,false\nf2,A,False\nf3,A,0\nf4,A,NO\n"
        "e1,A,\n"
    )

    assert imported.result.created == 9
    flags = dict(Product.objects.values_list("sku", "active"))
    assert flags == {
        "t1": True, "t2": True, "t3": True, "t4": True,
        "f1": False, "f2": False, "f3": False, "f4": False,
        "e1": True,  # empty cell: a new product defaults to active
    }  # fmt: skip


@pytest.mark.django_db
def test_without_the_column_existing_products_keep_their_flag(import_bytes):
    Product.objects.create(sku="off", name="Off", active=False)
    Product.objects.create(sku="on", name="On", active=True)

    imported = import_bytes("sku,name\noff,Off renamed\non,On renamed\nnew,New\n")

    assert (imported.result.created, imported.result.updated) == (1, 2)
    flags = dict(Product.objects.values_list("sku", "active"))
    assert flags == {"off": False, "on": True, "new": True}


@pytest.mark.django_db
def test_with_the_column_existing_products_take_the_files_flag(import_bytes):
    Product.objects.create(sku="off", name="Off", active=False)
    Product.objects.create(sku="on", name="On", active=True)
    Product.objects.create(sku="keep", name="Keep", active=False)

    imported = import_bytes("sku,name,active\noff,Off,yes\non,On,no\nkeep,Keep,\n")

    assert (imported.result.updated, imported.result.unchanged) == (2, 1)
    flags = dict(Product.objects.values_list("sku", "active"))
    assert flags == {"off": True, "on": False, "keep": False}


@pytest.mark.django_db
def test_every_common_spelling_of_yes_and_no_is_read(import_bytes):
    yes = ["true", "1", "yes", "Y", "Active", "ENABLED"]
    no = ["false", "0", "No", "n", "inactive", "Disabled"]
    rows = [f"y{i},A,{cell}" for i, cell in enumerate(yes)]
    rows += [f"n{i},A,{cell}" for i, cell in enumerate(no)]

    imported = import_bytes("sku,name,status\n" + "\n".join(rows) + "\n")

    assert (imported.result.created, imported.result.rows_rejected) == (12, 0)
    flags = dict(Product.objects.values_list("sku", "active"))
    assert flags == {**{f"y{i}": True for i in range(6)}, **{f"n{i}": False for i in range(6)}}
