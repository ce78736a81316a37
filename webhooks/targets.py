"""SSRF guard: webhooks go only to public addresses (unless WEBHOOKS_ALLOW_PRIVATE_TARGETS).

Checked twice:
- when an endpoint is saved (`check_url`), to give the user an actionable message;
- when a delivery connects (`GuardedSession`): the connection class resolves the host itself,
  refuses if ANY address is forbidden, connects to the checked address and checks the peer
  address of the socket it got. The address checked is the address connected to, so a DNS
  answer that changes between save and send (DNS rebinding) does not pass.

Encoded IPv4 forms (2130706433, 0x7f000001, 0177.0.0.1, 127.1) are resolved by the C library
exactly as the connection would resolve them, so they are checked as the address they mean.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import _set_socket_options
from urllib3.util.timeout import _DEFAULT_TIMEOUT

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class TargetRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks must not reach."""


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    checks = [
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("carrier-grade NAT", address in _CGNAT),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    ]
    for name, hit in checks:
        if hit:
            return name
    return None


def private_targets_allowed() -> bool:
    return bool(settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS)


def resolve(host: str, port: int) -> list[tuple]:
    """getaddrinfo() answers for a TCP connection to host:port."""
    return socket.getaddrinfo(host.strip("[]"), port, 0, socket.SOCK_STREAM)


def _address(sockaddr: tuple) -> IPAddress:
    return ipaddress.ip_address(sockaddr[0].split("%", 1)[0])


def check_addresses(host: str, infos: list[tuple]) -> None:
    if private_targets_allowed():
        return
    for *_, sockaddr in infos:
        address = _address(sockaddr)
        reason = forbidden_reason(address)
        if reason:
            if host.strip("[]") == str(address):
                where = f"{address} is a {reason} address"
            else:
                where = f"{host} resolves to {address}, a {reason} address"
            raise TargetRefused(f"{where}; webhooks are only sent to public addresses.")


def check_url(url: str) -> None:
    """Refuse a URL whose scheme is not http(s) or whose host is a forbidden address.

    A host name that does not resolve (yet) is accepted: the send-time check still applies.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise TargetRefused("Use an http:// or https:// URL.")
    host = parts.hostname
    if not host:
        raise TargetRefused("The URL has no host.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as error:
        raise TargetRefused(f"The URL's port is not valid ({error}).") from None
    if private_targets_allowed():
        return
    try:
        infos = resolve(host, port)
    except (socket.gaierror, UnicodeError):
        return
    check_addresses(host, infos)


class _GuardedConnectionMixin:
    """Resolve, check every address, connect to a checked one, then check the peer."""

    def _new_conn(self) -> socket.socket:
        host = self._dns_host
        try:
            infos = resolve(host, self.port)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        check_addresses(host, infos)
        last_error: OSError | None = None
        for family, socktype, proto, _canonname, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                _set_socket_options(sock, self.socket_options)
                if self.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(self.timeout)
                if self.source_address:
                    sock.bind(self.source_address)
                sock.connect(sockaddr)
                check_addresses(host, [(None, None, None, None, sock.getpeername())])
                return sock
            except TargetRefused:
                sock.close()
                raise
            except TimeoutError as error:
                sock.close()
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out (connect timeout={self.timeout})"
                ) from error
            except OSError as error:
                sock.close()
                last_error = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last_error}")


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def guarded_session() -> requests.Session:
    """A requests session whose every new connection passes the guard; no env proxies."""
    session = requests.Session()
    # A proxy from the environment would connect on our behalf, past the guard.
    session.trust_env = False
    adapter = GuardedAdapter(pool_connections=16, pool_maxsize=4, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
