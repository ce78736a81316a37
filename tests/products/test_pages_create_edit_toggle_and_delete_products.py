from django.urls import reverse

from products.models import Product


def test_create_page_creates_a_product_and_returns_to_the_list(staff_client):
    response = staff_client.post(
        reverse("products:new"),
        {"sku": " NEW-1 ", "name": "New Lamp", "description": "Bright", "active": "on"},
    )

    assert response.status_code == 302
    assert response.url == reverse("products:list")
    product = Product.objects.get()
    assert (product.sku, product.name, product.description, product.active) == (
        "NEW-1",
        "New Lamp",
        "Bright",
        True,
    )


def test_create_page_shows_field_errors_inline(staff_client, make_product):
    make_product("dup-1")

    response = staff_client.post(reverse("products:new"), {"sku": "DUP-1", "name": ""})

    assert response.status_code == 400
    html = response.content.decode()
    assert "A product with this SKU already exists." in html
    assert "This field is required." in html
    assert Product.objects.count() == 1


def test_edit_page_saves_changes_and_keeps_the_list_filters(staff_client, make_product):
    product = make_product("ED-1", "Before")
    back = "/products/?search=ed&page=1"

    form = staff_client.get(reverse("products:edit", args=[product.pk]), {"next": back})
    assert 'value="Before"' in form.content.decode()
    response = staff_client.post(
        reverse("products:edit", args=[product.pk]) + "?next=/products/%3Fsearch%3Ded",
        {"sku": "ED-1", "name": "After", "description": "", "next": back},
    )

    assert response.status_code == 302
    assert response.url == back
    product.refresh_from_db()
    assert product.name == "After"
    assert product.active is False  # unchecked box


def test_toggle_active_works_as_a_form_post_and_as_json(staff_client, make_product):
    product = make_product("TG-1")
    url = reverse("products:set-active", args=[product.pk])

    response = staff_client.post(url, {"active": "false", "next": "/products/?active=true"})
    assert response.status_code == 302
    assert response.url == "/products/?active=true"
    product.refresh_from_db()
    assert product.active is False

    response = staff_client.post(url, {"active": "true"}, headers={"accept": "application/json"})
    assert response.json()["active"] is True
    product.refresh_from_db()
    assert product.active is True


def test_delete_asks_for_confirmation_then_deletes(staff_client, make_product):
    product = make_product("DEL-1", "Doomed")
    url = reverse("products:delete", args=[product.pk])

    confirm = staff_client.get(url)
    assert "Delete this product?" in confirm.content.decode()
    assert Product.objects.filter(pk=product.pk).exists()

    response = staff_client.post(url)
    assert response.status_code == 302
    assert not Product.objects.filter(pk=product.pk).exists()


def test_an_offsite_next_is_ignored(staff_client, make_product):
    product = make_product("NX-1")

    response = staff_client.post(
        reverse("products:set-active", args=[product.pk]),
        {"active": "false", "next": "https://evil.example/"},
    )

    assert response.url == reverse("products:list")
