"""The API's events stream and report answer 401 without credentials, 403 without the
imports view permission and 404 for an unknown import; the page stream needs the same
permission."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from imports.models import ImportJob


@pytest.fixture
def job(db):
    return ImportJob.objects.create(original_name="a.csv", size=1,
                                    status=ImportJob.Status.COMPLETED)  # fmt: skip


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["events", "report"])
def test_without_credentials_the_answer_is_401_with_a_token_challenge(job, name):
    response = APIClient().get(f"/api/imports/{job.pk}/{name}/")

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["events", "report"])
def test_without_the_view_permission_the_answer_is_403(job, viewer_user, name):
    response = token_client(viewer_user).get(f"/api/imports/{job.pk}/{name}/")

    assert response.status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["events", "report"])
def test_with_the_view_permission_an_unknown_import_is_404(viewer_user, name):
    viewer_user.user_permissions.add(Permission.objects.get(codename="view_importjob"))

    response = token_client(viewer_user).get(f"/api/imports/999999/{name}/")

    assert response.status_code == 404
    assert response.json()["detail"]


@pytest.mark.django_db
def test_the_page_stream_needs_the_view_permission(client, job, viewer_user):
    client.force_login(viewer_user)

    assert client.get(reverse("imports:events", args=[job.pk])).status_code == 403
