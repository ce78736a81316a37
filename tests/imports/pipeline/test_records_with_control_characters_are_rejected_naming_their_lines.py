"""An import rejects a record whose sku or name holds a control character (a tab or line break
included) or whose description holds one other than tab and line breaks, naming its line; the
rule is products.text_rules'."""

import pytest

from products.models import Product

pytestmark = pytest.mark.django_db


def test_an_import_rejects_records_with_control_characters_naming_their_lines(import_bytes):
    data = (
        "sku,name,description\n"
        "ok-1,Fine,tab\there and\n"  # line 2
        '"multi","line ok","a\nb"\n'  # lines 3-4
        'bad-1,"Two\nlines",d\n'  # lines 5-6: a name spanning lines
        "bad\x012,Name,d\n"  # line 7
        "bad-3,Name,bell\x07\n"  # line 8
        "bad-4,Tab\tname,d\n"  # line 9
        "bad-5,Nul,a\x00b\n"  # line 10
    )

    imported = import_bytes(data)

    rejected = [(row[1], row[2]) for row in imported.report_rows[1:]]
    assert [line for line, _ in rejected] == ["5", "7", "8", "9", "10"]
    assert rejected[0][1].startswith("name contains the control character U+000A")
    assert rejected[1][1].startswith("sku contains the control character U+0001")
    assert rejected[2][1].startswith("description contains the control character U+0007")
    assert rejected[3][1].startswith("name contains the control character U+0009")
    assert rejected[4][1].startswith("description contains the control character U+0000")
    assert sorted(Product.objects.values_list("sku", flat=True)) == ["multi", "ok-1"]
    assert Product.objects.get(sku="ok-1").description == "tab\there and"
