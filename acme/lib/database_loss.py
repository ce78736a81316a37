"""Telling a lost database connection from an error in a query, and waiting for the database.

A server that restarts (a kill, a failover, a patch) breaks every open connection: psycopg
raises OperationalError or InterfaceError (Django wraps them in its own classes, but COPY
through the raw psycopg cursor does not), and the connection is no longer usable. A query
error (a timeout, a constraint) raises some of the same classes on a connection that still
works, which is why the connection is asked too.
"""

from __future__ import annotations

import logging
import time

import psycopg
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

CONNECTION_ERRORS = (OperationalError, InterfaceError, psycopg.OperationalError,
                     psycopg.InterfaceError)  # fmt: skip
RETRY_SECONDS = 1.0


def connection_lost(exc: BaseException) -> bool:
    """Whether `exc` came from this thread's database connection breaking."""
    if not isinstance(exc, CONNECTION_ERRORS):
        return False
    return connection.connection is None or not connection.is_usable()


def wait_for_database(*, timeout: float) -> bool:
    """Reconnect this thread's connection, trying every RETRY_SECONDS for up to `timeout`
    seconds; return whether the database answers again."""
    deadline = time.monotonic() + timeout
    while True:
        connection.close()  # the broken connection, or the last failed attempt
        try:
            connection.ensure_connection()
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return True
        except CONNECTION_ERRORS as exc:
            if time.monotonic() >= deadline:
                logger.error("the database did not come back within %.0f s (%s)", timeout, exc)
                return False
        time.sleep(RETRY_SECONDS)
