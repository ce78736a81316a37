import os
import sys

from celery import Celery, signals

from acme.lib import worker_heartbeats

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings")

app = Celery("acme")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.worker_init.connect
@signals.beat_init.connect
def _require_service_urls(**kwargs) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from acme.lib import service_urls

    try:
        service_urls.require()
    except ImproperlyConfigured as error:
        # Celery logs and carries on past an exception in a signal handler: exit instead.
        sys.exit(str(error))


# Heartbeats are connected before the worker builds its consumer (which only sends the signal
# when it has receivers at that moment).
signals.heartbeat_sent.connect(worker_heartbeats.on_heartbeat_sent, weak=False)
