from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportJob

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs(staff_user, tmp_path):
    path = tmp_path / "some-bad.csv"
    path.write_text("sku,name\nA-1,First\n,No sku\n=cmd,\n", encoding="utf-8")
    call_command("import_products", str(path), stdout=StringIO(), stderr=StringIO())
    now = timezone.now()
    failed = ImportJob.objects.create(
        original_name="broken.csv", size=10, status="failed", created_by=staff_user,
        error="missing required column: sku", started_at=now - timedelta(seconds=3),
        finished_at=now,
    )  # fmt: skip
    return ImportJob.objects.get(original_name="some-bad.csv"), failed


def test_the_history_shows_status_counts_durations_who_and_report_links(staff_client, jobs):
    with_report, failed = jobs

    page = staff_client.get(reverse("imports:list")).content.decode()

    assert '<span class="badge badge-completed">Completed</span>' in page
    assert '<span class="badge badge-failed">Failed</span>' in page
    assert "missing required column: sku" in page
    assert "3.0 s" in page  # the failed job's duration
    assert "staff" in page and "Command line" in page  # who (or where from)
    assert f'href="/imports/{with_report.pk}/report"' in page
    assert "2 rejected (CSV)" in page
    assert "2 imports" in page


def test_filters_live_in_the_query_string(staff_client, jobs):
    page = staff_client.get(reverse("imports:list"), {"status": "failed"}).content.decode()

    assert "broken.csv" in page and "some-bad.csv" not in page
    assert "1 import<" in page


def test_the_history_pages(staff_client, jobs):
    ImportJob.objects.bulk_create(ImportJob(original_name=f"f{i}.csv", size=1) for i in range(30))

    first = staff_client.get(reverse("imports:list")).content.decode()
    second = staff_client.get(reverse("imports:list"), {"page": 2}).content.decode()

    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert "32 imports" in first


def test_the_empty_history_says_what_to_do(staff_client):
    page = staff_client.get(reverse("imports:list")).content.decode()

    assert "No imports yet" in page and 'href="/imports/new/"' in page


def test_the_error_report_downloads_as_csv_with_formulas_escaped(staff_client, jobs):
    with_report, _ = jobs

    response = staff_client.get(reverse("imports:report", args=[with_report.pk]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    lines = body.splitlines()
    assert lines[0].startswith("record,line,reason")
    assert len(lines) == 3
    assert lines[1].startswith("2,3,") and "sku" in lines[1]
    assert lines[2].startswith("3,4,") and "'=cmd" in lines[2]  # not a formula in a sheet
    assert staff_client.get(reverse("imports:report", args=[jobs[1].pk])).status_code == 404


def test_the_job_page_shows_the_outcome_and_counts(staff_client, jobs):
    with_report, failed = jobs

    done = staff_client.get(reverse("imports:detail", args=[with_report.pk])).content.decode()
    broken = staff_client.get(reverse("imports:detail", args=[failed.pk])).content.decode()

    assert "Import complete: 1 created, 0 updated, 0 unchanged, 2 rejected" in done
    assert "Download error report" in done
    assert "Import failed: missing required column: sku" in broken
    assert ">Retry</button>" in broken


def test_the_admin_lists_jobs_read_only(admin_client, jobs):
    listing = admin_client.get("/admin/imports/importjob/")
    change = admin_client.get(f"/admin/imports/importjob/{jobs[0].pk}/change/")

    assert listing.status_code == 200 and "some-bad.csv" in listing.content.decode()
    assert "Add import job" not in listing.content.decode()
    assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
