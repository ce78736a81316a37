"""acme.settings only reads the environment: with DATABASE_URL and REDIS_URL unset, loading it
starts no server and writes nothing; whatever needs the servers refuses, naming both variables.
The embedded servers belong to acme.settings_local (make run, make test, manage.py)."""

import psutil
import pytest

from acme.lib import embedded
from tests.acme.helpers import run_python

LOAD_SETTINGS = (
    "import django; django.setup(); from django.conf import settings; "
    "print(settings.DATABASES['default'].get('ENGINE'), settings.REDIS_URL or '-')"
)


@pytest.fixture
def production(tmp_path):
    var_dir = tmp_path / "var"
    env = {
        "DJANGO_SETTINGS_MODULE": "acme.settings",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 60,
        "ACME_VAR_DIR": str(var_dir),
    }
    yield env, var_dir
    # Were a server started after all, stop it rather than leave it running.
    embedded.stop(var_dir)


def _assert_nothing_started(var_dir):
    assert not var_dir.exists()
    assert not embedded._redis_socket_path(var_dir).parent.exists()
    servers = [
        process.info["pid"]
        for process in psutil.process_iter(["pid", "cmdline"])
        if str(var_dir) in " ".join(process.info["cmdline"] or [])
    ]
    assert servers == []


def test_loading_the_production_settings_without_urls_starts_nothing(production):
    env, var_dir = production
    result = run_python(["-c", LOAD_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    _assert_nothing_started(var_dir)


def test_static_files_are_collected_without_any_server(production):
    env, var_dir = production
    result = run_python(["manage.py", "collectstatic", "--noinput", "--dry-run"], env)
    assert result.returncode == 0, result.stderr
    _assert_nothing_started(var_dir)


def test_commands_that_need_the_servers_refuse_naming_what_to_set(production):
    env, var_dir = production
    result = run_python(["manage.py", "migrate", "--check"], env)
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stderr
    assert "REDIS_URL is not set" in result.stderr
    _assert_nothing_started(var_dir)


def test_the_celery_worker_refuses_naming_what_to_set(production):
    env, var_dir = production
    result = run_python(["-m", "celery", "-A", "acme", "worker", "--pool=solo"], env, timeout=60)
    assert result.returncode != 0
    assert "DATABASE_URL is not set" in result.stdout + result.stderr
    _assert_nothing_started(var_dir)


def test_the_web_application_refuses_naming_what_to_set(production):
    env, var_dir = production
    for module in ("acme.asgi", "acme.wsgi"):
        result = run_python(["-c", f"import {module}"], env)
        assert result.returncode != 0, module
        assert "DATABASE_URL is not set" in result.stderr, module
    _assert_nothing_started(var_dir)
