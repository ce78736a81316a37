"""Under gunicorn, an upload that must be refused is refused as it arrives: nothing of it is
spooled to the temporary directory. Anonymous callers (401 from the API) and users who may
not import get 403 before their body is parsed (even with a CSRF cookie); a body over
IMPORT_MAX_UPLOAD_BYTES gets 413 with the limit in the message, whether its length was
declared or it was streamed chunked without one."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from django.contrib.auth.models import Permission, User
from django.test import Client
from rest_framework.authtoken.models import Token

from imports.models import ImportJob
from tests.support.waiting import wait_until
from tests.support.worker import BASE_DIR, subprocess_env

LIMIT = 1024 * 1024
CHUNK = b"sku,name\n" + b"x" * (64 * 1024 - 9)
CHUNKS = 256  # 16 MiB offered
BOUNDARY = "acmeboundary"
CSRF = "a" * 32


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def temp_dir(tmp_path) -> Path:
    path = tmp_path / "upload-temp"
    path.mkdir()
    return path


@pytest.fixture
def server(temp_dir):
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "acme.asgi:application", "--config", "gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=BASE_DIR,
        env=subprocess_env(IMPORT_MAX_UPLOAD_BYTES=str(LIMIT), FILE_UPLOAD_TEMP_DIR=str(temp_dir)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip

    def answers():
        try:
            return requests.get(f"http://127.0.0.1:{port}/health", timeout=5).ok
        except requests.RequestException:
            return False

    wait_until(answers, timeout=90, what="gunicorn to answer")
    yield port
    process.terminate()
    process.wait(timeout=30)


def _session_cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _uploader() -> User:
    user = User.objects.create_user("uploader")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["add_importjob", "view_importjob"])
    )
    return user


def _post(port: int, path: str, headers: dict[str, str], *, chunked: bool) -> dict:
    """POST a multipart CSV of CHUNKS * 64 KiB while reading the answer as it comes."""
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode()  # fmt: skip
    parts = [head, *([CHUNK] * CHUNKS), f"\r\n--{BOUNDARY}--\r\n".encode()]
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1",
             f"Content-Type: multipart/form-data; boundary={BOUNDARY}",
             *(f"{name}: {value}" for name, value in headers.items())]  # fmt: skip
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    else:
        lines.append(f"Content-Length: {sum(len(part) for part in parts)}")
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    answer = bytearray()
    sent = {"bytes": 0, "all": False}

    def read():
        try:
            while data := sock.recv(65536):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read)
    reader.start()
    try:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        for part in parts:
            sock.sendall(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part)
            sent["bytes"] += len(part)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
        sent["all"] = True
    except OSError:
        pass  # the server answered and closed without reading the rest
    reader.join(timeout=60)
    sock.close()
    status_line, _, rest = bytes(answer).partition(b"\r\n")
    return {
        "status": int(status_line.split()[1]) if status_line else None,
        # (Django's JSON escapes the no-break space in "1.0 MB"; DRF's does not.)
        "text": rest.decode("utf-8", "replace").replace("\\u00a0", "\xa0"),
        "sent_everything": sent["all"],
    }


def _temp_bytes(temp_dir: Path) -> int:
    return sum(path.stat().st_size for path in temp_dir.rglob("*") if path.is_file())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/imports/new/", "/api/imports/"])
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "declared"])
def test_an_anonymous_upload_is_refused_unread(server, temp_dir, path, chunked):
    answer = _post(server, path, {"Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF},
                   chunked=chunked)  # fmt: skip

    # The API answers 401 (with a Token challenge) like its other calls; the page 403.
    assert answer["status"] == (401 if path.startswith("/api/") else 403), answer["text"][:500]
    assert "Sign in" in answer["text"]
    assert not answer["sent_everything"]
    assert _temp_bytes(temp_dir) == 0
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_user_who_may_not_import_is_refused_unread(server, temp_dir):
    token = Token.objects.create(user=User.objects.create_user("reader"))

    answer = _post(server, "/api/imports/", {"Authorization": f"Token {token.key}"}, chunked=True)

    assert answer["status"] == 403, answer["text"][:500]
    assert "permission" in answer["text"]
    assert not answer["sent_everything"]
    assert _temp_bytes(temp_dir) == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "declared"])
def test_an_api_upload_over_the_limit_gets_413_and_nothing_stays_spooled(server, temp_dir, chunked):
    token = Token.objects.create(user=_uploader())

    answer = _post(server, "/api/imports/", {"Authorization": f"Token {token.key}"},
                   chunked=chunked)  # fmt: skip

    assert answer["status"] == 413, answer["text"][:500]
    assert "the upload limit is 1.0\xa0MB" in answer["text"]
    assert not answer["sent_everything"]
    assert _temp_bytes(temp_dir) == 0
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "declared"])
def test_the_page_shows_a_form_error_for_an_upload_over_the_limit(server, temp_dir, chunked):
    cookies = f"sessionid={_session_cookie(_uploader())}; csrftoken={CSRF}"

    answer = _post(server, "/imports/new/", {"Cookie": cookies, "X-CSRFToken": CSRF},
                   chunked=chunked)  # fmt: skip

    assert answer["status"] == 413, answer["text"][:500]
    assert "the upload limit is 1.0\xa0MB" in answer["text"]
    assert "IMPORT_MAX_UPLOAD_BYTES" in answer["text"]
    assert not answer["sent_everything"]
    assert _temp_bytes(temp_dir) == 0
    assert not ImportJob.objects.exists()
