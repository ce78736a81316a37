import pytest
from django.test import override_settings

from acme.lib.redis_client import get_redis


@pytest.fixture
def fresh_redis_client():
    get_redis.cache_clear()
    yield
    get_redis.cache_clear()


def test_ready_is_200_when_postgres_redis_and_a_worker_answer(
    db, client, celery_worker, staff_user
):
    client.force_login(staff_user)  # details are for staff (anonymous callers get the status)
    response = client.get("/health/ready")
    assert response.status_code == 200, response.content
    assert response.json()["checks"] == {"postgres": "ok", "redis": "ok", "worker": "ok"}


@pytest.mark.usefixtures("fresh_redis_client")
def test_ready_is_503_naming_redis_when_redis_is_unreachable(db, client, staff_user):
    client.force_login(staff_user)
    # Port 1 on loopback: nothing listens there, so the connection is refused at once.
    with override_settings(REDIS_CLIENT_URL="redis://127.0.0.1:1/0", REDIS_CLIENT_OPTIONS={}):
        get_redis.cache_clear()
        response = client.get("/health/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert "redis" in body["failed"]
    assert body["checks"]["postgres"] == "ok"
    assert body["checks"]["redis"].startswith("error:")


def test_ready_does_not_need_login(db, client):
    response = client.get("/health/ready")
    assert response.status_code in (200, 503)
    assert "login" not in response.get("Location", "")
