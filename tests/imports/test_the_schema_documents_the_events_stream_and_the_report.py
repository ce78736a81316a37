"""The OpenAPI schema documents the events stream and the report: content types and the
401/403/404 answers."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def schema(staff_user):
    client = APIClient()
    client.force_authenticate(staff_user)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("path", "content_type"),
    [("/api/imports/{id}/events/", "text/event-stream"),
     ("/api/imports/{id}/report/", "text/csv")],
)  # fmt: skip
def test_the_operation_names_its_content_type_and_its_refusals(schema, path, content_type):
    operation = schema["paths"][path]["get"]

    assert set(operation["responses"]) >= {"200", "401", "403", "404"}
    assert list(operation["responses"]["200"]["content"]) == [content_type]
    assert operation["description"]
