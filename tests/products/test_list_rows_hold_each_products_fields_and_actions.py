"""Each row of the product list holds the product's name, SKU, description summary, update
time, status with its toggle form, and the Edit/Delete links the user may use, every value
escaped. The rows are rendered in Python (products/table_rows.py) for speed; this pins the
markup the template rendered before, element by element (whitespace aside)."""

from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils.timezone import localtime

from products.models import Product


class Elements(HTMLParser):
    """The <tbody> of the products table as (tag, attributes) and text items."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple] = []
        self.inside = False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self.inside = True
        elif self.inside:
            self.items.append(("<", tag, tuple(sorted(attrs))))

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.inside = False
        elif self.inside:
            self.items.append((">", tag))

    def handle_data(self, data):
        if self.inside and data.strip():
            self.items.append(("text", " ".join(data.split())))


def elements(html: str) -> list[tuple]:
    parser = Elements()
    parser.feed(html)
    return parser.items


def expected_row(product: Product, *, here: str, csrf: str, change: bool, delete: bool) -> str:
    """The row as templates/products/list.html rendered it (before table_rows.py)."""
    here_encoded = quote(here, safe="")
    here = here.replace("&", "&amp;")
    updated = localtime(product.updated_at)
    verb = "Deactivate" if product.active else "Activate"
    esc = {
        "name": product.name.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"),
        "sku": product.sku.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;"),
        "summary": product.description[:160].replace("&", "&amp;").replace("<", "&lt;"),
    }
    pk = product.pk
    toggle = (
        f'<button type="submit" class="btn btn-link btn-small" aria-label="{verb} {esc["sku"]}">'
        f"{verb}</button>"
        if change
        else ""
    )
    edit = (
        f'<a class="btn btn-small" href="/products/{pk}/edit/?next={here_encoded}" '
        f'aria-label="Edit {esc["sku"]}">Edit</a>'
        if change
        else ""
    )
    remove = (
        f'<a class="btn btn-small btn-danger-outline" href="/products/{pk}/delete/?next='
        f'{here_encoded}" data-dialog="delete-dialog" data-delete-url="/products/{pk}/delete/" '
        f'data-delete-label="{esc["name"]} ({esc["sku"]})" aria-label="Delete {esc["sku"]}">'
        "Delete</a>"
        if delete
        else ""
    )
    return (
        f'<tbody><tr data-product-id="{pk}"><td>{esc["name"]}</td>'
        f'<td class="mono">{esc["sku"]}</td><td class="clip">{esc["summary"]}</td>'
        f'<td class="nowrap"><time datetime="{updated.isoformat()}">'
        f"{updated:%Y-%m-%d %H:%M}</time></td>"
        f'<td><form method="post" action="/products/{pk}/active/" class="toggle-active">'
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        f'<input type="hidden" name="next" value="{here}">'
        f'<input type="hidden" name="active" value="{"false" if product.active else "true"}">'
        f'<span class="badge {"badge-active" if product.active else "badge-inactive"}">'
        f"{'Active' if product.active else 'Inactive'}</span>{toggle}</form></td>"
        f'<td class="row-actions nowrap">{edit}{remove}</td></tr></tbody>'
    )


def csrf_of(html: str) -> str:
    """The CSRF token of the rows' forms (a valid masked token; the browser test posts it)."""
    marker = 'name="csrfmiddlewaretoken" value="'
    start = html.index(marker, html.index("<tbody>")) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture
def products(db):
    return [
        Product.objects.create(
            sku='R&D-<1>"', name='Lamp <b>"bright"</b> & co', description="x" * 200 + "<i>"
        ),
        Product.objects.create(sku="OFF-2", name="Old Table", description="Oak.", active=False),
    ]


@pytest.mark.parametrize(
    ("codenames", "change", "delete"),
    [
        (["view_product", "change_product", "delete_product"], True, True),
        (["view_product", "change_product"], True, False),
        (["view_product"], False, False),
    ],
)
def test_each_row_holds_the_products_fields_and_the_users_actions(
    products, django_user_model, codenames, change, delete
):
    user = django_user_model.objects.create_user("reader", password="x")
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    params = {"ordering": "sku", "search": "a"}
    response = client.get("/products/", {**params, "page_size": 25})
    html = response.content.decode()
    here = "/products/?ordering=sku&search=a&page_size=25"

    rows = elements(html)

    expected = []
    for product in sorted(products, key=lambda product: product.sku.lower()):
        expected += elements(
            expected_row(product, here=here, csrf=csrf_of(html), change=change, delete=delete)
        )
    assert rows == expected
