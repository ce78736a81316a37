import pytest

from products.models import Product

LONG = "x" * 256


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (",Name,d", "sku is empty"),
        ("   ,Name,d", "sku is empty"),
        ("sku-2,,d", "name is empty"),
        ("sku-2,  ,d", "name is empty"),
        (f"{LONG},Name,d", "sku is longer than 255 characters (256)"),
        (f"sku-2,{LONG},d", "name is longer than 255 characters (256)"),
        ("sku-2,Name", "expected 3 fields, found 2"),
        ("sku-2,Name,d,extra", "expected 3 fields, found 4"),
    ],
)
def test_each_rule_rejects_the_record_with_its_numbers(import_bytes, record, reason):
    imported = import_bytes(f"sku,name,description\nsku-1,Fine,d\n{record}\nsku-3,Fine,d\n")

    assert imported.result.rows_rejected == 1
    assert imported.report_rows[1][:3] == ["2", "3", reason]
    assert set(Product.objects.values_list("sku", flat=True)) == {"sku-1", "sku-3"}


@pytest.mark.django_db
def test_unreadable_active_is_rejected(import_bytes):
    imported = import_bytes("sku,name,active\na,A,yes\nb,B,maybe\n")

    assert imported.report_rows[1][:3] == [
        "2",
        "3",
        "active must be one of true/false, 1/0, yes/no, y/n, active/inactive, enabled/disabled, "
        "not 'maybe'",
    ]


@pytest.mark.django_db
def test_line_number_counts_the_lines_of_earlier_multi_line_records(import_bytes):
    imported = import_bytes(
        "sku,name,description\n"  # line 1
        'a,A,"one\n'  # line 2 (record 1 starts)
        "two, with a comma\n"  # line 3
        'and ""quotes"""\n'  # line 4
        "\n"  # line 5: blank, skipped
        'b,B,"x\ny"\n'  # lines 6-7 (record 2)
        ",C,bad\n"  # line 8 (record 3)
    )

    assert imported.report_rows[1][:3] == ["3", "8", "sku is empty"]
    assert Product.objects.get(sku="a").description == 'one\ntwo, with a comma\nand "quotes"'
    assert imported.result.rows_read == 3


@pytest.mark.django_db
def test_a_rejected_multi_line_record_is_reported_at_its_first_line(import_bytes):
    imported = import_bytes('sku,name,description\na,A,d\n,"B\nstill B",d\n')

    assert imported.report_rows[1][:3] == ["2", "3", "sku is empty"]


@pytest.mark.django_db
def test_sku_and_name_are_trimmed(import_bytes):
    import_bytes("sku,name\n  a-1 \t,  Spaced name  \n")

    product = Product.objects.get()
    assert (product.sku, product.name) == ("a-1", "Spaced name")
