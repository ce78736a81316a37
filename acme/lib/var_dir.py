"""Where this checkout keeps its local state: the embedded servers, the generated admin
password, beat's schedule and (by default) uploads. ACME_VAR_DIR moves it."""

import os
from pathlib import Path


def from_environment(base_dir: Path) -> Path:
    # An empty value (as copied from .env.example) means the default, like an unset one.
    return Path(os.environ.get("ACME_VAR_DIR") or base_dir / "var")
