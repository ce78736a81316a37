"""A saved source remembers how a supplier's files are read and mapped: a cp1252 file with
`;` and a header in another language imports with no option but the source's name, from the
page, the API and the command; what an import sets itself wins; a file with the source's
header is suggested the source."""

from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports import sources
from imports.models import ImportJob, ImportSource
from products.models import Product
from tests.support.waiting import wait_until

# "Artikelnummer;Bezeichnung;Langtext;Status": none of these is a catalogue field or alias.
FEED = (
    "Artikelnummer;Bezeichnung;Langtext;Lager\r\n"
    "A-1;Kaffeemühle;Mahlt fein; 3\r\n"
    "A-2;Teekanne „Süd“;Steingut, 1 l;0\r\n"
).encode("cp1252")
HEADER = ["Artikelnummer", "Bezeichnung", "Langtext", "Lager"]


@pytest.fixture
def supplier(db) -> ImportSource:
    return sources.source_create(
        name="Supplier A weekly feed",
        values={
            "encoding": "cp1252",
            "delimiter": ";",
            "mapping": {"sku": "Artikelnummer", "name": "Bezeichnung",
                        "description": "Langtext", "active": None},
            "header": HEADER,
        },
    )  # fmt: skip


def _imported() -> dict[str, tuple[str, str]]:
    return {p.sku: (p.name, p.description) for p in Product.objects.all()}


EXPECTED = {"A-1": ("Kaffeemühle", "Mahlt fein"), "A-2": ("Teekanne „Süd“", "Steingut, 1 l")}


@pytest.mark.django_db
def test_the_command_imports_the_feed_with_only_the_source_named(supplier, tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(FEED)

    call_command("import_products", str(path), "--source", "supplier a WEEKLY feed",
                 stdout=StringIO(), stderr=StringIO())  # fmt: skip

    job = ImportJob.objects.get()
    assert (job.status, job.saved_source, job.encoding, job.delimiter) == (
        "completed", supplier, "cp1252", ";",
    )  # fmt: skip
    assert job.unknown_columns == ["Lager"]
    assert _imported() == EXPECTED
    with pytest.raises(CommandError, match="no saved source is named 'Supplier B'"):
        call_command("import_products", str(path), "--source", "Supplier B",
                     stdout=StringIO(), stderr=StringIO())  # fmt: skip


@pytest.mark.django_db
def test_without_the_source_the_same_file_is_refused(tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(FEED)

    with pytest.raises(CommandError, match="sku"):
        call_command("import_products", str(path), stdout=StringIO(), stderr=StringIO())

    assert not Product.objects.exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_api_imports_the_feed_with_only_the_source_named(celery_worker, supplier, staff_user):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")
    upload = SimpleUploadedFile("feed.csv", FEED, "text/csv")

    response = api.post("/api/imports/", {"file": upload, "source": supplier.name},
                        format="multipart")  # fmt: skip

    assert response.status_code == 201, response.content
    job_id = response.json()["id"]

    def finished():
        data = api.get(f"/api/imports/{job_id}/").json()
        return data if data["status"] in ("completed", "failed", "cancelled") else None

    data = wait_until(finished, timeout=90, what="the import to finish")
    assert data["status"] == "completed", data["error"]
    assert data["saved_source"] == "Supplier A weekly feed"
    assert _imported() == EXPECTED
    unknown = api.post("/api/imports/", {"file": SimpleUploadedFile("f.csv", FEED, "text/csv"),
                       "source": "Nobody"}, format="multipart")  # fmt: skip
    assert unknown.status_code == 400
    assert "no saved source is named 'Nobody'" in unknown.json()["source"][0]


@pytest.mark.django_db
def test_the_page_records_the_source_and_its_settings_on_the_job(supplier, staff_client):
    upload = SimpleUploadedFile("feed.csv", FEED, "text/csv")

    response = staff_client.post(reverse("imports:new"), {"file": upload, "source": supplier.pk})

    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.saved_source, job.encoding, job.delimiter, job.mapping["sku"]) == (
        supplier, "cp1252", ";", "Artikelnummer",
    )  # fmt: skip


@pytest.mark.django_db
def test_what_the_import_sets_itself_wins_over_the_source(supplier):
    options = sources.options_with_source(
        supplier,
        {"encoding": "utf-8", "delimiter": "auto", "mapping": {"description": None},
         "strict": False, "sync": "deactivate"},
    )  # fmt: skip

    assert options["encoding"] == "utf-8"
    assert options["delimiter"] == ";"
    assert options["mapping"] == {"sku": "Artikelnummer", "name": "Bezeichnung",
                                  "description": None, "active": None}  # fmt: skip
    assert options["sync"] == "deactivate"


@pytest.mark.django_db
def test_a_file_with_the_sources_header_is_suggested_it(supplier):
    other = sources.source_create(name="Other", values={"header": ["SKU", "Title"]})

    assert sources.suggest_for_header([" lager", "LANGTEXT", "Bezeichnung", "Artikelnummer"]) == (
        supplier
    )
    assert sources.suggest_for_header(["sku", "title"]) == other
    assert sources.suggest_for_header(["sku", "name"]) is None
