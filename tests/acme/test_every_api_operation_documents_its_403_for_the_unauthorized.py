"""The schema-driven test signs in with every permission; here every operation is called
anonymously and by a user without permissions: each answers 403 with a `detail`, and the
schema documents that answer."""

from __future__ import annotations

import pytest
import uritemplate
from drf_spectacular.generators import SchemaGenerator
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
def test_anonymous_and_unpermitted_callers_get_the_documented_403(method, path, viewer_user, db):
    assert "403" in SPEC["paths"][path][method.lower()]["responses"]
    signed_in = APIClient()
    signed_in.force_authenticate(viewer_user)
    for client in (APIClient(), signed_in):
        response = client.generic(method, url(path))

        assert response.status_code == 403, response.content
        assert isinstance(response.json()["detail"], str)
