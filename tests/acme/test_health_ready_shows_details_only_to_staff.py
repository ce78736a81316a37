"""Anonymous readiness probes learn only whether the site is ready; the reasons (exception
text naming hosts, ports and libraries) are for staff."""

import pytest
from django.test import override_settings

from acme.lib.redis_client import get_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_unreachable():
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    get_redis.cache_clear()
    with override_settings(REDIS_CLIENT_URL="redis://127.0.0.1:1/0", REDIS_CLIENT_OPTIONS={}):
        get_redis.cache_clear()
        yield
    get_redis.cache_clear()


@pytest.mark.usefixtures("redis_unreachable")
def test_an_anonymous_probe_gets_the_status_only(client):
    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "fail"}
    text = response.content.decode()
    assert "Error" not in text and "127.0.0.1" not in text and "redis" not in text


@pytest.mark.usefixtures("redis_unreachable")
def test_a_signed_in_user_without_staff_status_gets_the_status_only(client, viewer_user):
    client.force_login(viewer_user)

    response = client.get("/health/ready")

    assert response.status_code == 503
    assert response.json() == {"status": "fail"}


@pytest.mark.usefixtures("redis_unreachable")
def test_staff_see_which_check_failed_and_why(client, staff_user):
    client.force_login(staff_user)

    response = client.get("/health/ready")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert "redis" in body["failed"]
    assert body["checks"]["redis"].startswith("error: ")
