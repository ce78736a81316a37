"""A job's change set is written in the import's own transaction: it commits with the job's
outcome (validate only included, which writes no product), and a job whose outcome is refused
(it was ended elsewhere meanwhile) leaves no change set, as it leaves the catalogue."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from imports import execution, services
from imports.models import ImportChange, ImportJob
from products.models import Product

pytestmark = pytest.mark.django_db(transaction=True)

CSV = b"sku,name\nA-1,Lamp renamed\nA-2,Chair\n"


def _claimed(*, validate_only: bool) -> ImportJob:
    upload = SimpleUploadedFile("products.csv", CSV, "text/csv")
    # Claimed as it is created: a worker that gets its task message leaves it to this test.
    with transaction.atomic():
        job = services.import_job_create(
            uploaded_file=upload, options={"validate_only": validate_only}
        )
        claimed = services.import_job_claim(job_id=job.pk)
    assert claimed is not None
    return claimed


@pytest.fixture(autouse=True)
def lamp(db):
    return Product.objects.create(sku="A-1", name="Lamp")


@pytest.mark.parametrize("validate_only", [True, False], ids=["validate-only", "import"])
def test_the_change_set_commits_with_the_outcome(validate_only, lamp):
    job = execution.execute(_claimed(validate_only=validate_only))

    assert job is not None and job.status == ImportJob.Status.COMPLETED, job and job.error
    changes = {c.sku: (c.kind, c.before, c.after) for c in ImportChange.objects.filter(job=job)}
    assert changes == {
        "A-1": ("updated", {"name": "Lamp"}, {"name": "Lamp renamed"}),
        "A-2": ("created", None, {"sku": "A-2", "name": "Chair", "description": "",
                                  "active": True}),
    }  # fmt: skip
    assert Product.objects.filter(sku="A-2").exists() is not validate_only


def test_a_refused_outcome_leaves_no_change_set():
    job = _claimed(validate_only=False)
    # Ended elsewhere while it ran: failed as lost, then retried (another attempt).
    ImportJob.objects.filter(pk=job.pk).update(attempts=job.attempts + 1)

    assert execution.execute(job) is None

    assert not ImportChange.objects.filter(job=job).exists()
    assert list(Product.objects.values_list("sku", "name")) == [("A-1", "Lamp")]
