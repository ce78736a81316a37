"""PostgreSQL errors the code reacts to, named once (psycopg's SQLSTATE classes).

Django wraps a psycopg error in its own DatabaseError subclass and keeps the original as
`__cause__`; these helpers look there, so callers catch Django's class and ask what it was.
"""

from __future__ import annotations

from psycopg import errors

# A write that could not get its lock in time (lock_timeout, 55P03), or that PostgreSQL chose
# to cancel to break a deadlock (40P01): in both cases the table is busy, not broken.
LOCK_CONFLICT: tuple[type[errors.Error], ...] = (errors.LockNotAvailable, errors.DeadlockDetected)
# statement_timeout ran out (57014).
QUERY_CANCELED: tuple[type[errors.Error], ...] = (errors.QueryCanceled,)


def caused_by(error: BaseException, kinds: tuple[type[errors.Error], ...]) -> bool:
    """Whether Django's `error` wraps a psycopg error of one of `kinds`."""
    return isinstance(error.__cause__, kinds)


def is_lock_conflict(error: BaseException) -> bool:
    return caused_by(error, LOCK_CONFLICT)


def is_lock_timeout(error: BaseException) -> bool:
    return caused_by(error, (errors.LockNotAvailable,))


def is_query_canceled(error: BaseException) -> bool:
    return caused_by(error, QUERY_CANCELED)
