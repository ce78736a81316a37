"""The generated admin password is written to a file only its owner can read, in a var/
directory only its owner can enter, created so from the first byte (never readable in
between), and never through a link planted at its path."""

import os
import stat

import pytest
from django.contrib.auth.models import User

from acme.lib.admin_user import ADMIN_USERNAME, ensure_admin_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def permissive_umask():
    """The most permissive umask: nothing but the code's own modes keeps others out."""
    old = os.umask(0)
    yield
    os.umask(old)


@pytest.fixture(autouse=True)
def no_password_in_env(monkeypatch):
    monkeypatch.delenv("ACME_ADMIN_PASSWORD", raising=False)


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.usefixtures("permissive_umask")
def test_the_file_is_0600_and_var_is_0700(tmp_path):
    var = tmp_path / "var"
    password_file = var / "admin-password.txt"

    created, where = ensure_admin_user(password_file=password_file)

    assert created and where == str(password_file)
    assert _mode(password_file) == 0o600
    assert _mode(var) == 0o700
    password = password_file.read_text().strip()
    assert User.objects.get(username=ADMIN_USERNAME).check_password(password)


def test_a_link_planted_at_the_path_is_not_followed(tmp_path):
    # Someone who could write to var/ plants a dangling link where the password will go.
    var = tmp_path / "var"
    var.mkdir()
    stolen = tmp_path / "elsewhere" / "stolen.txt"
    stolen.parent.mkdir()
    (var / "admin-password.txt").symlink_to(stolen)

    with pytest.raises(FileExistsError):
        ensure_admin_user(password_file=var / "admin-password.txt")

    assert not stolen.exists()
    assert not User.objects.filter(username=ADMIN_USERNAME).exists()
