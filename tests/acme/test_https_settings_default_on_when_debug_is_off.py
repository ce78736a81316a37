"""With DEBUG off and only SECRET_KEY and ALLOWED_HOSTS set, the HTTPS settings are on
(`check --deploy` is clean); each one can be turned off for a plain-HTTP deploy; the health
probes are never redirected to HTTPS."""

import json
import secrets

import pytest
from django.conf import settings

from tests.acme.helpers import run_python
from tests.support.worker import database_url_for_subprocess

pytestmark = pytest.mark.django_db

HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
]
# Loads the settings in a fresh process and asks the site two plain-HTTP questions.
PROBE = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")
import django
django.setup()
from django.conf import settings
from django.test import Client
client = Client()
print(json.dumps({
    "settings": {name: getattr(settings, name) for name in NAMES},
    "health": client.get("/health").status_code,
    "home": [client.get("/products/").status_code, client.get("/products/").get("Location")],
}))
""".replace("NAMES", repr(HTTPS_SETTINGS))


def _minimal_production_env(**extra: str) -> dict[str, str]:
    """Only what a production deploy must set, plus where the servers are."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "catalogue.example.com,testserver",
        "DATABASE_URL": database_url_for_subprocess(),
        "REDIS_URL": settings.REDIS_URL,
        **extra,
    }


def _probe(env: dict[str, str]) -> dict:
    result = run_python(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_reports_no_issues_with_only_secret_key_and_allowed_hosts():
    result = run_python(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _minimal_production_env()
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_https_is_on_by_default_and_health_is_exempt_from_the_redirect():
    probe = _probe(_minimal_production_env())

    assert probe["settings"]["SECURE_SSL_REDIRECT"] is True
    assert probe["settings"]["SESSION_COOKIE_SECURE"] is True
    assert probe["settings"]["CSRF_COOKIE_SECURE"] is True
    assert probe["settings"]["SECURE_HSTS_SECONDS"] >= 31536000
    assert probe["home"] == [301, "https://testserver/products/"]
    assert probe["health"] == 200


def test_each_https_setting_can_be_turned_off_for_a_plain_http_deploy():
    off = {"SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false",
           "CSRF_COOKIE_SECURE": "false", "SECURE_HSTS_SECONDS": "0"}  # fmt: skip
    probe = _probe(_minimal_production_env(**off))

    assert probe["settings"] == {name: False if name != "SECURE_HSTS_SECONDS" else 0
                                 for name in HTTPS_SETTINGS}  # fmt: skip
    assert probe["home"] == [302, "/accounts/login/?next=/products/"]


def test_the_example_env_file_turns_them_off_for_composes_plain_http():
    example = (settings.BASE_DIR / ".env.example").read_text()
    for line in ("SECURE_SSL_REDIRECT=false", "SESSION_COOKIE_SECURE=false",
                 "CSRF_COOKIE_SECURE=false", "SECURE_HSTS_SECONDS=0"):  # fmt: skip
        assert f"\n{line}\n" in example
