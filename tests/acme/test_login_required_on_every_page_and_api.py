"""Every URL the project serves needs a login, except health checks, the login page and the
site icon."""

import pytest

from tests.acme.urlconf import concrete, walk

PUBLIC = {"health", "health/ready", "accounts/login/", "admin/login/", "favicon.ico"}
# Answer 401/403 like the API instead of redirecting to the login page.
MACHINE_READABLE = {"/metrics"}


def _concrete_paths():
    paths = set()
    for route in walk():
        path = concrete(route)
        if path in PUBLIC or path.startswith("admin/"):
            continue
        paths.add("/" + path)
    return sorted(paths)


PATHS = _concrete_paths()


def test_the_walk_finds_the_pages_and_the_api():
    assert "/api/" in PATHS
    assert "/products/" in PATHS


@pytest.mark.parametrize("path", PATHS)
def test_anonymous_request_is_refused(db, client, path):
    response = client.get(path)
    if path.startswith("/api/") or path in MACHINE_READABLE:
        assert response.status_code in (401, 403), (path, response.status_code)
    else:
        assert response.status_code == 302, (path, response.status_code)
        assert response["Location"].startswith("/accounts/login/")


def test_admin_requires_login(db, client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_api_accepts_a_drf_token(db, client, staff_user):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=staff_user)
    response = client.get("/api/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200


def test_login_page_logs_a_user_in(db, client, staff_user, password):
    response = client.post(
        "/accounts/login/", {"username": staff_user.username, "password": password}
    )
    assert response.status_code == 302
    assert client.get("/api/").status_code == 200
