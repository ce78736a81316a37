"""`make test` finds chromium, or installs it with apt when it can, before lint and pytest;
otherwise it stops at once with the one command to run."""

import os
import subprocess
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
SCRIPT = BASE_DIR / "scripts" / "ensure-chromium"


def _run(command: list[str], **env: str) -> subprocess.CompletedProcess:
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    return subprocess.run(
        command, cwd=BASE_DIR, env={**base, **env}, capture_output=True, text=True, timeout=60
    )


def test_a_present_browser_is_used_as_it_is(tmp_path):
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    # APT_GET names a program that fails loudly: it must not be called.
    result = _run([str(SCRIPT)], CHROMIUM_PATH=str(browser), APT_GET="/bin/false")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_browser_without_apt_stops_with_the_command_to_run(tmp_path):
    missing = tmp_path / "no-chromium"
    result = _run([str(SCRIPT)], CHROMIUM_PATH=str(missing), APT_GET="")
    assert result.returncode != 0
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert str(missing) in message
    assert "apt-get install -y chromium" in message


@pytest.mark.skipif(os.geteuid() != 0, reason="apt is only used as root")
def test_a_missing_browser_is_installed_with_apt_as_root(tmp_path):
    """APT_GET stands in for apt-get here: it records its arguments and 'installs' the file."""
    browser = tmp_path / "chromium"
    calls = tmp_path / "calls"
    apt = tmp_path / "apt-get"
    apt.write_text(
        f'#!/bin/sh\necho "$DEBIAN_FRONTEND $*" >> {calls}\n'
        f'case "$*" in *install*) printf "#!/bin/sh\\n" > {browser}; chmod +x {browser};; esac\n'
    )
    apt.chmod(0o755)
    result = _run([str(SCRIPT)], CHROMIUM_PATH=str(browser), APT_GET=str(apt))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = calls.read_text().splitlines()
    assert lines[0].startswith("noninteractive update")
    assert lines[1].startswith("noninteractive install -y")
    assert lines[1].split()[-1] == "chromium"


def test_make_test_checks_the_browser_before_installing_or_linting(tmp_path):
    # PYTHON=false: were anything else run first (the venv, ruff, pytest), it would fail
    # with a different message.
    result = _run(
        ["make", "--no-print-directory", "test", "PYTHON=false", f"VENV={tmp_path / 'venv'}"],
        CHROMIUM_PATH=str(tmp_path / "no-chromium"),
        APT_GET="",
    )
    assert result.returncode != 0
    assert "apt-get install -y chromium" in result.stderr
    assert "ruff" not in result.stdout + result.stderr
    assert not (tmp_path / "venv").exists()


def test_ci_only_calls_make_test():
    commands = [
        line.strip()
        for line in (BASE_DIR / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert not any("apt-get" in line or "chromium" in line for line in commands)
