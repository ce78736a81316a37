"""Generate a product CSV shaped like tests/data/products-sample.csv (the real sample).

Header name,sku,description; word-salad names and SKUs; descriptions of 1-4 sentences
split over 1-3 lines (quoted, so multi-line records) for about 60% of the rows; about 6% of
the records repeat an earlier SKU, a third of those in upper case.

`--variant N` keeps the same SKU sequence (same seed) but changes every name and
description, for the "re-import with every row changed" benchmark.

    python bench/generate_products_csv.py --rows 500000 --out /tmp/products-500k.csv

`--tile N --from FILE` writes FILE's records N times, each copy's SKUs suffixed with its
number (`-t0`, `-t1`, ...), so the copies hold distinct SKUs and each repeats FILE's
duplicates. A 10M-row file from the 2.5M one in about a minute (generating it takes ~20
CPU minutes); tiling the variant-1 file the same way gives the every-row-changed file:

    python bench/generate_products_csv.py --tile 4 \\
        --from /tmp/acme-bench/products-2500000-v0.csv \\
        --out /tmp/acme-bench/products-10000000-v0.csv
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from collections.abc import Iterator
from pathlib import Path

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "products-sample.csv"
DUPLICATE_SHARE = 0.06


def sample_words() -> list[str]:
    words: set[str] = set()
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            words.update(w.strip(".,").lower() for w in row["description"].split())
    return sorted(w for w in words if w.isalpha())


def product_rows(rows: int, *, seed: int = 1, variant: int = 0) -> Iterator[list[str]]:
    """The header, then `rows` records: [name, sku, description]."""
    words = sample_words()
    sku_rng = random.Random(seed)  # SKU sequence: identical across variants
    text_rng = random.Random(seed * 1000 + variant + 1)
    choice, rand = sku_rng.choice, sku_rng.random
    text_choice, text_rand, randint = text_rng.choice, text_rng.random, text_rng.randint
    skus: list[str] = []
    yield ["name", "sku", "description"]

    def sentence() -> str:
        count = randint(4, 12)
        text = " ".join(text_choice(words) for _ in range(count))
        return text[0].upper() + text[1:] + "."

    for index in range(rows):
        if skus and rand() < DUPLICATE_SHARE:
            sku = choice(skus)
            if rand() < 1 / 3:
                sku = sku.upper()
        else:
            sku = f"{choice(words)}-{choice(words)}-{index:x}"
            skus.append(sku)
        name = f"{text_choice(words).title()} {text_choice(words).title()}"
        if variant:
            name += f" v{variant}"
        lines = [
            " ".join(sentence() for _ in range(randint(1, 3)))
            for _ in range(randint(1, 3) if text_rand() < 0.6 else 1)
        ]
        yield [name, sku, "\n".join(lines)]


def generate(rows: int, out, *, seed: int = 1, variant: int = 0) -> None:
    csv.writer(out, lineterminator="\n").writerows(product_rows(rows, seed=seed, variant=variant))


def tiled(source: Path, times: int) -> Iterator[list[str]]:
    """FILE's header, then its records `times` times, SKUs suffixed per copy."""
    for copy in range(times):
        with source.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            if copy == 0:
                yield header
            at = header.index("sku")
            suffix = f"-t{copy}"
            for row in reader:
                row[at] += suffix
                yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int)
    parser.add_argument("--tile", type=int, help="write --from's records this many times")
    parser.add_argument("--from", dest="source", type=Path)
    parser.add_argument("--out", type=Path, help="default: stdout")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--variant", type=int, default=0)
    args = parser.parse_args()
    if args.tile:
        if not args.source or not args.out:
            parser.error("--tile needs --from and --out")
        with args.out.open("w", newline="", encoding="utf-8") as out:
            csv.writer(out, lineterminator="\n").writerows(tiled(args.source, args.tile))
        return
    if args.rows is None:
        parser.error("--rows is required")
    if args.out:
        with args.out.open("w", newline="", encoding="utf-8") as out:
            generate(args.rows, out, seed=args.seed, variant=args.variant)
    else:
        generate(args.rows, sys.stdout, seed=args.seed, variant=args.variant)


if __name__ == "__main__":
    main()
