"""The web container's healthcheck (compose.yaml): `python -m acme.lib.web_probe [URL]`.

It fetches /health on the local server, which Django answers only for a Host header that
ALLOWED_HOSTS accepts: once ALLOWED_HOSTS names the public host alone, a plain request to
127.0.0.1 gets 400 (DisallowedHost). So the probe sends the first host ALLOWED_HOSTS names
(the same environment variable the site reads). It does not set Django up: it runs every
few seconds in a fresh process. Exit status 0 when /health answers 200.
"""

from __future__ import annotations

import os
import sys

import requests

DEFAULT_URL = "http://127.0.0.1:8000/health"


def probe_host(allowed_hosts: str) -> str:
    """A Host header that `allowed_hosts` (ALLOWED_HOSTS' comma-separated value) accepts."""
    for entry in allowed_hosts.split(","):
        host = entry.strip()
        if host and host != "*":
            return host.removeprefix(".")  # ".example.com" also matches example.com itself
    return "localhost"


def main(argv: list[str]) -> int:
    url = argv[1] if len(argv) > 1 else DEFAULT_URL
    host = probe_host(os.environ.get("ALLOWED_HOSTS", "127.0.0.1"))
    try:
        response = requests.get(url, headers={"Host": host}, timeout=5, allow_redirects=False)
    except requests.RequestException as exc:
        print(f"health probe of {url} as {host}: {exc}", file=sys.stderr)
        return 1
    if response.status_code != 200:
        print(f"health probe of {url} as {host}: HTTP {response.status_code}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
