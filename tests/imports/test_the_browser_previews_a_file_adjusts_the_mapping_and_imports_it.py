"""On the upload page, choosing a CSV shows its preview before anything is queued: how it is
read (detected), its header and first records, and the column each field takes; the user
changes the mapping there and the import runs with it."""

import pytest
from playwright.sync_api import expect

from imports.models import ImportJob
from products.models import Product

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 12
SUPPLIER = "Ref;Title;Details;Enabled\n" + "".join(
    f"R-{n};Lampe n°{n};Lumière {n};{'yes' if n % 2 else 'no'}\n" for n in range(1, ROWS + 1)
)


def test_choose_a_file_see_its_preview_change_the_mapping_and_import(
    celery_worker, logged_in_page, tmp_path
):
    Product.objects.create(sku="R-1", name="Old name", description="Kept description")
    path = tmp_path / "supplier.csv"
    path.write_bytes(SUPPLIER.encode("cp1252"))
    page = logged_in_page
    page.goto("/imports/new/")

    page.get_by_label("CSV file or Excel workbook").set_input_files(path)

    preview = page.locator("#import-preview")
    expect(preview).to_be_visible()
    expect(preview.locator('[data-role="preview-status"]')).to_contain_text(
        "Read as cp1252 (Windows-1252) (detected), semicolon-separated (detected)."
    )
    expect(preview.locator("tbody tr")).to_have_count(10)
    expect(preview.locator("tbody tr").first).to_contain_text("Lampe n°1")
    # "Ref" is no known name for sku: the preview says so before anything is queued.
    expect(preview.locator('[data-role="preview-problems"]')).to_contain_text(
        "missing required column: sku"
    )
    expect(page.get_by_label("name (required)")).to_have_value("Title")
    expect(page.get_by_label("active")).to_have_value("Enabled")
    assert not ImportJob.objects.exists()
    page.screenshot(path=str(tmp_path / "preview-problem.png"), full_page=True)

    page.get_by_label("sku (required)").select_option("Ref")
    expect(preview.locator('[data-role="preview-problems"]')).to_be_hidden()
    page.get_by_label("description").select_option(label="— not imported —")
    expect(preview.locator("thead th", has_text="Details")).to_contain_text("ignored")
    expect(preview.locator("thead th", has_text="Ref")).to_contain_text("→ sku")
    expect(preview.locator("tbody tr").first).to_contain_text("ok")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)

    page.get_by_role("button", name="Upload and import").click()

    expect(page.locator('[data-role="result"]')).to_have_text(
        f"Import complete: {ROWS - 1} created, 1 updated, 0 unchanged, 0 rejected",
        timeout=60_000,
    )
    job = ImportJob.objects.get()
    assert (job.encoding, job.delimiter) == ("cp1252", ";")
    assert job.mapping == {"sku": "Ref", "name": "Title", "description": None, "active": "Enabled"}
    assert job.unknown_columns == ["Details"]
    kept = Product.objects.get(sku="R-1")
    assert (kept.name, kept.description, kept.active) == ("Lampe n°1", "Kept description", True)
    assert Product.objects.get(sku="R-2").active is False
    assert Product.objects.get(sku="R-2").description == ""
