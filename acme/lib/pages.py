"""What every server-rendered list page shares: page sizes and JSON-or-HTML negotiation."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = PAGE_SIZES[0]


def page_size(request: HttpRequest) -> int:
    """The `page_size` query parameter if it is one of PAGE_SIZES, else the default."""
    try:
        size = int(request.GET.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


def wants_json(request: HttpRequest) -> bool:
    """A fetch() from our JS asks for JSON; a plain form post gets a redirect."""
    return "application/json" in request.headers.get("Accept", "")


def safe_next_url(request: HttpRequest, candidate: str | None, default: str) -> str:
    """`candidate` (a form's `next`) when it is a URL on this site, else `default`."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default
