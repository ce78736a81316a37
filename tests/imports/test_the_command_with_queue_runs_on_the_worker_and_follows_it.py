from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS
from tests.support.sample import SAMPLE_CSV

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_queue_stores_the_file_and_waits_for_the_worker(celery_worker):
    out, err = StringIO(), StringIO()

    call_command("import_products", str(SAMPLE_CSV), "--queue", stdout=out, stderr=err)

    job = ImportJob.objects.get()
    assert f"Import #{job.pk} queued" in err.getvalue()
    assert f"Import #{job.pk} completed" in out.getvalue()
    assert job.file.name.startswith("imports/uploads/")  # stored, so it can be retried
    assert job.attempts == 1
    assert Product.objects.count() == SAMPLE_PRODUCTS


def test_queue_exits_non_zero_when_the_worker_fails_it(celery_worker, tmp_path):
    path = tmp_path / "header-only.csv"
    path.write_text("sku,name\n", encoding="utf-8")

    with pytest.raises(CommandError, match="Import failed: .*no records"):
        call_command("import_products", str(path), "--queue", stdout=StringIO(),
                     stderr=StringIO())  # fmt: skip

    assert ImportJob.objects.get().status == "failed"
