"""Reading an uploaded CSV as a stream of checked records.

`DecodedLines` turns a binary stream into text lines, one bounded chunk at a time, and knows
the line number where decoding broke (a UTF-16 file is transcoded to UTF-8 on the way).
`COLUMNS` lists the catalogue fields a file may give and their rules; imports.column_mapping
matches them to the header row. `make_record_checker`
turns one parsed record into either a clean `(sku, name, description, active)` tuple or a
rejection reason. `RejectionReport` writes rejected records as a CSV safe to open in a
spreadsheet. The orchestration (and the COPY) lives in `imports.pipeline`.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain
from typing import TYPE_CHECKING, BinaryIO, TextIO

from products.formula_escaping import ESCAPE, escape_cell, unescape_cell
from products.models import max_length
from products.text_rules import MULTI_LINE_FORBIDDEN_BYTES, control_character_problem

from .detection import DELIMITERS, ENCODINGS, UTF8_BOM

if TYPE_CHECKING:
    from .column_mapping import Header

# Byte order marks of encodings this importer does not read (longest first: UTF-32 LE's
# starts like UTF-16 LE's), and of UTF-16, read only when it is the file's encoding.
FOREIGN_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
)
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
SAVE_AS_UTF8 = "save it as UTF-8 (in Excel: CSV UTF-8) and import it again"
CHOOSE_UTF16 = "choose UTF-16 (or automatic detection) as its encoding"
# Every byte but the control characters a description may not hold (products.text_rules):
# deleting these from a chunk leaves only forbidden ones, in one pass in C.
_ALLOWED_BYTES = bytes(b for b in range(256) if b not in MULTI_LINE_FORBIDDEN_BYTES)
_APOSTROPHE = ESCAPE.encode("ascii")


@dataclass(frozen=True)
class Column:
    """A column of the import file and what the import does with it. The README and the
    upload page's help show these rules as written here."""

    name: str
    required: bool
    if_missing: str  # the file has no such column
    if_empty: str  # the column is there, the cell is empty (after trimming, for sku and name)
    # Other names a header gives this column, suggested for it in this order after its own
    # name (imports.column_mapping compares them ignoring case, spacing, "_" and "-").
    aliases: tuple[str, ...] = ()


# The rule for every optional column, now and later: a column the file does not have is never
# written (a product keeps its stored value; a new product gets the column's default). In the
# staging table such a value is NULL (NOT_GIVEN below); imports.staging.MERGED_VALUES says
# how the merge keeps the stored one.
COLUMNS = (
    Column(
        "sku", True, "the file is refused", "the record is rejected",
        aliases=("product code", "item number", "item code", "item no", "article",
                 "article number", "article no", "part number", "product id", "code"),
    ),
    Column(
        "name", True, "the file is refused", "the record is rejected",
        aliases=("product name", "title", "product title", "item name", "product"),
    ),
    Column(
        "description", False,
        "descriptions are kept; a new product gets an empty one",
        "the description is cleared",
        aliases=("details", "long description", "product description", "desc", "body"),
    ),
    Column(
        "active", False,
        "flags are kept; a new product is active",
        "the flag is kept; a new product is active",
        aliases=("status", "enabled", "is active", "published"),
    ),
)  # fmt: skip
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)
KNOWN_COLUMNS = tuple(column.name for column in COLUMNS)
FIELD_LIMITS = {field: max_length(field) for field in REQUIRED_COLUMNS}
# How an active cell may say yes or no (compared ignoring case and surrounding spaces).
ACTIVE_SPELLINGS = (
    ("true", "false"),
    ("1", "0"),
    ("yes", "no"),
    ("y", "n"),
    ("active", "inactive"),
    ("enabled", "disabled"),
)
ACTIVE_VALUES = {
    spelling: value
    for pair in ACTIVE_SPELLINGS
    for spelling, value in zip(pair, (True, False), strict=True)
}
ACTIVE_SPELLINGS_TEXT = ", ".join("/".join(pair) for pair in ACTIVE_SPELLINGS)
# The csv module refuses longer fields; an unclosed quote is the usual cause.
MAX_FIELD_CHARS = 1024 * 1024
# A value the file does not give (no such column; an empty active cell), NULL in staging.
NOT_GIVEN = "\x03"


class InvalidFile(Exception):
    """The file cannot be read at all; str() is a message for the user."""


class DecodedLines:
    """Iterate a binary stream as text lines (line endings kept, as csv expects).

    Reads `chunk_bytes` at a time and cuts each chunk after its last line break (b"\\n" or
    b"\\r", bytes that never occur inside a multi-byte character in UTF-8, cp1252 or
    latin-1), so every chunk decodes on its own and a decoding error can be pinned to its
    line.
    """

    # What the report and messages call a record's place in the file (a workbook: "row").
    position = "line"

    def __init__(self, source: BinaryIO, encoding: str, *, chunk_bytes: int = 1 << 20):
        if encoding not in ENCODINGS:
            raise InvalidFile(
                f"unsupported encoding {encoding!r}: choose one of {', '.join(ENCODINGS)}"
            )
        self.source = source
        self.encoding = encoding
        # A transcoded file (UTF-16) is cut and decoded as the UTF-8 it is turned into.
        self.transcoded = ENCODINGS[encoding].transcode
        self.codec = "utf-8" if self.transcoded else ENCODINGS[encoding].codec
        self.chunk_bytes = chunk_bytes
        self.bytes_read = 0
        self.lines_decoded = 0  # lines fully decoded so far (LF, CRLF or lone CR)
        # Set once the text read so far holds a control character no product text may hold
        # (NUL included), or a tab, which a SKU or name may not hold: from then on every
        # record's fields are checked (products.text_rules); until then none can hold one.
        self.saw_control = False
        self.saw_tab = False
        # Set once the text holds an apostrophe: from then on cells are unescaped
        # (products.formula_escaping); until then no cell can start with one.
        self.saw_apostrophe = False

    def __iter__(self) -> Iterator[str]:
        # chain.from_iterable walks each chunk's lines in C; only chunks pass through Python.
        return chain.from_iterable(self._chunks())

    def _chunks(self) -> Iterator[io.StringIO]:
        pending = b""
        first = True
        read = self.source.read
        transcoder = (
            codecs.getincrementaldecoder(ENCODINGS[self.encoding].codec)()
            if self.transcoded
            else None
        )
        while True:
            block = read(self.chunk_bytes)
            if not block:
                if transcoder is not None:
                    pending += self._transcode(transcoder, b"", pending, final=True)
                break
            self.bytes_read += len(block)
            if first:
                self._check_byte_order_mark(block)
            if transcoder is not None:
                block = self._transcode(transcoder, block, pending, final=False)
            if first:
                first = False
                if self.codec == "utf-8" and block.startswith(UTF8_BOM):
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

    def _check_byte_order_mark(self, block: bytes) -> None:
        for bom, name in FOREIGN_BOMS:
            if block.startswith(bom):
                raise InvalidFile(
                    f"the file is {name} (it starts with a {name} byte order mark), "
                    f"which this importer does not read; {SAVE_AS_UTF8}"
                )
        if not self.transcoded and block.startswith(UTF16_BOMS):
            raise InvalidFile(
                "the file is UTF-16 (it starts with a UTF-16 byte order mark), not "
                f"{ENCODINGS[self.encoding].label}; {CHOOSE_UTF16}, or {SAVE_AS_UTF8}"
            )

    def _transcode(self, transcoder, block: bytes, pending: bytes, *, final: bool) -> bytes:
        """The next bytes of a UTF-16 file as UTF-8 (a character cut at the block's end
        waits in the decoder for the next block)."""
        try:
            return transcoder.decode(block, final=final).encode("utf-8")
        except UnicodeDecodeError as exc:
            line = self.lines_decoded + _line_breaks(pending) + 1
            label = ENCODINGS[self.encoding].label
            raise InvalidFile(
                f"line {line} or the few after it: not valid {label} ({exc.reason}); "
                "choose the file's encoding and import it again"
            ) from None

    def _decode(self, data: bytes) -> io.StringIO:
        try:
            text = data.decode(self.codec)
        except UnicodeDecodeError as exc:
            line = self.lines_decoded + _line_breaks(data[: exc.start]) + 1
            label = ENCODINGS[self.encoding].label
            raise InvalidFile(
                f"line {line}: not valid {label} (byte 0x{data[exc.start]:02x}); "
                "choose the file's encoding and import it again"
            ) from None
        self.lines_decoded += _line_breaks(data)
        if not self.saw_control and data.translate(None, _ALLOWED_BYTES):
            self.saw_control = True
        if not self.saw_tab and b"\t" in data:
            self.saw_tab = True
        if not self.saw_apostrophe and _APOSTROPHE in data:
            self.saw_apostrophe = True
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


def make_record_checker(header: Header, rows: list[str], lines: DecodedLines):
    """Return check(fields, record_no, spans_lines) -> None | rejection reason (str).

    sku, name and description cells are unescaped (products.formula_escaping), so an
    export imports back unchanged. Control characters (products.text_rules) are looked for
    in sku and name once the file holds a tab or a forbidden control character or the
    record spans lines, and in description once it holds a forbidden control character
    (DecodedLines' flags); valid records therefore never hold NUL, "\\x01" or NOT_GIVEN,
    which imports.staging uses as separators.

    A valid record is appended to `rows` as one staging row in imports.staging's row format
    (record number, sku, name, description, active joined by NUL; active "t", "f" or
    NOT_GIVEN). Values follow COLUMNS: description is NOT_GIVEN when the file has no such
    column, active when the file has none or the cell is empty.
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

    def check(fields: list[str], record_no: int, spans_lines: bool) -> str | None:
        if len(fields) != field_count:
            return f"expected {field_count} fields, found {len(fields)}"
        sku = fields[sku_at].strip()
        name = fields[name_at].strip()
        description = fields[description_at] if description_at is not None else NOT_GIVEN
        if lines.saw_apostrophe:
            sku, name = unescape_cell(sku), unescape_cell(name)
            if description_at is not None:
                description = unescape_cell(description)
        if not sku:
            return "sku is empty"
        if not name:
            return "name is empty"
        if len(sku) > sku_limit:
            return f"sku is longer than {sku_limit} characters ({len(sku)})"
        if len(name) > name_limit:
            return f"name is longer than {name_limit} characters ({len(name)})"
        active = NOT_GIVEN
        if active_at is not None:
            cell = fields[active_at].strip()
            if cell:
                code = active_codes.get(cell.lower())
                if code is None:
                    return f"active must be one of {ACTIVE_SPELLINGS_TEXT}, not {cell!r}"
                active = code
        saw_control = lines.saw_control
        # Without a tab or another control character in the file, a record spanning lines
        # can only hold a line break: look for one before running the full check.
        if (
            saw_control
            or lines.saw_tab
            or (spans_lines and ("\n" in sku or "\r" in sku or "\n" in name or "\r" in name))
        ):
            for column, value in (("sku", sku), ("name", name)):
                problem = control_character_problem(value)
                if problem:
                    return f"{column} {problem}"
        if saw_control and description_at is not None:
            problem = control_character_problem(description, multi_line=True)
            if problem:
                return f"description {problem}"
        append(f"{record_no}\x00{sku}\x00{name}\x00{description}\x00{active}")
        return None

    return check


class RejectionReport:
    """The error report: record, line (a workbook's: row), reason, then the record's
    original fields, escaped like an export (products.formula_escaping)."""

    def __init__(self, out: TextIO | None, header_fields: list[str], *, position: str = "line"):
        self.writer = csv.writer(out) if out is not None else None
        if self.writer is not None:
            self.writer.writerow(
                ["record", position, "reason", *(escape_cell(c) for c in header_fields)]
            )

    def add(self, record: int, line: int, reason: str, fields: list[str]) -> None:
        if self.writer is not None:
            self.writer.writerow(
                [record, line, escape_cell(reason), *(escape_cell(c) for c in fields)]
            )


def csv_reader(lines: DecodedLines, delimiter: str):
    if delimiter not in DELIMITERS:
        raise InvalidFile(
            f"unsupported delimiter {delimiter!r}: choose comma, semicolon, tab or pipe"
        )
    csv.field_size_limit(MAX_FIELD_CHARS)
    return csv.reader(iter(lines), delimiter=delimiter, quotechar='"', doublequote=True)
