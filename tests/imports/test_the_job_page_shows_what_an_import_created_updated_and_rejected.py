"""The job page's Changes section: tabs for created / updated / rejected with their counts,
a page of rows at a time, each update showing only the fields that change (old -> new,
marked as deleted and inserted text), a SKU search within the import, and the "Download
changes" link for the tab; it needs the imports view permission, as the page does."""

import re

import pytest
from django.contrib.auth.models import Permission, User

from products.models import Product
from tests.imports.jobs import run_here

pytestmark = pytest.mark.django_db

CSV = (
    "sku,name,description\n"
    "A-1,Lamp renamed,Warm\n"  # only the name changes
    "A-2,Chair,Oak\n"  # new
    ",No sku,Rejected\n"  # rejected: empty sku
    + "".join(f"N-{n},New {n},\n" for n in range(30))  # 30 more new ones
)


@pytest.fixture
def job():
    Product.objects.create(sku="A-1", name="Lamp", description="Warm")
    return run_here(CSV)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_updated_rows_show_only_the_fields_that_change_old_and_new(staff_client, job):
    html = staff_client.get(f"/imports/{job.pk}/", {"changes": "updated"}).content.decode()

    assert 'aria-current="page">Updated' in html
    row = html[html.index("<tbody>", html.index('id="changes"')) :]
    row = row[: row.index("</tbody>")]
    assert _text(row) == "A-1 name Lamp → Lamp renamed"
    assert '<del class="diff-before" aria-label="before">Lamp</del>' in row
    assert '<ins class="diff-after" aria-label="after">Lamp renamed</ins>' in row


def test_the_tabs_show_the_counts_and_the_created_rows_a_page_at_a_time(staff_client, job):
    html = staff_client.get(f"/imports/{job.pk}/", {"changes": "created"}).content.decode()
    text = _text(html)

    assert "Created 31 Updated 1 Rejected 1" in text
    assert "31 rows" in text and "Page 1 of 2" in text
    assert html.count('class="mono"') == 25

    second = staff_client.get(f"/imports/{job.pk}/", {"changes": "created", "page": 2})
    assert second.content.decode().count('class="mono"') == 6


def test_the_rejected_tab_lists_the_rejected_rows_from_the_report(staff_client, job):
    text = _text(staff_client.get(f"/imports/{job.pk}/", {"changes": "rejected"}).content.decode())

    assert "Record Line SKU Reason 3 4 — sku is empty" in text


def test_the_sku_search_finds_a_change_in_any_letter_case(staff_client, job):
    html = staff_client.get(f"/imports/{job.pk}/", {"changes": "created", "sku": "n-7"})
    text = _text(html.content.decode())

    assert "SKU Name Description Active N-7 New 7 (empty) true" in text
    assert "N-8" not in text
    assert "1 row" in text


def test_download_changes_links_the_tab_and_search(staff_client, job):
    html = staff_client.get(f"/imports/{job.pk}/", {"changes": "updated", "sku": "a-1"})

    assert f'href="/imports/{job.pk}/changes.csv?changes=updated&amp;sku=a-1"' in (
        html.content.decode()
    )


def test_the_changes_need_the_imports_view_permission(client, job):
    user = User.objects.create_user("products-only")
    user.user_permissions.set(Permission.objects.filter(codename="view_product"))
    client.force_login(user)

    assert client.get(f"/imports/{job.pk}/", {"changes": "updated"}).status_code == 403
    assert client.get(f"/imports/{job.pk}/changes.csv").status_code == 403
