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
import urllib.request

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
    request = urllib.request.Request(url, headers={"Host": host})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:  # HTTPError (400, 503...) and refused connections alike
        print(f"health probe of {url} as {host}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
