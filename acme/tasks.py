"""Housekeeping tasks of the project itself (run by beat on the housekeeping queue)."""

from __future__ import annotations

import logging
from importlib import import_module

from celery import shared_task
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils import timezone

from acme.lib.batched_delete import DEFAULT_BATCH_SIZE, delete_in_batches

logger = logging.getLogger(__name__)


@shared_task(name="acme.tasks.clear_expired_sessions", ignore_result=True)
def clear_expired_sessions(batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Beat: delete expired sessions (what `manage.py clearsessions` does), in batches."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store, DatabaseSessionStore):
        store.clear_expired()  # cache or cookie sessions expire on their own
        return 0
    expired = store.get_model_class().objects.filter(expire_date__lt=timezone.now())
    deleted = delete_in_batches(expired, batch_size=batch_size)
    if deleted:
        logger.info("deleted %s expired sessions", deleted)
    return deleted
