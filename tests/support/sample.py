"""The real products file's first 2,000 rows (header name,sku,description), kept in the
workspace's shared/ folder beside the repository; ACME_SAMPLE_CSV points elsewhere."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
SAMPLE_CSV = Path(
    os.environ.get("ACME_SAMPLE_CSV", BASE_DIR.parent / "shared" / "data" / "products-sample.csv")
)
