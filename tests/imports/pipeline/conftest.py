"""Helpers for calling the pipeline directly against the test database."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from imports.pipeline import ImportOptions, ImportResult, run_import
from products.models import Product
from tests.support.sample import SAMPLE_CSV


@dataclass
class Imported:
    result: ImportResult
    report: str

    @property
    def report_rows(self) -> list[list[str]]:
        return list(csv.reader(io.StringIO(self.report)))


@pytest.fixture
def sample_csv() -> Path:
    return SAMPLE_CSV


@pytest.fixture
def import_bytes():
    """import_bytes(data, **options) -> Imported (result and the rejection report's text)."""

    def run(data: bytes | str, **options) -> Imported:
        if isinstance(data, str):
            data = data.encode("utf-8")
        report = io.StringIO()
        result = run_import(
            source=io.BytesIO(data),
            options=ImportOptions(**options),
            report=report,
            bytes_total=len(data),
        )
        return Imported(result, report.getvalue())

    return run


def catalogue() -> dict[str, tuple]:
    """Every product as sku -> (name, description, active, updated_at)."""
    return {
        p.sku: (p.name, p.description, p.active, p.updated_at)
        for p in Product.objects.order_by("id")
    }
