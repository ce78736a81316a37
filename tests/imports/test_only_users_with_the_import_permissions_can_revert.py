"""Reverting needs the imports add and change permissions (imports.permissions.REVERT), on
the page, in the API and in the admin: anyone else is refused and nothing is queued."""

import pytest
from django.contrib.auth.models import Permission, User
from django.utils import timezone
from rest_framework.test import APIClient

from imports.models import ImportChange, ImportJob
from products.models import Product

pytestmark = pytest.mark.django_db

PERMISSIONS = {
    "none": [],
    "view": ["view_importjob"],
    "view+add": ["view_importjob", "add_importjob"],
    "view+change": ["view_importjob", "change_importjob"],
}


@pytest.fixture
def job() -> ImportJob:
    product = Product.objects.create(sku="P-1", name="Made by the import")
    job = ImportJob.objects.create(
        original_name="a.csv",
        size=1,
        created=1,
        status=ImportJob.Status.COMPLETED,
        finished_at=timezone.now(),
    )
    ImportChange.objects.create(job=job, kind=ImportChange.Kind.CREATED, product_id=product.pk,
                                sku=product.sku, new_name=product.name,
                                product_updated_at=product.updated_at)  # fmt: skip
    return job


def _user(codenames: list[str]) -> User:
    user = User.objects.create_user("-".join(codenames) or "nobody", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=codenames, content_type__app_label="imports")
    )
    return user


def _reverts() -> int:
    return ImportJob.objects.filter(kind=ImportJob.Kind.REVERT).count()


@pytest.mark.parametrize("who", PERMISSIONS)
def test_without_add_and_change_the_revert_is_refused_everywhere(client, job, who):
    user = _user(PERMISSIONS[who])
    client.force_login(user)
    api = APIClient()
    api.force_authenticate(user)

    assert client.post(f"/imports/{job.pk}/revert").status_code == 403
    assert api.post(f"/api/imports/{job.pk}/revert/", {}, format="json").status_code == 403
    client.post("/admin/imports/importjob/",
                {"action": "revert_imports", "_selected_action": [job.pk]})  # fmt: skip
    if "view" in who:
        page = client.get(f"/imports/{job.pk}/").content.decode()
        assert "Revert import" not in page
        changelist = client.get("/admin/imports/importjob/").content.decode()
        assert "revert_imports" not in changelist
    assert _reverts() == 0


def test_with_add_and_change_the_page_the_api_and_the_admin_queue_a_revert(client, job):
    user = _user(["view_importjob", "add_importjob", "change_importjob"])
    client.force_login(user)
    assert "Revert import" in client.get(f"/imports/{job.pk}/").content.decode()

    answer = client.post(f"/imports/{job.pk}/revert", {"confirm": "true"})
    assert answer.status_code == 302 and _reverts() == 1
    ImportJob.objects.filter(kind=ImportJob.Kind.REVERT).update(status=ImportJob.Status.FAILED)

    api = APIClient()
    api.force_authenticate(user)
    answer = api.post(f"/api/imports/{job.pk}/revert/", {}, format="json")
    assert answer.status_code == 201, answer.content
    assert answer.json()["reverts"] == job.pk and _reverts() == 2
    ImportJob.objects.filter(kind=ImportJob.Kind.REVERT).update(status=ImportJob.Status.FAILED)

    assert "revert_imports" in client.get("/admin/imports/importjob/").content.decode()
    client.post("/admin/imports/importjob/",
                {"action": "revert_imports", "_selected_action": [job.pk]})  # fmt: skip
    assert _reverts() == 3
    assert ImportJob.objects.filter(kind="revert").order_by("-pk")[0].created_by == user
