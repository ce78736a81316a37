"""Every database connection carries TCP keepalives and timeouts, on the client (libpq) and
asked of the server (its tcp_keepalives_* and tcp_user_timeout for this session), so a dead
worker host's connection, and the catalogue locks its transaction holds, are dropped within
about a minute rather than after the operating system's two hours. Each is an env var."""

import pytest
from django.db import connection

from tests.acme.helpers import probe_settings

BASE = {"DEBUG": "true", "REDIS_URL": "redis://127.0.0.1:6379/0"}
TCP_URL = "postgres://user:secret@db.example:5432/acme?sslmode=require"


@pytest.mark.django_db
def test_the_live_connection_has_the_keepalives_and_the_server_got_its_share():
    connection.ensure_connection()
    parameters = connection.connection.info.get_parameters()
    assert {name: parameters.get(name) for name in (
        "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count",
        "tcp_user_timeout", "connect_timeout",
    )} == {
        "keepalives": "1", "keepalives_idle": "30", "keepalives_interval": "10",
        "keepalives_count": "3", "tcp_user_timeout": "60000", "connect_timeout": "10",
    }  # fmt: skip
    with connection.cursor() as cursor:
        # Over a unix socket the server shows its TCP settings as 0, but it took them.
        cursor.execute(
            "SELECT name, source FROM pg_settings WHERE name IN ('tcp_keepalives_idle', "
            "'tcp_keepalives_interval', 'tcp_keepalives_count', 'tcp_user_timeout', "
            "'client_connection_check_interval') ORDER BY name"
        )
        assert {name: source for name, source in cursor.fetchall()} == {
            "client_connection_check_interval": "client",
            "tcp_keepalives_count": "client",
            "tcp_keepalives_idle": "client",
            "tcp_keepalives_interval": "client",
            "tcp_user_timeout": "client",
        }
        cursor.execute("SHOW client_connection_check_interval")
        assert cursor.fetchone()[0] == "10s"


def test_the_keepalives_follow_the_environment_and_keep_the_urls_options():
    options = probe_settings(
        {
            **BASE,
            "DATABASE_URL": TCP_URL,
            "DATABASE_KEEPALIVES_IDLE": "15",
            "DATABASE_KEEPALIVES_INTERVAL": "5",
            "DATABASE_KEEPALIVES_COUNT": "4",
            "DATABASE_TCP_USER_TIMEOUT_SECONDS": "35",
            "DATABASE_CONNECT_TIMEOUT": "7",
        }
    )["database"]["OPTIONS"]

    assert options["sslmode"] == "require"
    assert (options["keepalives"], options["keepalives_idle"], options["keepalives_interval"]) == (
        1, 15, 5,
    )  # fmt: skip
    assert (options["keepalives_count"], options["tcp_user_timeout"]) == (4, 35000)
    assert options["connect_timeout"] == 7
    assert options["options"] == (
        "-c tcp_keepalives_idle=15 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=4 "
        "-c tcp_user_timeout=35000 -c client_connection_check_interval=5000"
    )


def test_a_pooler_that_refuses_startup_options_can_be_spared_them():
    options = probe_settings(
        {**BASE, "DATABASE_URL": TCP_URL, "DATABASE_SERVER_KEEPALIVES": "false"}
    )["database"]["OPTIONS"]

    assert "options" not in options
    assert options["keepalives_idle"] == 30  # the client's own keepalives stay
