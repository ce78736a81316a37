"""The local `admin` account that `make run` guarantees."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model

ADMIN_USERNAME = "admin"


def ensure_admin_user(*, password_file: Path) -> tuple[bool, str | None]:
    """Create the superuser `admin` if missing.

    The password comes from ACME_ADMIN_PASSWORD, or is generated once and kept in
    `password_file`. Returns (created, where the password is) so the caller can say it once.
    """
    User = get_user_model()
    if User.objects.filter(username=ADMIN_USERNAME).exists():
        return False, None
    password = os.environ.get("ACME_ADMIN_PASSWORD")
    where = "ACME_ADMIN_PASSWORD"
    if not password:
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(18)
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        where = str(password_file)
    User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
    return True, where
