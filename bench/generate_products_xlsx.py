"""Generate a product workbook (.xlsx) with the same rows as bench/generate_products_csv.py.

One sheet, "Products": the header name, sku, description, then the records (descriptions
over several lines in about 60% of them), written with openpyxl's write-only mode (rows
streamed to the file, memory flat whatever the row count). Cells are strings, as a
spreadsheet that typed them in or pasted them as text holds them.

    python bench/generate_products_xlsx.py --rows 500000 --out /tmp/products-500k.xlsx
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from openpyxl import Workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate_products_csv import product_rows  # noqa: E402


def generate(rows: int, out: Path, *, seed: int = 1, variant: int = 0) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Products")
    for row in product_rows(rows, seed=seed, variant=variant):
        sheet.append(row)
    workbook.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", type=int, default=0)
    args = parser.parse_args()
    generate(args.rows, args.out, seed=args.seed, variant=args.variant)


if __name__ == "__main__":
    main()
