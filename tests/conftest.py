"""Shared fixtures: real PostgreSQL and Redis (embedded by default), a real Celery worker,
and Debian's chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import os

import pytest
from django.contrib.auth.models import Permission, User

from tests.support.browser import BrowserProblems
from tests.support.server import WebServerProcess
from tests.support.worker import WorkerProcess

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# next to one unless told that this is a test process.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session", autouse=True)
def _media_root(tmp_path_factory):
    """Uploads and reports of this run go to a temporary folder, for this process and for
    every worker it starts (they read MEDIA_ROOT from the environment)."""
    from django.test import override_settings

    path = str(tmp_path_factory.mktemp("media"))
    os.environ["MEDIA_ROOT"] = path
    with override_settings(MEDIA_ROOT=path):
        yield path


@pytest.fixture(autouse=True)
def _clear_live_redis_keys():
    """Each test starts with no live state left in Redis by the previous one."""
    from acme.lib.redis_client import get_redis

    redis = get_redis()
    for key in redis.scan_iter(match="acme:*", count=1000):
        redis.delete(key)
    yield


@pytest.fixture(autouse=True)
def _endpoints_deleted_before_the_flush(request):
    """A transactional test ends with a TRUNCATE of every table. A worker still sending and
    recording deliveries for an endpoint the test left could deadlock against it (TRUNCATE
    locks every table in turn, the worker's transaction rows of several): the endpoints left
    are deleted first the way a person deletes one (webhooks.services.endpoint_delete), which
    waits for the worker's writes and makes it drop its later ones."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or (
        marker is not None and marker.kwargs.get("transaction", False)
    )
    if not transactional:
        yield
        return
    # Requested here, so this fixture is torn down before the database's flush.
    request.getfixturevalue("transactional_db")
    yield
    from webhooks.endpoint_locks import EndpointGone
    from webhooks.models import WebhookEndpoint
    from webhooks.services import endpoint_delete

    for endpoint in WebhookEndpoint.objects.order_by("id"):
        with contextlib.suppress(EndpointGone):
            endpoint_delete(endpoint=endpoint)


@pytest.fixture
def password() -> str:
    return "correct-horse-battery-staple"


@pytest.fixture
def staff_user(db, password) -> User:
    """A user with every model permission (not a superuser)."""
    user = User.objects.create_user("staff", password=password, is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def viewer_user(db, password) -> User:
    """A signed-in user without any model permission."""
    return User.objects.create_user("viewer", password=password)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """One real worker for the session. Tests using it need `transaction=True` data."""
    from acme.celery import app

    with django_db_blocker.unblock():
        app.control.purge()
        worker = WorkerProcess(name="session").start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def web_server(django_db_setup, django_db_blocker):
    """The site's real web server (what `make run` serves) for the session; tests reaching it
    need `transaction=True` data."""
    with django_db_blocker.unblock():
        server = WebServerProcess(name="session").start()
    yield server
    server.stop()


@pytest.fixture
def start_worker(django_db_setup, django_db_blocker):
    """Start extra workers (killable) for a test; all are stopped at its end."""
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        with django_db_blocker.unblock():
            worker = WorkerProcess(**kwargs).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (make test does this)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


@pytest.fixture
def browser_problems(browser_context) -> BrowserProblems:
    """Console errors, uncaught exceptions, failed requests and error answers of the test's
    pages; the test fails at teardown if there are any (expect_status allows one on purpose)."""
    problems = BrowserProblems(browser_context)
    yield problems
    if problems.lines:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems.lines))


@pytest.fixture
def page(browser_context, browser_problems):
    page = browser_context.new_page()
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def logged_in_page(page, staff_user, password):
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(staff_user.username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    return page
