"""The local `admin` account that `make run` guarantees."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.contrib.auth import get_user_model

from acme.lib.private_dir import ensure_private_dir

ADMIN_USERNAME = "admin"


def ensure_admin_user(*, password_file: Path) -> tuple[bool, str | None]:
    """Create the superuser `admin` if missing.

    The password comes from ACME_ADMIN_PASSWORD, or is generated once and kept in
    `password_file`, created with mode 0600 (never readable by others, not even for an
    instant) in a 0700 directory; an entry already at that path (a planted link) raises
    FileExistsError instead of being written through. Returns (created, where the password
    is) so the caller can say it once.
    """
    User = get_user_model()
    if User.objects.filter(username=ADMIN_USERNAME).exists():
        return False, None
    password = os.environ.get("ACME_ADMIN_PASSWORD")
    where = "ACME_ADMIN_PASSWORD"
    if not password:
        ensure_private_dir(password_file.parent)
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(18)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(password_file, flags, 0o600), "w") as handle:
                handle.write(password + "\n")
        where = str(password_file)
    User.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
    return True, where
