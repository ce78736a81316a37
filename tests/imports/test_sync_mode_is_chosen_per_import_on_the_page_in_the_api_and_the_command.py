"""Sync mode is opt-in per import: `sync` on the page and in the API, `--sync` in the command;
the job records it, its counts say what the sync did (or would do, validate only), and its
outcome sentence says so."""

import re
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob
from products.models import Product
from tests.support.waiting import wait_until

FILE = b"sku,name\nkeep-1,Kept\n"


def _catalogue() -> None:
    Product.objects.create(sku="keep-1", name="Kept")
    Product.objects.create(sku="gone-1", name="Gone one")
    Product.objects.create(sku="gone-2", name="Gone two")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_api_validates_then_runs_a_sync_and_reports_its_counts(celery_worker, staff_user):
    _catalogue()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff_user).key}")

    def run(**options) -> dict:
        upload = SimpleUploadedFile("feed.csv", FILE, "text/csv")
        response = api.post("/api/imports/", {"file": upload, **options}, format="multipart")
        assert response.status_code == 201, response.content
        job_id = response.json()["id"]

        def finished():
            data = api.get(f"/api/imports/{job_id}/").json()
            return data if data["status"] in ("completed", "failed", "cancelled") else None

        return wait_until(finished, timeout=90, what="the import to finish")

    checked = run(sync="delete", validate_only="true")
    assert checked["status"] == "completed", checked["error"]
    assert (checked["sync"], checked["counts"]["deleted"], checked["deleted"]) == ("delete", 2, 2)
    assert Product.objects.count() == 3

    done = run(sync="deactivate")
    assert done["status"] == "completed", done["error"]
    assert (done["counts"]["deactivated"], done["counts"]["deleted"]) == (2, 0)
    assert dict(Product.objects.values_list("sku", "active")) == {
        "keep-1": True, "gone-1": False, "gone-2": False,
    }  # fmt: skip
    assert ImportJob.objects.get(pk=done["id"]).outcome_text == (
        "Import complete: 0 created, 0 updated, 1 unchanged, 0 rejected, "
        "2 deactivated (not in the file)"
    )


@pytest.mark.django_db
def test_the_command_dry_run_shows_what_a_sync_would_delete(tmp_path):
    _catalogue()
    path = tmp_path / "feed.csv"
    path.write_bytes(FILE)
    out = StringIO()

    call_command("import_products", str(path), "--sync", "delete", "--dry-run", stdout=out,
                 stderr=StringIO())  # fmt: skip

    assert re.search(r"^  would be deleted +2$", out.getvalue(), re.MULTILINE)
    assert "would create 0, update 0, 1 unchanged, 0 rejected, would delete 2." in out.getvalue()
    assert Product.objects.count() == 3
    assert ImportJob.objects.get().sync == "delete"


@pytest.mark.django_db
def test_the_page_records_the_sync_chosen_and_offers_it_off_by_default(staff_client):
    page = staff_client.get(reverse("imports:new")).content.decode()
    upload = SimpleUploadedFile("feed.csv", FILE, "text/csv")

    response = staff_client.post(reverse("imports:new"), {"file": upload, "encoding": "utf-8",
                                 "delimiter": ",", "sync": "deactivate"})  # fmt: skip

    assert '<option value="" selected>Off: products not in the file are left as they are' in page
    assert "run Validate only first to see how many products a sync would deactivate" in page
    assert response.status_code == 302
    assert ImportJob.objects.get().sync == "deactivate"
