import csv
import io

from django.http import StreamingHttpResponse

from products.formula_escaping import escape_cell


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_export_has_the_importer_columns_and_follows_the_filters(staff_client, catalogue):
    response = staff_client.get("/products/export.csv", {"active": "false", "ordering": "sku"})

    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == ["name", "sku", "description", "active"]
    assert [row["sku"] for row in rows] == ["MUG-1", "tbl-9"]
    assert rows[0]["active"] == "false"


def test_formula_cells_are_prefixed_with_a_quote(staff_client, make_product):
    make_product("=cmd|'/c calc'!A1", "+SUM(1,2)", "-2+3")
    make_product("@sku", "'quoted", "\tTabbed\rReturn")
    make_product("plain", "With comma, and 'quote'", 'say "hi"\nMulti line')

    rows = {row["sku"]: row for row in read_csv(staff_client.get("/products/export.csv"))}

    assert rows["'=cmd|'/c calc'!A1"]["name"] == "'+SUM(1,2)"
    assert rows["'=cmd|'/c calc'!A1"]["description"] == "'-2+3"
    assert rows["'@sku"]["name"] == "''quoted"  # reversible: an apostrophe is escaped too
    assert rows["'@sku"]["description"] == "'\tTabbed\rReturn"
    assert rows["plain"]["name"] == "With comma, and 'quote'"
    assert rows["plain"]["description"] == 'say "hi"\nMulti line'


def test_escape_cell_leaves_ordinary_text_alone():
    assert escape_cell("Lamp = light") == "Lamp = light"
    assert escape_cell("") == ""
    assert escape_cell("=1") == "'=1"
