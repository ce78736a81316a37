"""In chromium: the job page's Changes section switches between created, updated and
rejected, shows each update's changed fields old -> new, finds a product by SKU and pages
through the rows, with the filters kept in the address."""

import os

import pytest

from products.models import Product
from tests.imports.jobs import run_here

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")

CSV = (
    "sku,name,description,active\n"
    "LAMP-1,Desk lamp,Warm white light,false\n"
    ",Nameless,no sku,true\n"
    + "".join(f"NEW-{n:02},New product {n},Fresh,true\n" for n in range(30))
)


def _shot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, f"{name}.png"), full_page=True)


def test_the_changes_section_by_tab_search_and_page(logged_in_page):
    Product.objects.create(sku="lamp-1", name="Lamp", description="Warm white light")
    job = run_here(CSV)
    page = logged_in_page

    page.goto(f"/imports/{job.pk}/?changes=updated")
    changes = page.locator("#changes")
    row = changes.locator("tbody tr")
    assert row.count() == 1
    assert row.locator("dt").all_inner_texts() == ["sku", "name", "active"]
    assert row.locator("del").all_inner_texts() == ["lamp-1", "Lamp", "true"]
    assert row.locator("ins").all_inner_texts() == ["LAMP-1", "Desk lamp", "false"]
    _shot(page, "changes-updated")

    changes.get_by_role("link", name="Created 30").click()
    page.wait_for_url("**changes=created**")
    assert changes.locator("tbody tr").count() == 25
    assert "30 rows" in changes.locator(".pager").inner_text()
    _shot(page, "changes-created")
    changes.get_by_role("link", name="Next ›").click()
    page.wait_for_url("**page=2**")
    assert changes.locator("tbody tr").count() == 5

    changes.get_by_role("searchbox", name="SKU").fill("new-07")
    changes.get_by_role("button", name="Search").click()
    page.wait_for_url("**sku=new-07**")
    assert changes.locator("tbody tr td.mono").all_inner_texts() == ["NEW-07"]

    changes.get_by_role("link", name="Rejected 1").click()
    page.wait_for_url("**changes=rejected**")
    assert "sku=new-07" in page.url  # the search is kept across tabs
    assert "No rejected row has the SKU" in changes.inner_text()
    changes.get_by_role("link", name="Clear").click()
    assert "sku is empty" in changes.locator("tbody").inner_text()
    _shot(page, "changes-rejected")
