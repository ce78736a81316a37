"""Fixtures for the import-job tests."""

from __future__ import annotations

import re
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


# Names of the files these tests store (Django adds "_<7 chars>" when a name is taken).
STORED_BY_TESTS = re.compile(
    r"^(big|products-sample|catalogue|no-sku|few|header-only|r|import-\d+-rejected)"
    r"(_[A-Za-z0-9]{7})?\.csv$"
)


@pytest.fixture(autouse=True)
def _remove_stored_import_files(settings):
    """Uploads and error reports these tests stored are removed after each test. The worker
    processes share MEDIA_ROOT with development, so only files with the tests' names written
    during the test go (a dev server or a benchmark may be storing uploads meanwhile)."""
    started = time.time() - 1
    yield
    root = Path(settings.MEDIA_ROOT) / "imports"
    for folder in ("uploads", "reports"):
        for path in (root / folder).rglob("*.csv"):
            if STORED_BY_TESTS.match(path.name) and path.stat().st_mtime >= started:
                path.unlink(missing_ok=True)
