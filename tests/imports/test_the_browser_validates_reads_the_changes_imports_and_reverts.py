"""In chromium, the whole round: validate a file, read what it would change, import it from
the validation ("Import this file"), then take it back ("Revert import…", its dialog): the
catalogue is as it was before."""

import os

import pytest
from playwright.sync_api import expect

from imports.models import ImportJob
from products.models import Product
from tests.imports.reverts import catalogue

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")
CSV = "sku,name\nA-1,Apple v2\nC-1,Cherry\n"


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_validate_read_the_changes_import_and_revert(celery_worker, logged_in_page, tmp_path):
    Product.objects.create(sku="A-1", name="Apple", description="red")
    Product.objects.create(sku="B-1", name="Banana", description="yellow")
    before = catalogue()
    path = tmp_path / "spring.csv"
    path.write_text(CSV, encoding="utf-8")
    page = logged_in_page

    # Validate only.
    page.goto("/imports/new/")
    page.get_by_label("CSV file").set_input_files(path)
    page.get_by_label("Validate only").check()
    page.get_by_role("button", name="Upload and import").click()
    expect(page.locator('[data-role="result"]')).to_contain_text(
        "Validation complete: would create 1, update 1", timeout=90_000
    )
    validation = ImportJob.objects.get(validate_only=True)
    assert catalogue() == before

    # Read its changes: the update, old -> new.
    page.goto(f"/imports/{validation.pk}/?changes=updated")
    changes = page.locator("#changes")
    expect(changes.locator("del")).to_have_text(["Apple"])
    expect(changes.locator("ins")).to_have_text(["Apple v2"])
    _shot(page, "round-1-validation-changes")

    # Import this file: the same stored file, as a new job.
    page.get_by_role("button", name="Import this file").click()
    page.wait_for_url(lambda url: f"/imports/{validation.pk}/" not in url)
    expect(page.locator('[data-role="result"]')).to_contain_text(
        "Import complete: 1 created, 1 updated", timeout=90_000
    )
    imported = ImportJob.objects.get(validate_only=False, kind=ImportJob.Kind.IMPORT)
    assert imported.commit_of_id == validation.pk
    assert Product.objects.get(sku="A-1").name == "Apple v2"

    # Revert it, through its dialog.
    revert_button = page.get_by_role("button", name="Revert import…")
    expect(revert_button).to_be_visible(timeout=30_000)  # the page reloads once it finished
    revert_button.click()
    dialog = page.locator("#revert-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Restores the 1 product this import updated")
    _shot(page, "round-2-revert-dialog")
    dialog.get_by_role("button", name="Revert import", exact=True).click()
    expect(page.locator('[data-role="result"]')).to_contain_text(
        "Revert complete: 1 restored, 1 deleted, 0 changed since the import", timeout=90_000
    )
    expect(page.locator("h1")).to_contain_text("Revert #")
    # A revert reads no file: its own phases, and no "Read" count of bytes.
    panel = page.locator("#import-progress")
    expect(panel.locator(".steps li")).to_have_text(["Queued", "Planning", "Reverting", "Complete"])
    expect(panel.locator('[data-field="bytes"]')).to_have_count(0)
    _shot(page, "round-3-reverted")

    revert = ImportJob.objects.get(kind=ImportJob.Kind.REVERT)
    assert (revert.reverts_id, revert.status) == (imported.pk, "completed")
    now = catalogue()
    assert set(now) == set(before)
    for sku, row in before.items():
        assert now[sku][:5] == row[:5], sku
