import pytest
from rest_framework.test import APIClient

from products.models import Product


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.mark.parametrize("body", [{}, {"confirm": False}, {"confirm": "no"}])
def test_api_refuses_without_confirm_true(api, catalogue, body):
    response = api.post("/api/products/delete-all/", body, format="json")

    assert response.status_code == 400
    assert "confirm" in response.json()
    assert Product.objects.count() == 5


def test_api_deletes_everything_with_confirm_true(api, catalogue, emitted):
    response = api.post("/api/products/delete-all/", {"confirm": True}, format="json")

    assert response.status_code == 200
    assert response.json() == {"deleted": 5}
    assert not Product.objects.exists()
    assert emitted()[-1] == ("products.deleted_all", {"count": 5})


def test_page_refuses_a_wrong_confirmation_text(staff_client, catalogue):
    response = staff_client.post(
        "/products/delete-all/", {"confirm": "delete"}, headers={"accept": "application/json"}
    )

    assert response.status_code == 400
    assert "Type DELETE" in response.json()["message"]
    assert Product.objects.count() == 5


def test_page_deletes_everything_when_delete_is_typed(staff_client, catalogue):
    response = staff_client.post("/products/delete-all/", {"confirm": "DELETE"}, follow=True)

    assert not Product.objects.exists()
    assert "Deleted 5 products." in response.content.decode()


def test_page_accepts_the_count_typed_instead_of_delete(staff_client, catalogue):
    response = staff_client.post(
        "/products/delete-all/",
        {"confirm": "5", "count": "5"},
        headers={"accept": "application/json"},
    )

    assert response.json() == {
        "ok": True,
        "message": "Deleted 5 products. Restore them from the import history "
        "(Delete all → Restore deleted products).",
        "deleted": 5,
    }
