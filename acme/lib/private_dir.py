"""var/ holds the embedded servers' data, the admin password and beat's schedule: it is
readable by its owner only."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIR_MODE = 0o700


def ensure_private_dir(path: Path) -> Path:
    """Create `path` (mode 0700 from the start), or make an existing one 0700."""
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    if path.stat().st_uid == os.getuid():
        path.chmod(PRIVATE_DIR_MODE)
    return path
