"""One REDIS_URL, three consumers: redis-py (progress, rate limits, cache) and Celery's broker.

Accepted forms: ``redis://[:password@]host:port/db``, ``rediss://...`` (TLS, e.g. Upstash) and
``unix:///path/to/redis.sock`` (the embedded server). For ``rediss://`` the server certificate
is verified by default (REDIS_SSL_CERT_REQS=required); ``optional`` or ``none`` relax that for
providers with self-signed certificates, at the cost of man-in-the-middle protection.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

CERT_REQS = {"required": ssl.CERT_REQUIRED, "optional": ssl.CERT_OPTIONAL, "none": ssl.CERT_NONE}


def from_socket(path: str) -> str:
    return f"unix://{path}"


def _scheme(url: str) -> str:
    return urlsplit(url).scheme.lower()


def _cert_reqs(value: str) -> ssl.VerifyMode:
    try:
        return CERT_REQS[value.lower()]
    except KeyError:
        raise ValueError(
            f"REDIS_SSL_CERT_REQS must be one of {', '.join(CERT_REQS)}, not {value!r}"
        ) from None


def client_url(url: str) -> str:
    """The URL for redis-py."""
    if _scheme(url) == "redis+socket":
        return "unix://" + url.split("://", 1)[1]
    return url


def client_options(url: str, cert_reqs: str) -> dict:
    """Extra keyword arguments for redis-py's from_url."""
    if _scheme(url) == "rediss":
        return {"ssl_cert_reqs": _cert_reqs(cert_reqs)}
    return {}


def broker_url(url: str) -> str:
    """The URL for Celery/kombu, which names unix sockets ``redis+socket://``."""
    if _scheme(url) == "unix":
        return "redis+socket://" + url.split("://", 1)[1]
    return url


def broker_ssl(url: str, cert_reqs: str) -> dict | None:
    if _scheme(url) == "rediss":
        return {"ssl_cert_reqs": _cert_reqs(cert_reqs)}
    return None
