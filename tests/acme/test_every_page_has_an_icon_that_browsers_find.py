"""The site ships an icon: pages link it, and /favicon.ico (which browsers ask for on pages
without a link, like the admin's) leads to it, signed in or not."""

import pytest
from django.contrib.staticfiles import finders


def test_favicon_ico_leads_to_the_icon_without_signing_in(client):
    response = client.get("/favicon.ico", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith("favicon.svg")
    assert response["Content-Type"].startswith("image/svg+xml")
    assert finders.find("favicon.svg")


def test_pages_link_the_icon(client):
    response = client.get("/accounts/login/")
    assert b'<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in response.content


@pytest.mark.browser
def test_pages_in_chromium_load_with_no_console_error_or_failed_request(
    logged_in_page, browser_problems
):
    page = logged_in_page
    for path in ("/products/", "/imports/", "/webhooks/", "/admin/", "/api/"):
        page.goto(path, wait_until="networkidle")
    page.goto("/api/docs/")
    page.locator(".opblock").first.wait_for()  # Swagger UI fetched and rendered the schema
    # Playwright does not see chromium's own icon requests: ask for both icons as it would.
    icon = page.goto("/favicon.ico")
    assert icon.ok
    assert icon.headers["content-type"].startswith("image/svg+xml")
    page.goto("/products/")
    linked = page.evaluate(
        "fetch(document.querySelector('link[rel=icon]').href).then((response) => response.status)"
    )
    assert linked == 200
    assert browser_problems.lines == []
