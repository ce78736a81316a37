import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS
from tests.support.sample import SAMPLE_CSV

BASE_DIR = Path(__file__).resolve().parents[2]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("import_products", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_a_successful_import_prints_its_counts_and_is_recorded():
    out, err = run(str(SAMPLE_CSV))

    job = ImportJob.objects.get()
    assert f"Import #{job.pk} completed in " in out
    assert re.search(r"^  created +1,998$", out, re.MULTILINE)
    assert out.rstrip().endswith(
        f"Import complete: {SAMPLE_PRODUCTS:,} created, 0 updated, 0 unchanged, 0 rejected"
    )
    assert "merging" in err  # the progress bar names the phase
    assert (job.status, job.source, job.created) == ("completed", "command", SAMPLE_PRODUCTS)
    assert not job.file  # a shell import leaves the file where it was
    assert Product.objects.count() == SAMPLE_PRODUCTS


@pytest.mark.django_db
def test_a_failed_import_raises_command_error_with_the_reason(tmp_path):
    path = tmp_path / "no-sku.csv"
    path.write_text("name,description\nWidget,A widget\n", encoding="utf-8")

    with pytest.raises(CommandError, match="sku") as failure:
        run(str(path))

    job = ImportJob.objects.get()
    assert job.status == "failed"
    assert str(failure.value) == f"Import failed: {job.error}"
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_dry_run_strict_and_options_reach_the_pipeline(tmp_path):
    path = tmp_path / "semicolons.csv"
    path.write_text("sku;name\nA-1;First\n;No sku\n", encoding="utf-8")

    out, _ = run(str(path), "--dry-run", "--delimiter", ";")
    with pytest.raises(CommandError, match="strict mode: 1 record rejected"):
        run(str(path), "--strict", "--delimiter", ";")

    assert "dry run: nothing was changed" in out
    assert re.search(r"^  would be created +1$", out, re.MULTILINE)
    assert re.search(r"^  rejected +1$", out, re.MULTILINE)
    assert "error report: " in out
    assert Product.objects.count() == 0
    assert list(ImportJob.objects.order_by("pk").values_list("validate_only", "strict")) == [
        (True, False), (False, True),
    ]  # fmt: skip


@pytest.mark.django_db
def test_bad_arguments_are_command_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(str(tmp_path / "missing.csv"))
    with pytest.raises(CommandError, match="unsupported delimiter"):
        run(str(SAMPLE_CSV), "--delimiter", "x")
    with pytest.raises(CommandError, match="unknown field 'price'"):
        run(str(SAMPLE_CSV), "--map", "price=Price")
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_exit_status_of_a_real_process(tmp_path):
    from tests.support.worker import subprocess_env

    bad = tmp_path / "bad.csv"
    bad.write_text("", encoding="utf-8")
    command = [sys.executable, "manage.py", "import_products"]

    good_run = subprocess.run([*command, str(SAMPLE_CSV)], cwd=BASE_DIR, env=subprocess_env(),
                              capture_output=True, text=True, timeout=120)  # fmt: skip
    bad_run = subprocess.run([*command, str(bad)], cwd=BASE_DIR, env=subprocess_env(),
                             capture_output=True, text=True, timeout=120)  # fmt: skip

    assert good_run.returncode == 0, good_run.stderr
    assert "Import complete: 1,998 created" in good_run.stdout
    assert bad_run.returncode == 1
    assert "CommandError: Import failed: the file is empty" in bad_run.stderr
    assert Product.objects.count() == SAMPLE_PRODUCTS
