"""Which column of an import file feeds each catalogue field: the mapping, its checks, and
the suggestion made from a file's header.

A mapping is a dict: catalogue field (imports.csv_records.COLUMNS) -> the column's name as the
header writes it, or None: the field is left out, and a field left out is never written
(COLUMNS says what happens instead). A requested mapping may name some fields only; the
others are suggested from the header (`match_columns`): first each field's own name, then its
aliases (COLUMNS), compared ignoring case, surrounding spaces, and runs of spaces, "_" and
"-". Columns no field takes are the file's unknown columns, listed and ignored.

The page, the API and the command take a mapping through `parse_mapping` (a JSON object, or
the command's FIELD=COLUMN pairs through `parse_map_options`); the pipeline and the preview
resolve it against the header here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .csv_records import COLUMNS, KNOWN_COLUMNS, REQUIRED_COLUMNS, SAVE_AS_UTF8, InvalidFile

# field -> column (as the header writes it), or None: left out.
Mapping = dict[str, str | None]

FIELDS = KNOWN_COLUMNS
_SEPARATORS = re.compile(r"[\s_\-]+")


class MappingError(ValueError):
    """A mapping that cannot be used; str() is a message for the user."""


def normalized(cell: str) -> str:
    """A header cell as compared with field names and aliases: "Product_Code " -> "product code"."""
    return _SEPARATORS.sub(" ", cell.strip().lower()).strip()


def parse_mapping(value: object) -> Mapping:
    """A requested mapping from a JSON object (or its text); raises MappingError.

    Keys are catalogue fields; values a column name, or null or "" to leave the field out.
    sku and name cannot be left out, and no column feeds two fields."""
    if value is None:
        return {}
    if isinstance(value, str | bytes):
        text = value.decode() if isinstance(value, bytes) else value
        if not text.strip():
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise MappingError(
                'the mapping must be a JSON object, e.g. {"sku": "Product Code"}'
            ) from None
    if not isinstance(value, dict):
        raise MappingError('the mapping must be a JSON object, e.g. {"sku": "Product Code"}')
    mapping: Mapping = {}
    for key, column in value.items():
        if key not in FIELDS:
            raise MappingError(f"unknown field {key!r} in the mapping: the fields are "
                               f"{', '.join(FIELDS)}")  # fmt: skip
        if column is None or (isinstance(column, str) and not column.strip()):
            mapping[key] = None
        elif isinstance(column, str):
            mapping[key] = column.strip()
        else:
            raise MappingError(f"the mapping of {key} must be a column name or null")
    for required in REQUIRED_COLUMNS:
        if required in mapping and mapping[required] is None:
            raise MappingError(f"{required} cannot be left out: choose the column that holds it")
    taken: dict[str, str] = {}
    for key, column in mapping.items():
        if column is None:
            continue
        other = taken.setdefault(normalized(column), key)
        if other != key:
            raise MappingError(f"the column {column!r} is mapped to both {other} and {key}")
    return mapping


def parse_map_options(pairs: list[str]) -> Mapping:
    """The command's `--map FIELD=COLUMN` (repeatable; `--map description=` leaves it out)."""
    requested: dict[str, str] = {}
    for pair in pairs:
        key, equals, column = pair.partition("=")
        key = key.strip().lower()
        if not equals or not key:
            raise MappingError(f'--map {pair!r}: write FIELD=COLUMN, e.g. --map sku="Product Code"')
        if key in requested:
            raise MappingError(f"--map names the field {key} twice")
        requested[key] = column
    return parse_mapping(requested)


@dataclass(frozen=True)
class Header:
    """Where each field is in a file's records (None: left out) and what else is there."""

    field_count: int
    sku: int
    name: int
    description: int | None
    active: int | None
    unknown_columns: list[str]
    mapping: Mapping = field(default_factory=dict)  # resolved: every field, as the header names it


@dataclass(frozen=True)
class MatchedColumns:
    positions: dict[str, int | None]
    problems: list[str]

    def mapping(self, fields: list[str]) -> Mapping:
        return {
            name: fields[at].strip() if at is not None else None
            for name, at in self.positions.items()
        }

    def unknown_columns(self, fields: list[str]) -> list[str]:
        used = {at for at in self.positions.values() if at is not None}
        return [cell.strip() for index, cell in enumerate(fields) if index not in used]


def match_columns(fields: list[str], requested: Mapping | None = None) -> MatchedColumns:
    """Resolve `requested` against the header cells `fields`, suggesting the fields it does
    not name; problems (a named column missing, a required field without a column, a name
    written twice) are listed, not raised, so a preview can show them beside the header."""
    requested = requested or {}
    positions: dict[str, int | None] = dict.fromkeys(FIELDS)
    problems: list[str] = []
    used: set[int] = set()
    keys = [normalized(cell) for cell in fields]

    for name, column in requested.items():
        if column is None:
            continue
        exact = [i for i, cell in enumerate(fields) if cell.strip() == column]
        found = exact or [i for i, key in enumerate(keys) if key == normalized(column)]
        if not found:
            problems.append(f"the mapping takes {name} from the column {column!r}, which the "
                            f"header does not have")  # fmt: skip
        elif len(found) > 1:
            problems.append(f"the header names the column {column} twice")
        else:
            positions[name] = found[0]
            used.add(found[0])

    suggested = [name for name in FIELDS if name not in requested]
    # Own names first for every field, then aliases: an alias never takes a column that
    # another field is named after.
    for name in suggested:
        found = [i for i, key in enumerate(keys) if key == name and i not in used]
        if len(found) > 1:
            problems.append(f"the header names the column {name} twice")
        elif found:
            positions[name] = found[0]
            used.add(found[0])
    aliases = {column.name: column.aliases for column in COLUMNS}
    for name in suggested:
        if positions[name] is not None:
            continue
        for alias in aliases[name]:
            found = [i for i, key in enumerate(keys) if key == alias and i not in used]
            if found:
                positions[name] = found[0]
                used.add(found[0])
                break

    missing = [name for name in REQUIRED_COLUMNS if positions[name] is None]
    if missing and not problems:
        plural = "s" if len(missing) > 1 else ""
        problems.append(
            f"missing required column{plural}: {', '.join(missing)} (the header must name sku "
            f"and name, or the mapping choose their columns; found: "
            f"{', '.join(c.strip() for c in fields)})"
        )
    return MatchedColumns(positions, problems)


def check_header_cells(fields: list[str]) -> None:
    """Raise InvalidFile when a header cell holds NUL: PostgreSQL cannot store it, and it is
    how a UTF-16 file read as an 8-bit encoding looks."""
    for index, cell in enumerate(fields):
        if "\x00" in cell:
            # UTF-16 or UTF-32 without a byte order mark reads as text full of NULs.
            raise InvalidFile(
                f"the header's column {index + 1} holds NUL bytes: the file is probably "
                f"UTF-16 or UTF-32 without a byte order mark, or not a text file; {SAVE_AS_UTF8}"
            )


def read_header(fields: list[str], requested: Mapping | None = None) -> Header:
    """The header row resolved with the requested mapping; raises InvalidFile."""
    check_header_cells(fields)
    matched = match_columns(fields, requested)
    if matched.problems:
        raise InvalidFile(matched.problems[0])
    positions = matched.positions
    sku, name = positions["sku"], positions["name"]
    assert sku is not None and name is not None  # a missing one is a problem above
    return Header(
        field_count=len(fields),
        sku=sku,
        name=name,
        description=positions["description"],
        active=positions["active"],
        unknown_columns=matched.unknown_columns(fields),
        mapping=matched.mapping(fields),
    )
