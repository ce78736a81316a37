"""Beat sends each periodic task with an expiry of its own interval: a copy still queued
when the next is due (the housekeeping worker busy with a long sweep) is dropped by the worker
instead of piling up."""

from acme.celery import app


def test_every_periodic_task_expires_after_its_interval():
    schedule = app.conf.beat_schedule
    assert schedule
    for name, entry in schedule.items():
        expires = entry.get("options", {}).get("expires")
        assert expires is not None, name
        assert 0 < expires <= float(entry["schedule"]), name
