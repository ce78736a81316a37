"""TCP keepalives and timeouts for every database connection, on both ends.

A worker host that dies (power, kernel panic, a network partition) sends no FIN or RST: its
connections stay open on the server, and the transaction of an import merging keeps its
catalogue locks, until the server's TCP stack gives up, two hours or more with operating
system defaults. Page and API writes are refused as "busy" meanwhile.

- libpq's own keepalives and tcp_user_timeout let the client notice a dead server;
- the server-side settings (tcp_keepalives_idle / _interval / _count and tcp_user_timeout,
  which any role may set for its session) are asked for in the connection's startup
  `options`, so the server drops a dead client after idle + interval x count seconds (about
  a minute by default) and rolls its transaction back, releasing the locks;
  client_connection_check_interval lets a query that is running at that moment (an index
  build) stop too, instead of finishing first.

These only apply to TCP connections (a unix socket cannot lose its peer that way). Server-wide
defaults (postgresql.conf's tcp_keepalives_*, idle_session_timeout) still matter for clients
that do not ask; some connection poolers refuse startup options: DATABASE_SERVER_KEEPALIVES=false
then leaves them out (set them on the server instead).
"""

from __future__ import annotations


def keepalive_options(
    *,
    idle: int,
    interval: int,
    count: int,
    user_timeout_seconds: int,
    connect_timeout: int,
    server_side: bool,
    existing: dict,
) -> dict:
    """psycopg connection OPTIONS: `existing` (from DATABASE_URL) plus the keepalives."""
    options = {
        **existing,
        "keepalives": 1,
        "keepalives_idle": idle,
        "keepalives_interval": interval,
        "keepalives_count": count,
        "tcp_user_timeout": user_timeout_seconds * 1000,
        "connect_timeout": connect_timeout,
    }
    if server_side:
        asked = (
            f"-c tcp_keepalives_idle={idle} -c tcp_keepalives_interval={interval} "
            f"-c tcp_keepalives_count={count} -c tcp_user_timeout={user_timeout_seconds * 1000} "
            f"-c client_connection_check_interval={interval * 1000}"
        )
        options["options"] = f"{existing['options']} {asked}" if existing.get("options") else asked
    return options
