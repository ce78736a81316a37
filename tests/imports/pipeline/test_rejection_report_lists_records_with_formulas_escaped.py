import pytest


@pytest.mark.django_db
def test_report_has_record_line_reason_and_original_fields_with_formulas_escaped(import_bytes):
    imported = import_bytes(
        "sku,name,description\n"
        'ok,Fine,"multi\nline"\n'
        ',=HYPERLINK("http://x"),+1\n'
        "-2,@SUM(A1),\tleading tab,extra\n"
        'x,"",plain\n'
    )

    assert imported.report_rows == [
        ["record", "line", "reason", "sku", "name", "description"],
        ["2", "4", "sku is empty", "", '\'=HYPERLINK("http://x")', "'+1"],
        ["3", "5", "expected 3 fields, found 4", "'-2", "'@SUM(A1)", "'\tleading tab", "extra"],
        ["4", "6", "name is empty", "x", "", "plain"],
    ]


@pytest.mark.django_db
def test_report_keeps_the_original_untrimmed_fields(import_bytes):
    imported = import_bytes("sku,name\n  ,  Name  \n")

    assert imported.report_rows[1] == ["1", "2", "sku is empty", "  ", "  Name  "]


@pytest.mark.django_db
def test_report_has_only_its_header_when_nothing_is_rejected(import_bytes):
    imported = import_bytes("sku,name\na,A\n")

    assert imported.report_rows == [["record", "line", "reason", "sku", "name"]]
