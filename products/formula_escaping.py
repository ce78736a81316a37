"""The reversible formula escaping of CSV cells: the one home of the rule, used by the products
export, the import error report and the importer.

A spreadsheet program runs a cell that starts with `=`, `+`, `-` or `@` (or a tab or carriage
return before one) as a formula (OWASP "CSV injection"). Written cells that start with one of
those, or with an apostrophe, get one apostrophe in front, which spreadsheets show as text.
Reading, exactly one leading apostrophe is removed when what follows starts with one of
those characters or with an apostrophe. So every value survives export and import unchanged:
`-A1` is written `'-A1` and read `-A1`; `'quoted` is written `''quoted` and read `'quoted`.

In a file of your own, a leading apostrophe is therefore removed only before `=`, `+`, `-`,
`@`, a tab, a carriage return or another apostrophe (`'=1` is imported as `=1`, `''x` as
`'x`); before anything else it is kept (`'tis` stays `'tis`).
"""

from __future__ import annotations

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
ESCAPED_PREFIXES = (*FORMULA_PREFIXES, ESCAPE)


def escape_cell(value: str) -> str:
    """The cell to write for `value`: safe to open in a spreadsheet, read back by unescape."""
    return ESCAPE + value if value.startswith(ESCAPED_PREFIXES) else value


def unescape_cell(cell: str) -> str:
    """The value a written cell stands for (the inverse of escape_cell)."""
    if cell.startswith(ESCAPE) and cell[1:].startswith(ESCAPED_PREFIXES):
        return cell[1:]
    return cell
