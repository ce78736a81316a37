"""SSRF guard: webhooks go only to public addresses (unless WEBHOOKS_ALLOW_PRIVATE_TARGETS).

Which addresses are public is Python's `ipaddress.is_global` (kept in step with IANA's
special-purpose registries), plus what it misses: deprecated ranges it still calls global,
and IPv6 forms that carry an IPv4 address (judged by that address, or refused outright for
the tunnelling ones whose relays would reach it for us).

Checked twice:
- when an endpoint is saved (`check_url`), to give the user an actionable message;
- when a delivery is sent (`GuardedAdapter`): the host is resolved, every address it resolves
  to is checked, and the connection goes to the checked address itself (the pool is keyed by
  that address; TLS still verifies the certificate against the URL's host name, and the Host
  header carries the name). The address checked is the address connected to, so a DNS
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

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges deprecated by the IETF that Python (3.11) still reports as global.
_DEPRECATED = {
    ipaddress.ip_network("192.88.99.0/24"): "6to4 relay anycast",  # RFC 7526
    ipaddress.ip_network("fec0::/10"): "site-local",  # RFC 3879
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# NAT64's well-known prefix (RFC 6052): the IPv4 address in its last 32 bits is the target.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """The URL's host is (or resolves to) an address webhooks must not reach."""


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv4-mapped or NAT64 address stands for."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_reason(address: IPAddress) -> str | None:
    """Why `address` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        # Tunnels: a relay would forward to the embedded IPv4 address on our behalf.
        if address.sixtofour is not None:
            return "6to4"
        if address.teredo is not None:
            return "Teredo"
        inner = embedded_ipv4(address)
        if inner is not None:
            return forbidden_reason(inner)
    for network, name in _DEPRECATED.items():
        if address.version == network.version and address in network:
            return name
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


def checked_address(host: str, port: int) -> str:
    """Resolve `host`, refuse it if ANY of its addresses is forbidden, return the first."""
    try:
        infos = resolve(host, port)
    except (socket.gaierror, UnicodeError) as error:
        raise requests.ConnectionError(f"Failed to resolve {host}: {error}") from None
    check_addresses(host, infos)
    return str(_address(infos[0][4]))


class GuardedAdapter(HTTPAdapter):
    """Connects only to checked addresses, through requests' public pool-key hook."""

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(
            request, verify, cert
        )
        if private_targets_allowed():
            return host_params, pool_kwargs
        host = host_params["host"]
        port = host_params["port"] or (443 if host_params["scheme"] == "https" else 80)
        address = checked_address(host, port)
        if host_params["scheme"] == "https":
            # SNI and the certificate check use the name, the socket uses the address.
            # urllib3 takes both; types-requests' TypedDict lists only some pool arguments.
            pool_kwargs["server_hostname"] = host  # type: ignore[typeddict-unknown-key]
            pool_kwargs["assert_hostname"] = host  # type: ignore[typeddict-unknown-key]
        host_params["host"] = address
        return host_params, pool_kwargs

    def send(self, request, *args, **kwargs):
        # The connection's host is an address now; the receiver still gets the URL's name.
        request.headers.setdefault("Host", urlsplit(request.url).netloc.rpartition("@")[2])
        return super().send(request, *args, **kwargs)


def guarded_session(*, pool_maxsize: int = 4) -> requests.Session:
    """A requests session whose every request passes the guard; no env proxies. It keeps
    up to `pool_maxsize` connections alive per host (for 16 hosts at a time)."""
    session = requests.Session()
    # A proxy from the environment would connect on our behalf, past the guard.
    session.trust_env = False
    adapter = GuardedAdapter(pool_connections=16, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
