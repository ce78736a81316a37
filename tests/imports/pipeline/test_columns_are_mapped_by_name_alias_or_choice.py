"""Each catalogue field takes one column of the file, or none: suggested from the header
(names and aliases, case and spacing ignored) or chosen by a mapping. A field left out is
never written; columns no field takes are listed."""

import pytest

from imports.column_mapping import MappingError, match_columns, parse_map_options, parse_mapping
from imports.pipeline import ImportFailed
from products.models import Product

FOREIGN = "Product Code;Title;Details\nP-1;Lamp;Warm light\nP-2;Chair;Oak\n"


@pytest.mark.django_db
def test_a_foreign_header_is_imported_through_the_suggested_mapping(import_bytes):
    imported = import_bytes(FOREIGN.encode("cp1252"))

    assert imported.result.mapping == {
        "sku": "Product Code", "name": "Title", "description": "Details", "active": None,
    }  # fmt: skip
    assert imported.result.unknown_columns == []
    assert dict(Product.objects.values_list("sku", "description")) == {
        "P-1": "Warm light",
        "P-2": "Oak",
    }


@pytest.mark.django_db
def test_an_explicit_mapping_takes_columns_the_suggestion_would_not(import_bytes):
    data = "Ref No,Label,Notes,Colour\nR-1,Lamp,Warm,red\n"

    imported = import_bytes(
        data, mapping={"sku": "ref no", "name": "Label", "description": "Notes"}
    )

    assert imported.result.unknown_columns == ["Colour"]
    product = Product.objects.get()
    assert (product.sku, product.name, product.description) == ("R-1", "Lamp", "Warm")


@pytest.mark.django_db
def test_a_mapping_that_leaves_description_out_keeps_the_descriptions(import_bytes):
    Product.objects.create(sku="A-1", name="Lamp", description="Kept as it was")

    imported = import_bytes(
        "sku,name,description\nA-1,Lamp renamed,Would overwrite\nA-2,New,Would set\n",
        mapping={"description": None},
    )

    assert (imported.result.created, imported.result.updated) == (1, 1)
    assert imported.result.mapping["description"] is None
    assert imported.result.unknown_columns == ["description"]
    assert dict(Product.objects.values_list("sku", "description")) == {
        "A-1": "Kept as it was",
        "A-2": "",
    }
    assert Product.objects.get(sku="A-1").name == "Lamp renamed"


@pytest.mark.django_db
def test_a_mapping_naming_a_column_the_file_lacks_fails_before_writing(import_bytes):
    with pytest.raises(ImportFailed, match="takes sku from the column 'Code', which the header"):
        import_bytes("sku,name\na,A\n", mapping={"sku": "Code"})
    assert not Product.objects.exists()


def test_own_names_win_over_aliases_and_each_column_feeds_one_field():
    matched = match_columns(["Title", " NAME ", "item_number", "SKU", "Status", "Enabled"])

    assert matched.mapping(["Title", " NAME ", "item_number", "SKU", "Status", "Enabled"]) == {
        "sku": "SKU", "name": "NAME", "description": None, "active": "Status",
    }  # fmt: skip
    assert matched.unknown_columns(
        ["Title", " NAME ", "item_number", "SKU", "Status", "Enabled"]
    ) == ["Title", "item_number", "Enabled"]
    assert matched.problems == []


@pytest.mark.parametrize(
    "header, mapping",
    [
        (["Item Number", "Product Name", "Long Description", "enabled"],
         {"sku": "Item Number", "name": "Product Name", "description": "Long Description",
          "active": "enabled"}),
        (["article", "title", "details", "STATUS"],
         {"sku": "article", "name": "title", "description": "details", "active": "STATUS"}),
        (["product-code", "product  name"],
         {"sku": "product-code", "name": "product  name", "description": None, "active": None}),
    ],
)  # fmt: skip
def test_aliases_are_suggested(header, mapping):
    matched = match_columns(header)

    assert matched.mapping(header) == mapping
    assert matched.problems == []


@pytest.mark.parametrize(
    "value, message",
    [
        ({"price": "Price"}, "unknown field 'price'"),
        ({"sku": None}, "sku cannot be left out"),
        ({"name": ""}, "name cannot be left out"),
        ({"sku": "Code", "name": " code "}, "the column 'code' is mapped to both sku and name"),
        ({"sku": 3}, "the mapping of sku must be a column name or null"),
        ("[1]", "must be a JSON object"),
        ("{not json", "must be a JSON object"),
    ],
)
def test_a_mapping_that_cannot_be_used_is_refused_with_a_message(value, message):
    with pytest.raises(MappingError, match=message):
        parse_mapping(value)


def test_the_commands_pairs_make_a_mapping():
    assert parse_map_options(["sku=Product Code", "DESCRIPTION="]) == {
        "sku": "Product Code",
        "description": None,
    }
    with pytest.raises(MappingError, match="write FIELD=COLUMN"):
        parse_map_options(["sku"])
    with pytest.raises(MappingError, match="names the field sku twice"):
        parse_map_options(["sku=a", "sku=b"])
