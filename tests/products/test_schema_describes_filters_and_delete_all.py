import pytest
from rest_framework.test import APIClient


@pytest.fixture
def schema(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def test_list_documents_every_filter(schema):
    operation = schema["paths"]["/api/products/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}

    assert {
        "sku",
        "name",
        "description",
        "active",
        "search",
        "ordering",
        "page",
        "page_size",
    } <= names


def test_delete_all_documents_its_body_and_answers(schema):
    operation = schema["paths"]["/api/products/delete-all/"]["post"]

    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/DeleteAll")
    assert set(operation["responses"]) >= {"200", "400", "403"}
    assert not any(p["name"] == "search" for p in operation.get("parameters", []))


def test_product_schema_has_the_api_fields(schema):
    product = schema["components"]["schemas"]["Product"]

    assert set(product["properties"]) == {
        "id",
        "sku",
        "name",
        "description",
        "active",
        "created_at",
        "updated_at",
    }


def test_browsable_api_shows_the_filter_form(staff_client, catalogue):
    html = staff_client.get("/api/products/", headers={"accept": "text/html"}).content.decode()

    assert "Filters" in html
    assert 'name="search"' in html
    assert 'name="description"' in html
