"""compose.yaml (Docker cannot run on the test machine: the file is read as YAML): every
long-running service restarts unless stopped and has a healthcheck; the one-shot migrate does
neither; PostgreSQL is the major version the README recommends, mounted where its image
keeps data."""

import re
from pathlib import Path

import yaml

BASE_DIR = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((BASE_DIR / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
ONE_SHOT = {"migrate"}


def test_every_long_running_service_restarts_unless_stopped():
    for name, service in SERVICES.items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
        else:
            assert service.get("restart") == "unless-stopped", name


def test_every_long_running_service_has_a_healthcheck():
    missing = [
        name
        for name, service in SERVICES.items()
        if name not in ONE_SHOT and not service.get("healthcheck", {}).get("test")
    ]
    assert missing == []


def test_each_worker_is_checked_by_pinging_itself_and_beat_by_its_schedule_file():
    workers = {name: s for name, s in SERVICES.items() if name.startswith("worker")}
    assert workers
    for name, service in workers.items():
        hostname = next(arg for arg in service["command"] if arg.startswith("--hostname="))
        node = hostname.removeprefix("--hostname=").replace("%h", "$$HOSTNAME")
        check = " ".join(service["healthcheck"]["test"])
        assert "inspect ping" in check and node in check, name
    beat = SERVICES["beat"]
    schedule = next(arg for arg in beat["command"] if arg.startswith("--schedule="))
    assert schedule.removeprefix("--schedule=") in " ".join(beat["healthcheck"]["test"])


def test_postgres_is_the_major_version_the_readme_recommends():
    readme = (BASE_DIR / "README.md").read_text()
    recommended = re.search(r"PostgreSQL (\d+) is recommended", readme)
    assert recommended, "the README names the recommended PostgreSQL version"
    image = SERVICES["postgres"]["image"]
    assert image.split(":")[1].split(".")[0].split("-")[0] == recommended.group(1)
    # From 18 on, the image keeps data in /var/lib/postgresql/<major>/docker.
    assert any(v.endswith(":/var/lib/postgresql") for v in SERVICES["postgres"]["volumes"])
