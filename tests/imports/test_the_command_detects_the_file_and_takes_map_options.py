"""The command detects the encoding and delimiter unless told, takes `--map FIELD=COLUMN`
(repeatable; an empty column leaves the field out) and prints how it read the file."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from products.models import Product


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_products", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_a_supplier_file_imports_with_map_options_and_detected_settings(tmp_path):
    Product.objects.create(sku="P-1", name="Old", description="Kept")
    path = tmp_path / "supplier.csv"
    path.write_bytes(
        "Ref;Désignation;Details;Stock\nP-1;Lampe;Écrasé;12\nP-2;Chaise;Chêne;3\n".encode("cp1252")
    )

    out = run(str(path), "--map", "sku=ref", "--map", "name=Désignation", "--map", "description=")

    job = ImportJob.objects.get()
    assert (job.status, job.encoding, job.delimiter) == ("completed", "cp1252", ";")
    assert job.mapping == {"sku": "Ref", "name": "Désignation", "description": None,
                           "active": None}  # fmt: skip
    assert job.unknown_columns == ["Details", "Stock"]
    assert dict(Product.objects.values_list("sku", "name")) == {"P-1": "Lampe", "P-2": "Chaise"}
    assert Product.objects.get(sku="P-1").description == "Kept"
    assert re.search(r"^  read as +cp1252 \(Windows-1252\), semicolon-separated$", out, re.M)
    assert "sku ← Ref, name ← Désignation, description left out, active left out" in out
    assert "ignored columns: Details, Stock" in out


@pytest.mark.django_db
def test_map_options_that_cannot_be_used_stop_before_anything_runs(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("sku,name\na,A\n", encoding="utf-8")

    with pytest.raises(CommandError, match="sku cannot be left out"):
        run(str(path), "--map", "sku=")
    with pytest.raises(CommandError, match="write FIELD=COLUMN"):
        run(str(path), "--map", "sku")
    assert not ImportJob.objects.exists()
