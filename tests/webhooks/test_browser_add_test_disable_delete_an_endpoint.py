import re

import pytest
from playwright.sync_api import expect

from webhooks.models import WebhookEndpoint

pytestmark = [
    pytest.mark.browser,
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True),
]


def test_browser_add_test_disable_delete_an_endpoint(
    celery_worker, receiver, allow_private, logged_in_page
):
    page = logged_in_page
    page.goto("/webhooks/")
    expect(page.get_by_text("No endpoints yet")).to_be_visible()

    page.get_by_role("link", name="Add endpoint").click()
    page.get_by_label("URL").fill(receiver.url())
    page.get_by_label("Description").fill("ERP sync")
    page.get_by_label("product.created").check()
    page.get_by_label("product.updated").check()
    page.get_by_role("button", name="Add endpoint").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(receiver.url())
    endpoint = WebhookEndpoint.objects.get()
    expect(page.locator("#secret")).to_have_value(endpoint.secret)

    page.get_by_role("button", name="Send test").click()
    result = page.locator("#test-result")
    expect(result).to_contain_text("HTTP 200", timeout=20_000)
    expect(result).to_contain_text(re.compile(r"\d+ ms"))
    assert len(receiver.requests) == 1

    page.get_by_role("button", name="Disable").click()
    expect(page.locator(".alert").filter(has_text="Disabled.")).to_be_visible()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    page.goto("/webhooks/")
    expect(page.get_by_role("switch", name=f"Enabled: {receiver.url()}")).to_have_attribute(
        "aria-checked", "false"
    )

    page.get_by_role("link", name=receiver.url()).click()
    page.get_by_role("link", name="Delete").click()
    dialog = page.get_by_role("dialog", name="Delete endpoint?")
    expect(dialog).to_contain_text("1 delivery")
    dialog.get_by_role("button", name="Delete endpoint").click()

    expect(page).to_have_url(re.compile(r"/webhooks/$"))
    expect(page.get_by_text("No endpoints yet")).to_be_visible()
    assert not WebhookEndpoint.objects.exists()
