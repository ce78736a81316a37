"""Waiting in tests for something a real worker, server or thread does."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest


def wait_until(check: Callable[[], object], *, timeout: float = 20, every: float = 0.05,
               what: str = "") -> object:  # fmt: skip
    """Return check()'s first truthy value; fail after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout}s waiting for {what or check}")
