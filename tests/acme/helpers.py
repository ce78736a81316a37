from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run_python(args: list[str], env: dict[str, str], timeout: float = 120):
    """Run `python <args>` in the project with exactly `env` on top of a minimal environment."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    base.update(env)
    return subprocess.run(
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=base,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def probe_settings(env: dict[str, str]) -> dict:
    result = run_python(["tests/acme/settings_probe.py"], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])
