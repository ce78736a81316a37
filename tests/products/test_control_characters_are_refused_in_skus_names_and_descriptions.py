"""SKUs and names refuse every control character (U+0000 to U+001F, U+007F); descriptions keep
tab and line breaks and refuse the others. The same rule (products.text_rules) holds on the
pages, in the admin, in the API and in the services (an import rejects such a record: see
tests/imports/pipeline/test_records_with_control_characters_are_rejected_naming_their_lines)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from products import services
from products.models import Product

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    return client


@pytest.mark.parametrize(
    "fields, at_fault",
    [
        ({"sku": "AB\x01C", "name": "Lamp"}, "sku"),
        ({"sku": "ABC", "name": "Desk\tLamp"}, "name"),
        ({"sku": "ABC", "name": "Desk\nLamp"}, "name"),
        ({"sku": "ABC", "name": "Desk\x7fLamp"}, "name"),
        ({"sku": "ABC", "name": "Lamp", "description": "bell\x07"}, "description"),
    ],
)
def test_the_api_and_the_pages_refuse_control_characters(api, staff_client, fields, at_fault):
    response = api.post("/api/products/", fields, format="json")
    assert response.status_code == 400
    assert "control character" in " ".join(response.json()[at_fault])

    page = staff_client.post(reverse("products:new"), {"active": "on", **fields})
    assert page.status_code == 400  # the form again, with the message
    assert "control character" in " ".join(page.context["form"].errors[at_fault])

    with pytest.raises(services.ProductError, match="control character") as refused:
        services.product_create(**fields)
    assert refused.value.field == at_fault
    assert not Product.objects.exists()


def test_the_admin_refuses_a_control_character_in_a_name(client, staff_user):
    client.force_login(staff_user)
    response = client.post(
        "/admin/products/product/add/",
        {"sku": "ADM-1", "name": "Bad\x1bname", "description": "", "active": "on"},
    )
    assert response.status_code == 200
    assert "control character" in str(response.context["adminform"].form.errors["name"])
    assert not Product.objects.exists()


def test_a_description_keeps_tabs_and_line_breaks(api):
    description = "Line one\r\nLine two\n\tindented"
    response = api.post(
        "/api/products/", {"sku": "ML-1", "name": "Lamp", "description": description}, "json"
    )
    assert response.status_code == 201, response.json()
    assert Product.objects.get().description == description
