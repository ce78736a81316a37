"""Redis (the broker) down: an upload, a retry, a cancel and a webhook test are accepted, not
answered with a 500; /health/ready says 503; once Redis is back the queued work runs without
waiting for the 5-minute requeue sweep."""

import os
import signal
import subprocess

import pytest
import requests
from django.core.files import File
from rest_framework.authtoken.models import Token

from acme.management.commands.standalone import web_command
from imports.models import ImportJob
from tests.acme.test_standalone_serves_site_with_worker_and_stops_on_ctrl_c import _free_port
from tests.imports.jobs import SAMPLE_PRODUCTS, wait_for_job
from tests.support.sample import SAMPLE_CSV
from tests.support.scratch_servers import ScratchRedis
from tests.support.waiting import wait_until
from tests.support.worker import BASE_DIR, subprocess_env
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

QUEUE = f"{os.environ.get('CELERY_QUEUE', 'acme')}-outage"


def _stored_job(status: str) -> ImportJob:
    with SAMPLE_CSV.open("rb") as handle:
        job = ImportJob(original_name="sample.csv", size=SAMPLE_CSV.stat().st_size, status=status)
        job.file.save("sample.csv", File(handle), save=False)
        job.save()
    return job


def _live(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=5).status_code == 200
    except requests.RequestException:
        return False


def test_actions_that_send_a_task_are_accepted_while_the_broker_is_down(
    staff_user, start_worker, tmp_path_factory
):
    redis = ScratchRedis(tmp_path_factory.mktemp("redis")).start()
    env = dict(REDIS_URL=redis.url, CELERY_QUEUE=QUEUE, WEBHOOKS_POLL_SECONDS="1")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    web = subprocess.Popen(
        web_command(f"127.0.0.1:{port}"), cwd=BASE_DIR, env=subprocess_env(**env),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until(lambda: _live(url), timeout=60, every=0.5, what="the site to serve")
        api = requests.Session()
        api.headers["Authorization"] = f"Token {Token.objects.create(user=staff_user).key}"
        failed = _stored_job(ImportJob.Status.FAILED)
        running = _stored_job(ImportJob.Status.RUNNING)
        endpoint = WebhookEndpoint.objects.create(url="http://127.0.0.1:9/hook", events=[])

        redis.kill()
        ready = api.get(f"{url}/health/ready", timeout=30)
        assert ready.status_code == 503

        with SAMPLE_CSV.open("rb") as handle:
            upload = api.post(f"{url}/api/imports/", files={"file": handle}, timeout=30)
        assert upload.status_code == 201, upload.text
        uploaded = ImportJob.objects.get(pk=upload.json()["id"])
        assert uploaded.status == ImportJob.Status.QUEUED

        retry = api.post(f"{url}/api/imports/{failed.pk}/retry/", timeout=30)
        assert retry.status_code == 200, retry.text
        cancel = api.post(f"{url}/api/imports/{running.pk}/cancel/", timeout=30)
        assert cancel.status_code == 200, cancel.text
        running.refresh_from_db()
        assert running.cancel_requested  # the worker's heartbeat sees it in PostgreSQL
        test = api.post(f"{url}/api/webhooks/{endpoint.pk}/test/", timeout=30)
        assert test.status_code == 202, test.text

        # Reads and product writes go on.
        assert api.get(f"{url}/api/imports/", timeout=30).status_code == 200
        product = api.post(f"{url}/api/products/", json={"sku": "k-1", "name": "Kept"}, timeout=30)
        assert product.status_code == 201, product.text

        redis.start()
        start_worker(name="outage", beat=True, **env)
        uploaded = wait_for_job(uploaded.pk, timeout=120)
        assert uploaded.status == ImportJob.Status.COMPLETED, uploaded.error
        assert uploaded.rows_read == SAMPLE_PRODUCTS + 2
        failed = wait_for_job(failed.pk, timeout=120)
        assert failed.status == ImportJob.Status.COMPLETED, failed.error
        wait_until(
            lambda: Delivery.objects.filter(endpoint=endpoint, status=Delivery.Status.FAILED),
            timeout=120,
            what="the test delivery to be attempted",
        )
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
        redis.kill()
