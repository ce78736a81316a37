"""The lock files in requirements/: every package pinned with its hashes, for reproducible installs.

    python scripts/lock.py update [--upgrade]   # `make lock`: (re)write them from pyproject.toml
    python scripts/lock.py check                # before every install: are they still current?

production.txt holds the project's dependencies (the Docker image), run.txt adds the embedded
servers (`make run`), test.txt the test tools (`make test`, CI). Each starts with a digest of the
dependency lists in pyproject.toml it was made from; `check` compares it with pyproject.toml now.
`update` uses uv (https://docs.astral.sh/uv/), which resolves for every platform and Python
version at once (the image runs another Python than a developer's machine) and keeps existing
pins unless pyproject.toml asks otherwise or --upgrade is given.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Lock file -> the extras it installs. test.txt is resolved first and the others within it, so
# the three agree on every version they share.
LOCKS = {"test.txt": ["test"], "run.txt": ["embedded"], "production.txt": []}
DIGEST_LINE = "# pyproject.toml dependencies sha256: "
PYTHON_FLOOR = "3.11"


def dependencies_digest() -> str:
    """A digest of what pyproject.toml asks for (not of its tool settings)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    keys = ("requires-python", "dependencies", "optional-dependencies")
    asked = {key: project.get(key) for key in keys}
    return hashlib.sha256(json.dumps(asked, sort_keys=True).encode()).hexdigest()


def check() -> int:
    digest = dependencies_digest()
    stale = []
    for name in LOCKS:
        path = ROOT / "requirements" / name
        first = path.read_text().splitlines()[0] if path.exists() else ""
        if first != DIGEST_LINE + digest:
            stale.append(f"requirements/{name}")
    if stale:
        print(
            f"{', '.join(stale)} no longer match the dependencies in pyproject.toml: "
            "run `make lock` and commit requirements/ with pyproject.toml",
            file=sys.stderr,
        )
        return 1
    return 0


def update(upgrade: bool) -> int:
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    digest = dependencies_digest()
    (ROOT / "requirements").mkdir(exist_ok=True)
    for name, extras in LOCKS.items():
        output = ROOT / "requirements" / name
        command = [
            uv, "pip", "compile", "pyproject.toml", "--quiet", "--universal", "--generate-hashes",
            "--python-version", PYTHON_FLOOR, "--custom-compile-command", "make lock",
            "--output-file", str(output),
        ]  # fmt: skip
        for extra in extras:
            command += ["--extra", extra]
        if name != "test.txt":
            command += ["--constraint", str(ROOT / "requirements" / "test.txt")]
        if upgrade:
            command.append("--upgrade")
        subprocess.run(command, cwd=ROOT, check=True)
        output.write_text(f"{DIGEST_LINE}{digest}\n{output.read_text()}")
    return 0


if __name__ == "__main__":
    action = sys.argv[1] if len(sys.argv) > 1 else ""
    if action == "check":
        sys.exit(check())
    if action == "update":
        sys.exit(update(upgrade="--upgrade" in sys.argv[2:]))
    sys.exit(__doc__)
