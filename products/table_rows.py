"""The product list's table rows, rendered in Python.

The list page is the catalogue's busiest page. Rendered by Django's template engine, its 25-200
rows cost ~30 variable lookups, two date filters and a csrf_token tag each: most of the
page's CPU time (profiled at 500k products: ~6-9 ms of ~14 ms per page of 25 on a busy
2-core machine, and 16 clients at once are CPU-bound). Here a row is one format string with
every value escaped as the template engine would (django.utils.html.escape); the page around
the rows stays a template (templates/products/list.html), which inserts them as one string.
What a row holds: tests/products/test_list_rows_hold_each_products_fields_and_actions.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import localtime

from products.models import Product

SUMMARY_LENGTH = 160

_ROW = (
    '<tr data-product-id="{pk}">'
    "<td>{name}</td>"
    '<td class="mono">{sku}</td>'
    '<td class="clip">{summary}</td>'
    '<td class="nowrap"><time datetime="{updated_iso}">{updated}</time></td>'
    "<td>"
    '<form method="post" action="{active_url}" class="toggle-active">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">'
    '<input type="hidden" name="next" value="{here}">'
    '<input type="hidden" name="active" value="{next_active}">'
    '<span class="badge {badge}">{status}</span>'
    "{toggle}"
    "</form>"
    "</td>"
    '<td class="row-actions nowrap">{edit}{delete}</td>'
    "</tr>\n"
)
_TOGGLE = (
    '<button type="submit" class="btn btn-link btn-small" aria-label="{verb} {sku}">{verb}</button>'
)
_EDIT = (
    '<a class="btn btn-small" href="{edit_url}?next={here_encoded}" '
    'aria-label="Edit {sku}">Edit</a>'
)
_DELETE = (
    '<a class="btn btn-small btn-danger-outline" href="{delete_url}?next={here_encoded}" '
    'data-dialog="delete-dialog" data-delete-url="{delete_url}" '
    'data-delete-label="{name} ({sku})" aria-label="Delete {sku}">Delete</a>'
)


@dataclass(frozen=True)
class RowContext:
    """What every row shares: the list's own URL (for `next`), the CSRF token, permissions."""

    here: str
    here_encoded: str
    csrf_token: str
    can_change: bool
    can_delete: bool


def _url_pattern(name: str) -> str:
    return reverse(f"products:{name}", args=[0])


def render_rows(products: Iterable[Product], context: RowContext) -> SafeString:
    """The <tr> of each product, escaped, as one string for the list template."""
    patterns = {name: _url_pattern(name) for name in ("edit", "delete", "set-active")}
    here = escape(context.here)
    here_encoded = escape(context.here_encoded)
    csrf_token = escape(context.csrf_token)
    rows = []
    for product in products:
        pk = str(product.pk)
        urls = {name: pattern.replace("/0/", f"/{pk}/", 1) for name, pattern in patterns.items()}
        name, sku = escape(product.name), escape(product.sku)
        updated = localtime(product.updated_at)
        verb = "Deactivate" if product.active else "Activate"
        rows.append(
            _ROW.format(
                pk=pk,
                name=name,
                sku=sku,
                summary=escape(product.description[:SUMMARY_LENGTH]),
                updated_iso=updated.isoformat(),
                updated=updated.strftime("%Y-%m-%d %H:%M"),
                active_url=urls["set-active"],
                csrf_token=csrf_token,
                here=here,
                next_active="false" if product.active else "true",
                badge="badge-active" if product.active else "badge-inactive",
                status="Active" if product.active else "Inactive",
                toggle=_TOGGLE.format(verb=verb, sku=sku) if context.can_change else "",
                edit=(
                    _EDIT.format(edit_url=urls["edit"], here_encoded=here_encoded, sku=sku)
                    if context.can_change
                    else ""
                ),
                delete=(
                    _DELETE.format(
                        delete_url=urls["delete"], here_encoded=here_encoded, name=name, sku=sku
                    )
                    if context.can_delete
                    else ""
                ),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value above is escaped
