from pathlib import Path

import pytest
from playwright.sync_api import expect

from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import wait_for_job, write_csv
from tests.support.browser import BrowserProblems

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

STEPS = ["Uploading", "Queued", "Parsing", "Validating", "Loading", "Merging", "Complete"]
ROWS = 20_000

# Records every step that becomes the current one, in order, however briefly.
RECORD_STEPS = """
window.__steps = [];
document.addEventListener("DOMContentLoaded", () => {
  const record = () => {
    const current = document.querySelector(".steps li.current");
    const text = current && current.textContent.trim();
    if (text && window.__steps[window.__steps.length - 1] !== text) window.__steps.push(text);
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, attributes: true, attributeFilter: ["class"],
  });
});
"""


def test_the_browser_uploads_a_file_watches_the_phases_and_downloads_the_report(
    celery_worker, logged_in_page, tmp_path
):
    page = logged_in_page
    path = write_csv(tmp_path / "catalogue.csv", ROWS, bad_rows=1)
    page.add_init_script(RECORD_STEPS)
    page.goto("/imports/new/")

    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_label("Encoding").select_option("utf-8")
    page.get_by_label("Delimiter").select_option(",")
    page.get_by_role("button", name="Upload and import").click()

    result = page.locator('[data-role="result"]')
    expect(result).to_have_text(
        f"Import complete: {ROWS:,} created, 0 updated, 0 unchanged, 1 rejected", timeout=90_000
    )
    seen = page.evaluate("window.__steps")
    assert seen[0] == "Uploading" and seen[1] == "Queued" and seen[-1] == "Complete", seen
    assert seen == sorted(seen, key=STEPS.index), f"phases out of order: {seen}"
    expect(page.locator(".steps li.done")).to_have_count(len(STEPS))
    assert page.locator("progress").get_attribute("value") in ("100", "100.0")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download error report").click()
    report = download_info.value
    text = Path(report.path()).read_text(encoding="utf-8").splitlines()
    assert report.suggested_filename.endswith(".csv")
    assert text[0].startswith("record,line,reason")
    assert len(text) == 2 and text[1].startswith(f"{ROWS + 1},{ROWS + 2},") and "sku" in text[1]

    job = ImportJob.objects.get()
    assert (job.status, job.created, job.rows_rejected) == ("completed", ROWS, 1)
    assert Product.objects.count() == ROWS


def test_a_failed_import_shows_the_reason_and_retry(celery_worker, logged_in_page, tmp_path):
    page = logged_in_page
    path = tmp_path / "no-sku.csv"
    path.write_text("name,description\nWidget,A widget\n", encoding="utf-8")
    page.goto("/imports/new/")

    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_role("button", name="Upload and import").click()

    error = page.locator('[data-role="error"]')
    expect(error).to_contain_text("Import failed: ", timeout=60_000)
    expect(error).to_contain_text("sku")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    expect(page.locator('[data-role="bar"]')).to_be_hidden()


def test_without_javascript_the_form_posts_and_redirects_to_the_job(
    celery_worker, browser, live_server, staff_user, password, tmp_path
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    problems = BrowserProblems(context)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(staff_user.username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.goto("/imports/new/")
        page.get_by_label("CSV file").set_input_files(write_csv(tmp_path / "few.csv", 10))
        page.get_by_role("button", name="Upload and import").click()

        page.wait_for_url("**/imports/*/")
        job = ImportJob.objects.get()
        assert page.url.endswith(f"/imports/{job.pk}/")
        expect(page.get_by_text("uploaded; the import is queued")).to_be_visible()
        assert wait_for_job(job.pk).status == "completed"
    finally:
        context.close()
    assert problems.lines == []
