"""Deleting many rows without one long statement: a batch at a time, each committed alone.

A retention sweep over months of rows as one DELETE would hold its row locks (and bloat
the WAL in one go) until it ends; small batches let other writers in between. Rows another
transaction holds are skipped this time and deleted by a later sweep.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.db.models import Model, QuerySet

DEFAULT_BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet, *, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the rows `queryset` selects (with what cascades from them), `batch_size` per
    transaction; returns how many rows of the queryset's model were deleted."""

    def pick(size: int) -> list:
        return list(
            queryset.order_by()
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:size]
        )

    return delete_picked_in_batches(queryset.model, pick, batch_size=batch_size)


def delete_picked_in_batches(
    model: type[Model], pick: Callable[[int], list], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Delete rows of `model` (with what cascades from them) a batch at a time: each
    transaction deletes the primary keys `pick(batch_size)` returns, which it must lock
    (skipping rows others hold) in that transaction; stops after a short batch. Returns how
    many rows of `model` were deleted."""
    deleted = 0
    while True:
        with transaction.atomic():
            keys = pick(batch_size)
            if keys:
                model._base_manager.filter(pk__in=keys).delete()
        deleted += len(keys)
        if len(keys) < batch_size:
            return deleted
