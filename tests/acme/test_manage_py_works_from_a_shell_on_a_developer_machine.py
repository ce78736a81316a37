"""`manage.py` from a plain shell (no DEBUG exported, as `make` does) works with the embedded
servers, and stays production-strict when both servers are given."""

import pytest

from tests.acme.helpers import run_python

PRINT_DEBUG = [
    "manage.py", "shell", "-c", "from django.conf import settings; print(settings.DEBUG)"
]  # fmt: skip
# Only Redis is left to the embedded server: starting it is quick, and it is enough to make
# this a developer's machine.
DATABASE = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/unused"}


@pytest.fixture
def var_dir(tmp_path):
    path = tmp_path / "var"
    path.mkdir()
    yield path
    run_python(["manage.py", "embedded", "stop"], {**DATABASE, "ACME_VAR_DIR": str(path)})


def test_with_an_embedded_server_manage_py_defaults_to_debug(var_dir):
    result = run_python(PRINT_DEBUG, {**DATABASE, "ACME_VAR_DIR": str(var_dir)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"


def test_with_both_servers_given_manage_py_still_requires_a_secret_key(tmp_path):
    env = {**DATABASE, "REDIS_URL": "redis://127.0.0.1:6379/0", "ACME_VAR_DIR": str(tmp_path)}
    result = run_python(PRINT_DEBUG, env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
