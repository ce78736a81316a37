"""Reading an uploaded CSV as a stream of checked records.

`DecodedLines` turns a binary stream into text lines, one bounded chunk at a time, and knows
the line number where decoding broke. `read_header` matches the header row. `RecordChecker`
turns one parsed record into either a clean `(sku, name, description, active)` tuple or a
rejection reason. `RejectionReport` writes rejected records as a CSV safe to open in a
spreadsheet. The orchestration (and the COPY) lives in `imports.pipeline`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, TextIO

# Python codec for each encoding the user can pick (the values of pipeline.ENCODINGS' keys).
PYTHON_CODECS = {"utf-8": "utf-8", "cp1252": "cp1252", "latin-1": "latin-1"}
ENCODING_LABELS = {"utf-8": "UTF-8", "cp1252": "cp1252 (Windows-1252)", "latin-1": "latin-1"}
UTF8_BOM = b"\xef\xbb\xbf"

REQUIRED_COLUMNS = ("sku", "name")
OPTIONAL_COLUMNS = ("description", "active")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
FIELD_LIMITS = {"sku": 255, "name": 255}  # products.Product's max_length
ACTIVE_VALUES = {
    "true": True,
    "1": True,
    "yes": True,
    "false": False,
    "0": False,
    "no": False,
}
# The csv module refuses longer fields; an unclosed quote is the usual cause.
MAX_FIELD_CHARS = 1024 * 1024
# Cells a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ACTIVE_UNKNOWN = "\x03"  # see make_record_checker and imports.staging


class InvalidFile(Exception):
    """The file cannot be read at all; str() is a message for the user."""


class DecodedLines:
    """Iterate a binary stream as text lines (line endings kept, as csv expects).

    Reads `chunk_bytes` at a time and cuts each chunk after its last line break (b"\\n" or
    b"\\r", bytes that never occur inside a multi-byte character in UTF-8, cp1252 or
    latin-1), so every chunk decodes on its own and a decoding error can be pinned to its
    line.
    """

    def __init__(self, source: BinaryIO, encoding: str, *, chunk_bytes: int = 1 << 20):
        if encoding not in PYTHON_CODECS:
            raise InvalidFile(
                f"unsupported encoding {encoding!r}: choose one of {', '.join(PYTHON_CODECS)}"
            )
        self.source = source
        self.encoding = encoding
        self.codec = PYTHON_CODECS[encoding]
        self.chunk_bytes = chunk_bytes
        self.bytes_read = 0
        self.lines_decoded = 0  # lines fully decoded so far (LF, CRLF or lone CR)
        # Set once the text holds NUL (which PostgreSQL text cannot store: such records are
        # rejected) or the characters imports.staging uses as separators.
        self.saw_control = False

    def __iter__(self) -> Iterator[str]:
        # chain.from_iterable walks each chunk's lines in C; only chunks pass through Python.
        return chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[io.StringIO]:
        pending = b""
        first = True
        read = self.source.read
        while True:
            block = read(self.chunk_bytes)
            if not block:
                break
            self.bytes_read += len(block)
            if first:
                first = False
                if self.encoding == "utf-8" and block.startswith(UTF8_BOM):
                    block = block[len(UTF8_BOM) :]
            data = pending + block if pending else block
            cut = _after_last_line_break(data)
            if cut == 0:
                pending = data  # one very long line: keep reading (csv's field limit bounds it)
                if len(pending) > 4 * MAX_FIELD_CHARS:
                    raise InvalidFile(
                        f"line {self.lines_decoded + 1}: the line is longer than "
                        f"{4 * MAX_FIELD_CHARS} bytes; is this a CSV file?"
                    )
                continue
            pending = data[cut:]
            yield self._decode(data[:cut] if cut < len(data) else data)
        if pending:
            yield self._decode(pending)

    def _decode(self, data: bytes) -> io.StringIO:
        try:
            text = data.decode(self.codec)
        except UnicodeDecodeError as exc:
            line = self.lines_decoded + _line_breaks(data[: exc.start]) + 1
            label = ENCODING_LABELS[self.encoding]
            raise InvalidFile(
                f"line {line}: not valid {label} (byte 0x{data[exc.start]:02x}); "
                "choose the file's encoding and import it again"
            ) from None
        self.lines_decoded += _line_breaks(data)
        if not self.saw_control and ("\x00" in text or "\x01" in text or "\x03" in text):
            self.saw_control = True
        # newline="" keeps line endings untranslated, which the csv module needs.
        return io.StringIO(text, newline="")


def _after_last_line_break(data: bytes) -> int:
    """Where to cut `data` so the text before holds whole lines (0: no line break yet).

    Lines end in LF, CRLF or a lone CR (old Mac exports), as the csv module reads them. A CR
    that is the last byte may be the first half of a CRLF: it waits for the next block.
    """
    return max(data.rfind(b"\n"), data.rfind(b"\r", 0, len(data) - 1)) + 1


def _line_breaks(data: bytes) -> int:
    """Line breaks in `data`, counted as the csv module counts lines (LF, CRLF, lone CR)."""
    carriage_returns = data.count(b"\r")  # none in most files: one pass less
    if not carriage_returns:
        return data.count(b"\n")
    return data.count(b"\n") + carriage_returns - data.count(b"\r\n")


@dataclass(frozen=True)
class Header:
    field_count: int
    sku: int
    name: int
    description: int | None
    active: int | None
    unknown_columns: list[str]


def read_header(fields: list[str]) -> Header:
    """Match header cells case-insensitively, surrounding whitespace ignored, any order."""
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, cell in enumerate(fields):
        column = cell.strip().lower()
        if column in KNOWN_COLUMNS:
            if column in positions:
                raise InvalidFile(f"the header names the column {column} twice")
            positions[column] = index
        else:
            unknown.append(cell.strip())
    missing = [column for column in REQUIRED_COLUMNS if column not in positions]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise InvalidFile(
            f"missing required column{plural}: {', '.join(missing)} "
            f"(the header must name sku and name; found: {', '.join(c.strip() for c in fields)})"
        )
    return Header(
        field_count=len(fields),
        sku=positions["sku"],
        name=positions["name"],
        description=positions.get("description"),
        active=positions.get("active"),
        unknown_columns=unknown,
    )


def make_record_checker(header: Header, rows: list[str]):
    """Return check(fields, record_no, check_nul) -> None | rejection reason (str).

    A valid record is appended to `rows` as one staging row in imports.staging's row format
    (record number, sku, name, description, active joined by NUL; active "t", "f" or
    ACTIVE_UNKNOWN). `active` is unknown when the file has no active column or the cell is
    empty: new products then default to active, existing ones keep their flag.
    """
    field_count = header.field_count
    sku_at, name_at, description_at, active_at = (
        header.sku,
        header.name,
        header.description,
        header.active,
    )
    sku_limit, name_limit = FIELD_LIMITS["sku"], FIELD_LIMITS["name"]
    active_codes = {cell: "t" if value else "f" for cell, value in ACTIVE_VALUES.items()}
    append = rows.append

    def check(fields: list[str], record_no: int, check_nul: bool) -> str | None:
        if len(fields) != field_count:
            return f"expected {field_count} fields, found {len(fields)}"
        sku = fields[sku_at].strip()
        name = fields[name_at].strip()
        if not sku:
            return "sku is empty"
        if not name:
            return "name is empty"
        if len(sku) > sku_limit:
            return f"sku is longer than {sku_limit} characters ({len(sku)})"
        if len(name) > name_limit:
            return f"name is longer than {name_limit} characters ({len(name)})"
        description = fields[description_at] if description_at is not None else ""
        active = ACTIVE_UNKNOWN
        if active_at is not None:
            cell = fields[active_at].strip()
            if cell:
                active = active_codes.get(cell.lower())
                if active is None:
                    return f"active must be true/false, 1/0 or yes/no, not {cell!r}"
        if check_nul and ("\x00" in sku or "\x00" in name or "\x00" in description):
            return "contains a NUL character, which cannot be stored"
        append(f"{record_no}\x00{sku}\x00{name}\x00{description}\x00{active}")
        return None

    return check


def escape_formula(cell: str) -> str:
    """Neutralise a cell a spreadsheet would evaluate as a formula."""
    if cell and cell.startswith(FORMULA_PREFIXES):
        return "'" + cell
    return cell


class RejectionReport:
    """The error report: record, line, reason, then the record's original fields."""

    def __init__(self, out: TextIO | None, header_fields: list[str]):
        self.writer = csv.writer(out) if out is not None else None
        if self.writer is not None:
            self.writer.writerow(
                ["record", "line", "reason", *(escape_formula(c) for c in header_fields)]
            )

    def add(self, record: int, line: int, reason: str, fields: list[str]) -> None:
        if self.writer is not None:
            self.writer.writerow(
                [record, line, escape_formula(reason), *(escape_formula(c) for c in fields)]
            )


def csv_reader(lines: DecodedLines, delimiter: str):
    if delimiter not in (",", ";", "\t"):
        raise InvalidFile(f"unsupported delimiter {delimiter!r}: choose comma, semicolon or tab")
    csv.field_size_limit(MAX_FIELD_CHARS)
    return csv.reader(iter(lines), delimiter=delimiter, quotechar='"', doublequote=True)
