"""From a completed validate-only job, "Import this file" (`POST /api/imports/{id}/commit/`,
or the page's button) imports the same stored file with the same options as a new job (201,
`commit_of` naming the validation), without an upload. When the catalogue changed since the
validation, the new job's counts and change set say what it really did. A validation whose
file was deleted after the retention period cannot be imported: a clear 409. The file both
jobs share is deleted only once neither needs it."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from imports import services
from imports.models import ImportChange, ImportJob
from imports.tasks import delete_expired_files
from products import services as product_services
from products.models import Product
from tests.imports.jobs import wait_for_job

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# Semicolon-separated, cp1252, columns mapped: the options the import must reuse.
CSV = "code;title;description\nA-1;Lamp renamed;Warm\nA-2;Chair;Oak\nA-3;Caf\xe9 table;Round\n"
MAPPING = {"sku": "code", "name": "title"}


@pytest.fixture
def api() -> APIClient:
    user = User.objects.create_user("importer")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_importjob", "add_importjob"])
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def validation(celery_worker) -> ImportJob:
    Product.objects.create(sku="A-1", name="Lamp", description="Warm")
    upload = SimpleUploadedFile("products.csv", CSV.encode("cp1252"), "text/csv")
    job = services.import_job_create(
        uploaded_file=upload,
        options={"validate_only": True, "encoding": "cp1252", "delimiter": ";", "mapping": MAPPING},
    )
    job = wait_for_job(job.pk)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.created, job.updated, job.unchanged) == (2, 1, 0)
    return job


def _kinds(job: ImportJob) -> dict[str, str]:
    return dict(ImportChange.objects.filter(job=job).values_list("sku", "kind"))


def test_the_validated_file_is_imported_as_a_new_job_with_the_same_options(api, validation):
    answer = api.post(f"/api/imports/{validation.pk}/commit/")

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["commit_of"] == validation.pk
    assert (body["validate_only"], body["encoding"], body["delimiter"]) == (False, "cp1252", ";")
    assert body["mapping"] == validation.mapping
    assert {body["mapping"]["sku"], body["mapping"]["name"]} == {"code", "title"}
    job = wait_for_job(body["id"])
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert job.file.name == validation.file.name  # no upload: the stored file
    assert (job.created, job.updated, job.unchanged) == (2, 1, 0)
    assert Product.objects.get(sku="A-3").name == "Café table"
    assert _kinds(job) == _kinds(validation) == {"A-1": "updated", "A-2": "created",
                                                 "A-3": "created"}  # fmt: skip


def test_counts_say_what_the_import_did_to_the_catalogue_as_it_became(api, validation):
    # Since the validation: A-2 was created by a page, A-1 renamed as the file says.
    product_services.product_create(sku="A-2", name="Stool", description="")
    product_services.product_update(product=Product.objects.get(sku="A-1"), name="Lamp renamed")

    job = wait_for_job(api.post(f"/api/imports/{validation.pk}/commit/").json()["id"])

    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.created, job.updated, job.unchanged) == (1, 1, 1)
    assert _kinds(job) == {"A-2": "updated", "A-3": "created"}
    stool = ImportChange.objects.get(job=job, sku="A-2")
    assert (stool.before, stool.after) == ({"name": "Stool", "description": ""},
                                           {"name": "Chair", "description": "Oak"})  # fmt: skip


def test_a_validation_whose_file_was_deleted_cannot_be_imported(api, validation):
    ImportJob.objects.filter(pk=validation.pk).update(
        finished_at=timezone.now() - timedelta(days=40)
    )
    delete_expired_files()

    answer = api.post(f"/api/imports/{validation.pk}/commit/")

    assert answer.status_code == 409
    assert "deleted after the retention period" in answer.json()["detail"]
    assert ImportJob.objects.count() == 1


def test_only_a_completed_validation_can_be_imported(api, validation):
    job = wait_for_job(api.post(f"/api/imports/{validation.pk}/commit/").json()["id"])

    answer = api.post(f"/api/imports/{job.pk}/commit/")

    assert answer.status_code == 409
    assert "validate only" in answer.json()["detail"]


def test_the_shared_file_stays_until_neither_job_needs_it(api, validation):
    job = wait_for_job(api.post(f"/api/imports/{validation.pk}/commit/").json()["id"])
    name = validation.file.name
    storage = validation.file.storage
    ImportJob.objects.filter(pk=validation.pk).update(
        finished_at=timezone.now() - timedelta(days=40)
    )

    delete_expired_files()

    assert storage.exists(name)  # the import still needs it (a retry)
    ImportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=40))
    delete_expired_files()
    assert not storage.exists(name)


def test_importing_needs_the_add_permission(validation):
    reader = User.objects.create_user("reader")
    reader.user_permissions.set(Permission.objects.filter(codename="view_importjob"))
    client = APIClient()
    client.force_authenticate(reader)

    assert client.post(f"/api/imports/{validation.pk}/commit/").status_code == 403
    assert ImportJob.objects.count() == 1


def test_the_page_button_imports_the_file_and_opens_the_new_job(client, validation):
    user = User.objects.create_user("page-importer")
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_importjob", "add_importjob"])
    )
    client.force_login(user)
    page = client.get(f"/imports/{validation.pk}/").content.decode()
    assert f'action="/imports/{validation.pk}/commit"' in page and "Import this file" in page

    answer = client.post(f"/imports/{validation.pk}/commit")

    job = ImportJob.objects.get(commit_of=validation)
    assert answer.status_code == 302 and answer["Location"] == f"/imports/{job.pk}/"
    assert wait_for_job(job.pk).status == ImportJob.Status.COMPLETED
