"""compose.yaml's web healthcheck, run against a real server whose ALLOWED_HOSTS names only
the site's public host (as production sets it): the probe must still get its 200."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
WEB = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())["services"]["web"]


def healthcheck_command(base_url: str) -> list[str]:
    test = WEB["healthcheck"]["test"]
    assert test[0] == "CMD"
    command = [part.replace("http://127.0.0.1:8000", base_url) for part in test[1:]]
    return [sys.executable if part == "python" else part for part in command]


def test_the_healthcheck_succeeds_with_allowed_hosts_set_to_the_public_name(live_server,
                                                                            settings):  # fmt: skip
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    env = {**os.environ, "ALLOWED_HOSTS": "shop.example.com"}
    probe = subprocess.run(healthcheck_command(live_server.url), env=env, cwd=BASE_DIR,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert probe.returncode == 0, probe.stderr


def test_the_healthcheck_fails_when_the_site_does_not_answer(live_server, settings):
    settings.ALLOWED_HOSTS = ["shop.example.com"]
    env = {**os.environ, "ALLOWED_HOSTS": "other.example.com"}
    probe = subprocess.run(healthcheck_command(live_server.url), env=env, cwd=BASE_DIR,
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert probe.returncode != 0
