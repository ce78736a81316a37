"""Whoever holds an endpoint's signing secret can forge its deliveries, so only users with the
`change` permission see it: the API returns `secret: null` to the others, the endpoint's page
and the admin show a note instead."""

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])


def signed_in(password, *codenames, staff=False) -> Client:
    user = User.objects.create_user("-".join(codenames), password=password, is_staff=staff)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_a_viewer_does_not_get_the_secret(endpoint, password):
    viewer = signed_in(password, "view_webhookendpoint", staff=True)

    detail = viewer.get(f"/api/webhooks/{endpoint.pk}/")
    assert detail.status_code == 200 and detail.json()["secret"] is None
    listed = viewer.get("/api/webhooks/").json()["results"]
    assert [row["secret"] for row in listed] == [None]

    page = viewer.get(reverse("webhooks:detail", args=[endpoint.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert endpoint.secret not in text
    assert "Only people who may change this endpoint see its signing secret" in text

    admin = viewer.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert admin.status_code == 200
    assert endpoint.secret not in admin.content.decode()


def test_a_user_who_may_change_it_gets_the_secret(endpoint, password):
    changer = signed_in(password, "view_webhookendpoint", "change_webhookendpoint", staff=True)

    assert changer.get(f"/api/webhooks/{endpoint.pk}/").json()["secret"] == endpoint.secret
    page = changer.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert endpoint.secret in page
    admin = changer.get(reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]))
    assert endpoint.secret in admin.content.decode()
