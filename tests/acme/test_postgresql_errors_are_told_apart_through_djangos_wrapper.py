import pytest
from django.db import DatabaseError, connection, transaction

from acme.lib import pg_errors

pytestmark = pytest.mark.django_db


def _raised_by_postgresql(condition: str) -> DatabaseError:
    """The exception Django raises when PostgreSQL reports `condition` (an SQLSTATE name)."""
    raise_it = f"DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '{condition}'; END $$"
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cur:
        cur.execute(raise_it)
    return caught.value


def test_lock_timeout_and_deadlock_are_lock_conflicts():
    lock_timeout = _raised_by_postgresql("lock_not_available")
    deadlock = _raised_by_postgresql("deadlock_detected")

    assert pg_errors.is_lock_conflict(lock_timeout)
    assert pg_errors.is_lock_timeout(lock_timeout)
    assert pg_errors.is_lock_conflict(deadlock)
    assert not pg_errors.is_lock_timeout(deadlock)


def test_statement_timeout_is_a_canceled_query_and_not_a_lock_conflict():
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = '10ms'")
        cur.execute("SELECT pg_sleep(5)")

    assert pg_errors.is_query_canceled(caught.value)
    assert not pg_errors.is_lock_conflict(caught.value)


def test_other_errors_are_neither():
    error = _raised_by_postgresql("unique_violation")

    assert not pg_errors.is_lock_conflict(error)
    assert not pg_errors.is_query_canceled(error)
