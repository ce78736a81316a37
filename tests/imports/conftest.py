"""Fixtures for the import-job tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.imports.jobs import BIG_ROWS, write_csv
from tests.support.sample import SAMPLE_CSV


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory) -> Path:
    return write_csv(tmp_path_factory.mktemp("imports") / "big.csv", BIG_ROWS)


@pytest.fixture
def sample_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("products-sample.csv", SAMPLE_CSV.read_bytes(), "text/csv")
