"""The real products file's first 2,000 rows (header name,sku,description), kept in
tests/data/; ACME_SAMPLE_CSV points elsewhere."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLE_CSV = BASE_DIR / "tests" / "data" / "products-sample.csv"
SAMPLE_CSV = Path(os.environ.get("ACME_SAMPLE_CSV") or DEFAULT_SAMPLE_CSV)
