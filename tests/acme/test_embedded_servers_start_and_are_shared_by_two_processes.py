import json

import pytest

from tests.acme.helpers import run_python


@pytest.fixture
def var_dir(tmp_path):
    path = tmp_path / "var"
    path.mkdir()
    yield path
    run_python(["manage.py", "embedded", "stop"], {"DEBUG": "true", "ACME_VAR_DIR": str(path)})


def test_embedded_postgres_and_redis_start_on_first_use_and_are_shared(var_dir):
    env = {"DEBUG": "true", "ACME_VAR_DIR": str(var_dir)}

    first = run_python(["tests/acme/embedded_probe.py", "write", "hello-from-first"], env)
    assert first.returncode == 0, first.stderr
    second = run_python(["tests/acme/embedded_probe.py", "read"], env)
    assert second.returncode == 0, second.stderr

    written = json.loads(first.stdout.strip().splitlines()[-1])
    read = json.loads(second.stdout.strip().splitlines()[-1])
    assert read["seen"] == {"postgres": "hello-from-first", "redis": "hello-from-first"}
    # The second process attached to the server the first one started.
    assert read["postmaster_started"] == written["postmaster_started"]
    assert read["host"] == written["host"]
    assert written["redis"].startswith("unix://")
    # Exported, so that the processes started from this one (gunicorn, workers) find them.
    assert written["exported"][1] == written["redis"]
    assert written["exported"][0].startswith("postgres://postgres@")
    assert written["server_version_num"] >= 180000
    assert written["pg_trgm_available"]
    assert (var_dir / "postgres" / "PG_VERSION").exists()
