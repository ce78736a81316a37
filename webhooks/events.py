"""The one place product and import events leave from.

Placeholder until the webhooks issue lands: services already call emit(), which will write
delivery rows (an outbox) in the caller's transaction.
"""

from __future__ import annotations


def emit(event_type: str, data: dict) -> None:
    """Record `event_type` with its payload `data` for every subscribed endpoint."""
    return None
