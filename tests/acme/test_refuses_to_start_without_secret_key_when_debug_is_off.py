from tests.acme.helpers import run_python

SERVICES = {"DATABASE_URL": "postgres://u@db/acme", "REDIS_URL": "redis://127.0.0.1:6379/0"}


def test_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_python(["manage.py", "check"], {**SERVICES, "DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_starts_with_a_secret_key_when_debug_is_off():
    result = run_python(
        ["tests/acme/settings_probe.py"],
        {**SERVICES, "DEBUG": "false", "SECRET_KEY": "x" * 60},
    )
    assert result.returncode == 0, result.stderr
