"""The schema-driven test signs in with every permission; here every operation is called
without credentials (401) and by a user without permissions (403): each answers with a
`detail`, and the schema documents both answers."""

from __future__ import annotations

import pytest
import uritemplate
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

SPEC = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [
    (method.upper(), path)
    for path, methods in SPEC["paths"].items()
    for method in methods
    if method in ("get", "post", "put", "patch", "delete")
]


def url(path: str) -> str:
    return uritemplate.expand(path, {name: "1" for name in uritemplate.variables(path)})


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_callers_without_credentials_or_permission_get_the_documented_refusal(
    method, path, viewer_user
):
    documented = SPEC["paths"][path][method.lower()]["responses"]
    signed_in = APIClient()
    # A real token (not force_authenticate): the upload gate middleware checks it too.
    signed_in.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=viewer_user)}")
    for client, status in ((APIClient(), 401), (signed_in, 403)):
        response = client.generic(method, url(path), headers={"accept": "application/json"})

        assert response.status_code == status, response.content
        assert str(status) in documented
        assert isinstance(response.json()["detail"], str)
