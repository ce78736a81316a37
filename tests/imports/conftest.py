"""Fixtures for the import-job tests."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.imports.jobs import BIG_ROWS, SAMPLE_CSV, write_csv


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("imports") / "big.csv", BIG_ROWS)


@pytest.fixture
def sample_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("products-sample.csv", SAMPLE_CSV.read_bytes(), "text/csv")


@pytest.fixture(autouse=True)
def _remove_stored_import_files(settings):
    """Uploads and error reports written during a test are removed after it (the worker
    processes share MEDIA_ROOT, so a temporary MEDIA_ROOT would not reach them)."""
    started = time.time() - 1
    yield
    root = Path(settings.MEDIA_ROOT) / "imports"
    for folder in ("uploads", "reports"):
        for path in (root / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime >= started:
                path.unlink(missing_ok=True)
