"""Reproducible installs: requirements/*.txt pin every package with hashes, were made from the
dependencies pyproject.toml lists now (`make lock`), and are what the Makefile and the Docker
image install from. A lock older than pyproject stops the install with the command to run."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
LOCKS = {
    "production": BASE_DIR / "requirements" / "production.txt",
    "run": BASE_DIR / "requirements" / "run.txt",
    "test": BASE_DIR / "requirements" / "test.txt",
}
PIN = re.compile(r"^([A-Za-z0-9._-]+)==\S+")


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    """{package: the text of its entry} for every pinned package of a lock file."""
    entries, current = {}, None
    for line in path.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = _name(match.group(1))
            entries[current] = line
        elif current and line.startswith("    "):
            entries[current] += "\n" + line
    return entries


def _check(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/lock.py", "check"],
        cwd=root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_every_lock_file_pins_each_package_with_hashes():
    for path in LOCKS.values():
        pins = _pins(path)
        assert pins, path
        unhashed = [name for name, entry in pins.items() if "--hash=sha256:" not in entry]
        assert unhashed == [], path


def test_each_lock_holds_what_its_install_needs_and_production_no_embedded_servers():
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    base = {_name(r) for r in project["dependencies"]}
    embedded = {_name(r) for r in project["optional-dependencies"]["embedded"]}
    test = {_name(r) for r in project["optional-dependencies"]["test"]} - {project["name"]}
    production, run, full = (set(_pins(LOCKS[kind])) for kind in ("production", "run", "test"))
    assert base <= production and not embedded & production
    assert base | embedded <= run
    assert base | embedded | test <= full


def test_the_locks_match_the_dependencies_pyproject_lists_now():
    result = _check(BASE_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace('"tqdm>=4.66",', '"tqdm>=4.66",\n    "humanize>=4.0",'),
        lambda text: text.replace('"pytest>=8.0",', '"pytest>=8.1",'),
    ],
    ids=["a dependency added", "a test dependency changed"],
)
def test_a_lock_older_than_pyproject_stops_the_install_naming_make_lock(tmp_path, edit):
    locks = [f"requirements/{path.name}" for path in LOCKS.values()]
    for relative in ("pyproject.toml", "scripts/lock.py", *locks):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(BASE_DIR / relative, tmp_path / relative)
    pyproject = tmp_path / "pyproject.toml"
    edited = edit(pyproject.read_text())
    assert edited != pyproject.read_text()
    pyproject.write_text(edited)

    result = _check(tmp_path)
    assert result.returncode != 0
    assert "make lock" in result.stderr


def test_the_makefile_and_the_image_install_from_the_locks():
    makefile = (BASE_DIR / "Makefile").read_text()
    assert "scripts/lock.py check" in makefile
    assert "-r requirements/run.txt" in makefile
    assert "-r requirements/test.txt" in makefile
    assert "--no-deps -e ." in makefile
    dockerfile = (BASE_DIR / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/production.txt" in dockerfile
    assert "--no-deps ." in dockerfile
