"""A bare clone has everything: nothing in the repository reads a file from a folder beside it."""

import re
from pathlib import Path

from tests.support import sample

BASE_DIR = Path(__file__).resolve().parents[2]
# Ways a path out of the checkout into a sibling `shared/` folder has been written.
OUTSIDE = re.compile(r"\.\./shared|parent\s*/\s*[\"']shared[\"']|[\"']shared[\"']\s*/\s*[\"']data")
SKIPPED = {".git", ".venv", "var", "staticfiles", "node_modules", "__pycache__"}


def _repository_text_files():
    for path in BASE_DIR.rglob("*"):
        parts = set(path.relative_to(BASE_DIR).parts)
        if parts & SKIPPED or not path.is_file() or path.suffix in {".csv", ".pyc", ".svg"}:
            continue
        try:
            yield path, path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue


def test_the_sample_csv_is_a_file_inside_the_repository():
    assert sample.DEFAULT_SAMPLE_CSV.resolve().is_relative_to(BASE_DIR)
    assert sample.DEFAULT_SAMPLE_CSV.is_file()
    assert sample.DEFAULT_SAMPLE_CSV.read_bytes().startswith(b"name,sku,description")


def test_no_file_in_the_repository_names_a_path_beside_it():
    this_file = Path(__file__).resolve()
    offenders = [
        f"{path.relative_to(BASE_DIR)}:{number}"
        for path, text in _repository_text_files()
        if path.resolve() != this_file
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert offenders == []
