import pytest
from django.contrib.auth.models import User

from products.models import Product

CHANGELIST = "/admin/products/product/"


@pytest.fixture
def admin_client_(client, staff_user):
    client.force_login(staff_user)
    return client


def test_admin_add_and_change_go_through_the_services(admin_client_, emitted):
    response = admin_client_.post(
        f"{CHANGELIST}add/",
        {"sku": " ADM-1 ", "name": "Admin Lamp", "description": "", "active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    product = Product.objects.get()
    assert product.sku == "ADM-1"

    response = admin_client_.post(
        f"{CHANGELIST}{product.pk}/change/",
        {"sku": "ADM-1", "name": "Admin Lamp 2", "description": "x", "active": "on"},
    )
    assert response.status_code == 302
    product.refresh_from_db()
    assert product.name == "Admin Lamp 2"
    assert [event for event, _ in emitted()] == ["product.created", "product.updated"]


def test_admin_refuses_a_duplicate_sku_in_other_case_with_a_field_error(
    admin_client_, make_product
):
    make_product("adm-dup")

    response = admin_client_.post(
        f"{CHANGELIST}add/", {"sku": "ADM-DUP", "name": "Twin", "description": ""}
    )

    assert response.status_code == 200
    assert "A product with this SKU already exists." in response.content.decode()
    assert Product.objects.count() == 1


def test_admin_search_filter_and_actions(admin_client_, catalogue, emitted):
    response = admin_client_.get(CHANGELIST, {"q": "lamp"})
    listed = response.context["cl"].result_list
    assert {p.sku for p in listed} == {"LAMP-001", "lamp-shade-2"}

    response = admin_client_.get(CHANGELIST, {"active__exact": "0"})
    assert {p.sku for p in response.context["cl"].result_list} == {"tbl-9", "MUG-1"}

    ids = [catalogue["table"].pk, catalogue["mug"].pk]
    admin_client_.post(CHANGELIST, {"action": "activate", "_selected_action": ids})
    assert Product.objects.filter(pk__in=ids, active=True).count() == 2
    assert [event for event, _ in emitted()].count("product.updated") == 2

    admin_client_.post(CHANGELIST, {"action": "deactivate", "_selected_action": ids[:1]})
    assert Product.objects.get(pk=ids[0]).active is False


def test_admin_delete_emits_product_deleted(admin_client_, make_product, emitted):
    product = make_product("ADM-DEL")

    response = admin_client_.post(f"{CHANGELIST}{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Product.objects.exists()
    assert emitted()[-1][0] == "product.deleted"


def test_admin_changelist_does_not_count_the_whole_table(admin_client_, catalogue):
    response = admin_client_.get(CHANGELIST, {"q": "lamp"})

    assert response.context["cl"].show_full_result_count is False
    assert response.context["cl"].full_result_count is None


def test_a_user_without_product_permissions_gets_403_in_admin(db, client, password):
    User.objects.create_user("clerk", password=password, is_staff=True)
    client.login(username="clerk", password=password)

    assert client.get(CHANGELIST).status_code == 403
