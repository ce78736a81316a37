"""Uploads are refused as they arrive, before any of the body is parsed or stored.

Django parses a multipart body (spooling files to FILE_UPLOAD_TEMP_DIR) the first time
anything reads request.POST, and CsrfViewMiddleware does that for every POST before any view
runs. So:

- `UploadGateMiddleware` (right after AuthenticationMiddleware; its __call__ runs before any
  middleware's process_view) answers a POST to an upload URL itself, body unread, when the
  caller is not signed in (session or API token: 403 on the page, 401 from the API) or may
  not start imports (403), or when the declared Content-Length is over the limit (413). A
  body sent chunked (no length; gunicorn passes it through wsgi.input) is read through a
  stream capped just past the limit.
- `LimitedUploadHandler` (first in FILE_UPLOAD_HANDLERS) stops a file that grows past the limit
  as its chunks arrive, and any file sent to a URL that takes no uploads; what was spooled is
  deleted with the temporary file. The view then answers 413 (`refused_size`).
- A preview (`PREVIEW_VIEWS`) reads only a file's first block: for those URLs the gate swaps
  Django's handlers for `HeadUploadHandler`, which keeps that block in memory and drops the
  rest as it arrives (nothing is spooled to disk, whatever the file's size).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from imports.detection import DETECTION_BYTES
from imports.permissions import START
from imports.uploads import too_large_message

# The views that take a CSV upload (the page and the API, and their previews), by URL name.
PREVIEW_VIEWS = {"imports:preview", "import-preview"}
UPLOAD_VIEWS = {"imports:new", "import-list", *PREVIEW_VIEWS}
API_UPLOAD_VIEWS = {"import-list", "import-preview"}
# Multipart framing and the form's other fields add a little to the file's size.
FRAMING_BYTES = 64 * 1024
_ACCEPTS_UPLOAD = "_acme_accepts_upload"
_REFUSED_SIZE = "_acme_upload_refused_size"


def body_limit() -> int:
    return settings.IMPORT_MAX_UPLOAD_BYTES + FRAMING_BYTES


def refused_size(request: HttpRequest) -> int | None:
    """The size (so far) of an upload stopped for being over the limit, else None."""
    return getattr(request, _REFUSED_SIZE, None)


def _is_chunked(request: HttpRequest) -> bool:
    return "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _refuse(request: HttpRequest, *, status: int, message: str, api: bool) -> HttpResponse:
    response: HttpResponse
    if api:
        response = JsonResponse({"detail": message, "file": [message]}, status=status)
    elif status == 413:
        from imports.views import upload_refused  # the page's own form, with the error

        response = upload_refused(request, message=message, status=status)
    else:
        response = HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
    # The unread body stays in the socket: close the connection rather than drain it.
    response["Connection"] = "close"
    return response


def _uploader(request: HttpRequest):
    """The signed-in user (session, or an API token checked here as DRF would), or None."""
    if request.user.is_authenticated:
        return request.user
    try:
        authenticated = TokenAuthentication().authenticate(Request(request))
    except AuthenticationFailed:
        return None
    return authenticated[0] if authenticated else None


class UploadGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            refusal = self._check(request)
            if refusal is not None:
                return refusal
        response = self.get_response(request)
        if refused_size(request) is not None:
            # The rest of the body was left unread: close rather than drain it.
            response["Connection"] = "close"
        return response

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        try:
            view_name = resolve(request.path_info).view_name
        except Resolver404:
            return None
        if view_name not in UPLOAD_VIEWS:
            return None
        api = view_name in API_UPLOAD_VIEWS
        user = _uploader(request)
        if user is None:
            # The API answers 401 with a Token challenge, as DRF does for any other call.
            refusal = _refuse(
                request, status=401 if api else 403, api=api,
                message="Sign in (or send an API token) to upload a file.",
            )  # fmt: skip
            if api:
                refusal["WWW-Authenticate"] = TokenAuthentication.keyword
            return refusal
        if not user.has_perm(START):
            return _refuse(request, status=403, api=api,
                           message="You do not have permission to import products.")  # fmt: skip
        length = _declared_length(request)
        if length > body_limit():
            return _refuse(request, status=413, api=api, message=too_large_message(length))
        if not length and _is_chunked(request):
            # Django reads CONTENT_LENGTH bytes of a body (none when it is absent): read a
            # chunked one up to just past the limit; the upload handler stops the file there.
            request.META["CONTENT_LENGTH"] = str(body_limit() + 1)
            # A file-like stream, as Django's own WSGIRequest sets; the stubs say BinaryIO.
            request._stream = LimitedStream(  # type: ignore[assignment]
                request.META["wsgi.input"], body_limit() + 1
            )
        setattr(request, _ACCEPTS_UPLOAD, True)
        if view_name in PREVIEW_VIEWS:
            request.upload_handlers = [LimitedUploadHandler(request), HeadUploadHandler(request)]
        return None


class LimitedUploadHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive and stops it past IMPORT_MAX_UPLOAD_BYTES."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0
        if not getattr(self.request, _ACCEPTS_UPLOAD, False):
            # A file sent where no view takes one: nothing of it is stored.
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.IMPORT_MAX_UPLOAD_BYTES:
            setattr(self.request, _REFUSED_SIZE, self.received)
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class HeadUploadHandler(FileUploadHandler):
    """Keeps a file's first DETECTION_BYTES in memory and drops the rest as it arrives (a
    preview reads no more); the file's `size` is what arrived in all."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.head = bytearray()

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = DETECTION_BYTES - len(self.head)
        if room > 0:
            self.head += raw_data[:room]
        return None  # no later handler sees the data

    def file_complete(self, file_size: int) -> InMemoryUploadedFile:
        return InMemoryUploadedFile(
            file=io.BytesIO(bytes(self.head)),
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
