"""Every URL of the URLconf (pages, the API router, the admin), filled with real object ids,
asked with GET and POST by two signed-in staff users: one without any permission and one
with the view permission on every model.

- Without permissions, every read and every write is refused (403, 404 or 405).
- View-only, every read answers, and every write (and every form that leads to one) is
  refused.
- Whatever the answer to a POST, nothing in the database changed.

A few URLs are open to any signed-in user by design; they are listed with the reason.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from imports.models import ImportJob, ImportSource
from products.models import Product
from tests.acme.urlconf import concrete, walk
from webhooks.models import Delivery, DeliveryAttempt, Recovery, WebhookEndpoint

REFUSED = {403, 404, 405}
# No login needed (tests/acme/test_login_required_on_every_page_and_api.py covers them).
PUBLIC = {"health", "health/ready", "accounts/login/", "admin/login/", "favicon.ico"}
# Open to any signed-in user: they show nothing a permission guards.
OPEN = {
    "": "redirects to the products list",
    "api/": "the API root lists the API's URLs",
    "api/schema/": "the API's description",
    "api/docs/": "the API's description, rendered",
    "admin/": "the admin index lists only the models the user may see",
    "admin/password_change/": "a staff user changes their own password",
    "admin/password_change/done/": "a staff user changes their own password",
    "admin/jsi18n/": "the admin's translations",
    "metrics": "staff read operational counts (Prometheus); no row a permission guards",
}
# Signing out would end the session the walk runs in.
SIGN_OUT = {"accounts/logout/", "admin/logout/"}
# Reads that refuse without a target: autocomplete needs query parameters, view-on-site an
# object with a public URL, the catch-all is the admin's 404.
NO_TARGET = ("admin/autocomplete/", "admin/r/", "admin/(?P<url>")
# A route is a write (or the form of one) when its path says so (an import's preview is a
# step of starting one: it needs the same permission).
WRITE = re.compile(
    r"(new|add|edit|delete|delete-all|password|cancel|retry|rotate-secret|test|redeliver|"
    r"active|enabled|enable|disable|recover|revert|commit|preview)/?\$?$"
)
# Admin pages that treat a POST without a valid action as a read (the changelist, an app's
# index, an object's history and its bare URL, which redirects to its change page).
ADMIN_POST_IS_A_READ = re.compile(
    r"^admin/(\w+/\w+/|\^\(\?P<app_label>.*|\w+/\w+/<path:object_id>/(history/)?)$"
)

# The admin's bare object URL redirects to the change page, which then refuses or answers.
ADMIN_BARE_OBJECT = re.compile(r"^admin/\w+/\w+/<path:object_id>/$")

ROUTES = sorted(
    route for route in walk() if concrete(route) not in PUBLIC and concrete(route) not in SIGN_OUT
)


@pytest.fixture
def world(db, settings, tmp_path) -> dict[str, int]:
    """One real object of every kind a URL can name; returns their ids by route prefix."""
    product = Product.objects.create(sku="WALK-1", name="Walked product")
    owner = User.objects.create_user("owner")  # no password: hashing one is slow
    job = ImportJob.objects.create(
        original_name="walk.csv",
        size=10,
        status=ImportJob.Status.COMPLETED,
        created_by=owner,
        finished_at=timezone.now(),
        rows_rejected=1,
    )
    job.error_report.save("walk-report.csv", ContentFile(b"line,sku,error\n2,,empty\n"))
    endpoint = WebhookEndpoint.objects.create(url="https://93.184.215.14/hook", events=[])
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": timezone.now().isoformat(), "data": {}},
        msg_id="msg_walk",
        status=Delivery.Status.FAILED,
        completed_at=timezone.now(),
    )
    DeliveryAttempt.objects.create(
        delivery=delivery, endpoint=endpoint, attempted_at=timezone.now(), success=False
    )
    recovery = Recovery.objects.create(endpoint=endpoint, since=timezone.now(), count=0)
    source = ImportSource.objects.create(name="Walked source")
    group = Group.objects.create(name="walkers")
    token = Token.objects.create(user=owner)
    return {
        "products": product.pk,
        "imports": job.pk,
        "import-sources": source.pk,
        "admin/imports/importsource/": source.pk,
        "webhooks": endpoint.pk,
        "deliveries": delivery.pk,
        "recoveries": recovery.pk,
        "admin/products/product/": product.pk,
        "admin/imports/importjob/": job.pk,
        "admin/webhooks/webhookendpoint/": endpoint.pk,
        "admin/webhooks/delivery/": delivery.pk,
        "admin/auth/user/": owner.pk,
        "admin/auth/group/": group.pk,
        "admin/authtoken/tokenproxy/": token.user_id,
        "content_type": ContentType.objects.get_for_model(Product).pk,
    }


def _path(route: str, ids: dict[str, int]) -> str:
    def value(route: str, name: str) -> str:
        if name == "app_label":
            return "imports"
        if name == "url":
            return "no-such-page/"
        if name == "content_type_id":
            return str(ids["content_type"])
        if route.startswith("admin/r/"):
            return str(ids["products"])
        if route.startswith("admin/"):
            return str(ids[route[: route.index("<")]])
        if name == "recovery_id":
            return str(ids["recoveries"])
        if name == "delivery_id" or route.startswith(("webhooks/deliveries/", "api/^deliveries")):
            return str(ids["deliveries"])
        if route.startswith("imports/sources/"):
            return str(ids["import-sources"])
        first = route.removeprefix("api/^").split("/", 1)[0]
        return str(ids[first])

    return "/" + concrete(route, value)


def _user(name: str, *, view_everything: bool) -> User:
    user = User.objects.create_user(name, is_staff=True)
    if view_everything:
        user.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    return user


def _database_fingerprint() -> dict[str, str]:
    """A digest of every row the URLs could change (sessions aside)."""
    digests = {}
    with connection.cursor() as cursor:
        for model in (Product, ImportJob, ImportSource, WebhookEndpoint, Delivery,
                      DeliveryAttempt, Recovery, User, Group, Token, LogEntry):  # fmt: skip
            table = model._meta.db_table
            cursor.execute(
                f"SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "  # noqa: S608
                f"FROM {table} t"
            )
            digests[table] = cursor.fetchone()[0]
    return digests


def _write_attempt(ids: dict[str, int]) -> dict:
    """One body that every form and API write would act on, were it allowed."""
    return {
        "confirm": "true",
        "sku": "WALK-2",
        "name": "Walked in",
        "url": "https://93.184.215.14/other",
        "events": "product.created",
        "enabled": "false",
        "active": "false",
        "rate_limit": "5",
        "action": "delete_selected",
        "_selected_action": [str(pk) for pk in ids.values()],
        "index": "0",
        "post": "yes",
        "file": SimpleUploadedFile("walk.csv", b"sku,name\nWALK-3,Walked\n", "text/csv"),
    }


def _ask(client, method: str, path: str, ids: dict[str, int]):
    response = client.get(path) if method == "get" else client.post(path, _write_attempt(ids))
    # A stream (SSE, CSV export) is left unread: its first byte is not the question here.
    return response.status_code, response.get("Location", "")


def test_the_walk_covers_pages_api_and_admin():
    assert "imports/<int:pk>/events" in ROUTES
    assert "api/^imports/(?P<pk>[^/.]+)/cancel/$" in ROUTES
    assert "admin/webhooks/delivery/<path:object_id>/change/" in ROUTES
    assert len(ROUTES) > 80


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_user_without_permissions_is_refused(client, world, route, method):
    client.force_login(_user("nobody", view_everything=False))
    path = _path(route, world)
    before = _database_fingerprint()

    status, location = _ask(client, method, path, world)

    assert status != 500
    if ADMIN_BARE_OBJECT.match(route):
        assert status in REFUSED or location == f"{path}change/", (path, status, location)
    elif route not in OPEN:
        assert status in REFUSED, (method.upper(), path, status, location)
    assert _database_fingerprint() == before, (method.upper(), path, status)


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", ROUTES)
def test_a_view_only_user_reads_but_cannot_write(client, world, route, method):
    client.force_login(_user("looker", view_everything=True))
    path = _path(route, world)
    before = _database_fingerprint()

    status, location = _ask(client, method, path, world)

    assert status != 500
    where = (method.upper(), path, status, location)
    if route in OPEN:
        pass
    elif method == "get" and not WRITE.search(route) and not route.startswith(NO_TARGET):
        assert status == 200 or (status == 302 and "login" not in location), where
    elif method == "post" and ADMIN_POST_IS_A_READ.match(route):
        assert status in REFUSED | {200, 302}, where
    else:
        assert status in REFUSED, where
    assert _database_fingerprint() == before, (method.upper(), path, status)
