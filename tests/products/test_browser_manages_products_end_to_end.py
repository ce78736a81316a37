"""In chromium: log in, create, filter, edit, toggle active, delete, delete all."""

import re

import pytest
from playwright.sync_api import expect

from products.models import Product


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_browser_manages_products_end_to_end(logged_in_page, browser_problems, make_product):
    page = logged_in_page
    make_product("KEEP-1", "Keeper Chair", "stays until delete all")

    # Create
    page.goto("/products/")
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("BRW-1")
    page.get_by_label("Name").fill("Browser Lamp")
    page.get_by_label("Description").fill("Made in chromium")
    page.get_by_role("button", name="Create product").click()
    expect(page.locator(".toast")).to_contain_text("Product BRW-1 created.")

    # A duplicate in another case gets an inline field error (the form answers 400)
    browser_problems.expect_status(400, "/products/new/")
    page.get_by_role("link", name="New product").click()
    page.get_by_label("SKU").fill("brw-1")
    page.get_by_label("Name").fill("Twin")
    page.get_by_role("button", name="Create product").click()
    expect(page.locator(".errorlist")).to_contain_text("A product with this SKU already exists.")
    page.get_by_role("link", name="Cancel").click()

    # Filter
    page.get_by_label("Search").fill("lamp")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"search=lamp"))
    rows = page.locator("table.products-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Browser Lamp")
    expect(page.locator("#products-total")).to_contain_text("1 product match")

    # Edit, and come back to the filtered list
    page.get_by_role("link", name="Edit BRW-1").click()
    page.get_by_label("Name").fill("Browser Lamp XL")
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"search=lamp"))
    expect(rows.first).to_contain_text("Browser Lamp XL")

    # Toggle active inline (fetch, no reload)
    rows.first.get_by_role("button", name="Deactivate BRW-1").click()
    expect(rows.first.locator(".badge")).to_have_text("Inactive")
    expect(page.locator(".toast").last).to_contain_text("BRW-1 is now inactive.")
    assert Product.objects.get(sku="BRW-1").active is False

    # Delete one, through the confirmation dialog
    rows.first.get_by_role("link", name="Delete BRW-1").click()
    dialog = page.locator("#delete-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Browser Lamp XL (BRW-1)")
    dialog.get_by_role("button", name="Delete product").click()
    expect(page.locator(".toast").last).to_contain_text("Product BRW-1 deleted.")
    assert not Product.objects.filter(sku="BRW-1").exists()

    # Delete all: the confirm button stays disabled until DELETE is typed
    page.goto("/products/")
    page.get_by_role("button", name="Delete all…").click()
    dialog = page.locator("#delete-all-dialog")
    expect(dialog).to_contain_text("You can restore them, with their ids, from the import history")
    confirm = dialog.get_by_role("button", name="Delete all products")
    expect(confirm).to_be_disabled()
    dialog.get_by_label("Type DELETE to confirm").fill("DELETE")
    expect(confirm).to_be_enabled()
    confirm.click()
    expect(page.locator(".toast").last).to_contain_text("Deleted 1 product.")
    expect(page.locator(".empty")).to_contain_text("No products yet", timeout=10_000)
    assert Product.objects.count() == 0
