import ssl

import pytest

from tests.acme.helpers import probe_settings

BASE = {"DEBUG": "true", "REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_database_url_with_sslmode_require_reaches_psycopg_options():
    settings = probe_settings(
        {
            **BASE,
            "DATABASE_URL": "postgres://user:secret@ep-cool.neon.tech:5432/acme?sslmode=require",
        }
    )
    database = settings["database"]
    assert database["HOST"] == "ep-cool.neon.tech"
    assert database["NAME"] == "acme"
    assert database["OPTIONS"]["sslmode"] == "require"
    assert settings["conn_max_age"] == 60


def test_database_url_with_percent_encoded_socket_directory():
    settings = probe_settings(
        {**BASE, "DATABASE_URL": "postgres://postgres@%2Frun%2Fpostgresql/acme"}
    )
    assert settings["database"]["HOST"] == "/run/postgresql"


def test_redis_url_feeds_cache_client_and_broker():
    settings = probe_settings(
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://u@db/acme",
            "REDIS_URL": "redis://cache:6379/2",
        }
    )
    assert settings["redis_client_url"] == "redis://cache:6379/2"
    assert settings["cache_location"] == "redis://cache:6379/2"
    assert settings["broker_url"] == "redis://cache:6379/2"
    assert settings["broker_use_ssl"] == {}
    assert settings["redis_client_options"] == {}


def test_rediss_url_verifies_certificates_by_default():
    settings = probe_settings(
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://u@db/acme",
            "REDIS_URL": "rediss://default:token@eu1-x.upstash.io:6379",
        }
    )
    assert settings["broker_url"].startswith("rediss://")
    assert settings["broker_use_ssl"] == {"ssl_cert_reqs": int(ssl.CERT_REQUIRED)}
    assert settings["redis_client_options"] == {"ssl_cert_reqs": int(ssl.CERT_REQUIRED)}


@pytest.mark.parametrize(
    ("choice", "mode"), [("none", ssl.CERT_NONE), ("optional", ssl.CERT_OPTIONAL)]
)
def test_rediss_certificate_check_can_be_relaxed_explicitly(choice, mode):
    settings = probe_settings(
        {
            "DEBUG": "true",
            "DATABASE_URL": "postgres://u@db/acme",
            "REDIS_URL": "rediss://default:token@eu1-x.upstash.io:6379",
            "REDIS_SSL_CERT_REQS": choice,
        }
    )
    assert settings["broker_use_ssl"] == {"ssl_cert_reqs": int(mode)}


def test_embedded_redis_socket_is_a_unix_url_for_clients_and_redis_socket_for_celery():
    from acme.lib import redis_urls

    url = redis_urls.from_socket("/srv/acme/var/redis/redis.sock")
    assert redis_urls.client_url(url) == "unix:///srv/acme/var/redis/redis.sock"
    assert redis_urls.broker_url(url) == "redis+socket:///srv/acme/var/redis/redis.sock"
