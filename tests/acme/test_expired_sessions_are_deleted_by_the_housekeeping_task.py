from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from acme.tasks import clear_expired_sessions

pytestmark = pytest.mark.django_db


def _session(*, expires_in: timedelta) -> str:
    store = SessionStore()
    store["user"] = "someone"
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() + expires_in)
    return store.session_key


def test_expired_sessions_are_deleted_in_batches_and_live_ones_kept():
    expired = [_session(expires_in=timedelta(days=-1)) for _ in range(5)]
    live = _session(expires_in=timedelta(days=1))

    with CaptureQueriesContext(connection) as queries:
        assert clear_expired_sessions(batch_size=2) == len(expired)

    assert list(Session.objects.values_list("pk", flat=True)) == [live]
    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "django_session"')]
    assert len(deletes) == 3  # 2 + 2 + 1


def test_beat_clears_sessions_under_the_registered_task_name(settings):
    from acme.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "acme.tasks.clear_expired_sessions" in scheduled
    app.loader.import_default_modules()
    assert "acme.tasks.clear_expired_sessions" in app.tasks
