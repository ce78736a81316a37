"""Reading an Excel workbook (.xlsx) as a stream of records, for the same pipeline as a CSV.

`WorkbookRows` opens the workbook with openpyxl in read-only mode and walks one sheet (the
first, or the one the user named) row by row, turning each row into a list of strings, as
the csv module gives a CSV record; imports.pipeline then checks, reports and loads them
exactly as it does a CSV's (imports.csv_records: COLUMNS, text rules, formula escaping).
Its `line_num` is the sheet's row number, so the report's "line" column holds the row a
user sees in Excel.

Cells become text this way (`cell_text`), one rule for every column:
- a text cell is taken as it is, line breaks included (a SKU typed or pasted as text,
  "00123", keeps its leading zeros);
- a number is written as the number the file holds: 123 for 123 or 123.0, 12.5 for 12.5. A
  SKU like 00123 typed into a number cell is stored by Excel as the number 123 (its leading
  zeros are only a display format), so it imports as "123": format such columns as Text;
- TRUE/FALSE cells as true/false (what `active` reads); dates as ISO 8601 (2024-01-31, or
  2024-01-31 14:30:00 with a time);
- a formula gives the value Excel last calculated and saved (a workbook written by a
  program that never calculated it has none: the cell is empty);
- an empty cell is an empty field; trailing empty cells are dropped and a short row is
  padded to the header's width, so only a value beyond the header's last column makes
  a record "longer" than the header.

Memory stays flat whatever the sheet's length: rows are parsed one at a time and dropped
from the XML tree once read (openpyxl's own row iterator keeps an emptied element per row),
and a shared-strings table (Excel writes every text cell into one) is spilled to a
temporary file and read back by offset (pread) instead of being held as a list of strings.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import zipfile
import zlib
from array import array
from collections.abc import Iterator
from typing import BinaryIO
from xml.etree.ElementTree import ParseError

from openpyxl.reader.excel import ExcelReader
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import DATA_TAG, ROW_TAG, WorkSheetParser
from openpyxl.xml.constants import SHARED_STRINGS, SHEET_MAIN_NS
from openpyxl.xml.functions import iterparse

from .csv_records import InvalidFile

WORKBOOK_EXTENSIONS = (".xlsx",)
SAVE_AS = "save it again from Excel as an .xlsx workbook, or export it as CSV"
_STRING_TAG = f"{{{SHEET_MAIN_NS}}}si"
_SST_TAG = f"{{{SHEET_MAIN_NS}}}sst"
_TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"
_RUN_TAG = f"{{{SHEET_MAIN_NS}}}r"
_INLINE_TAG = f"{{{SHEET_MAIN_NS}}}is"
# Errors openpyxl and the zip and XML layers raise on a file that is not a sound workbook.
_BROKEN = (
    InvalidFileException,
    zipfile.BadZipFile,
    zlib.error,
    ParseError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    EOFError,
    OSError,
)


def cell_text(value: object) -> str:
    """A cell's value as the text the import reads (the rules in the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _text(node) -> str:
    """The text of a string item (<si>, or an inline <is>): its <t>, then its rich-text
    runs' <t>s, phonetic hints left out; what openpyxl's Text(...).content gives, without
    building its objects (most of the parse's time at 500k rows)."""
    plain = node.find(_TEXT_TAG)
    text = (plain.text or "") if plain is not None else ""
    runs = node.findall(_RUN_TAG)
    if runs:
        text += "".join(run.findtext(_TEXT_TAG) or "" for run in runs)
    return text


class _SheetParser(WorkSheetParser):
    """openpyxl's sheet parser, reading inline strings with `_text`."""

    def parse_cell(self, element):
        if element.get("t") != "inlineStr":
            return super().parse_cell(element)
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        inline = element.find(_INLINE_TAG)
        value = _text(inline) if inline is not None else None
        return {"row": row, "column": column, "value": value, "data_type": "s"}


class SpilledStrings:
    """A workbook's shared-strings table on disk: strings in a temporary file, their
    offsets in an array (8 bytes each), read back by index as openpyxl's parser asks."""

    def __init__(self, xml_source: BinaryIO) -> None:
        # Closed by close(), once the sheet is read.
        self._file = tempfile.TemporaryFile(prefix="import-xlsx-strings-")  # noqa: SIM115
        self._offsets = array("Q", [0])
        write, offsets = self._file.write, self._offsets
        end = 0
        table = None
        for event, node in iterparse(xml_source, events=("start", "end")):
            if event == "start":
                if node.tag == _SST_TAG:
                    table = node
                continue
            if node.tag == _STRING_TAG:
                # As openpyxl's read_string_table reads a string (rich text runs joined).
                text = _text(node).replace("x005F_", "")
                end += write(text.encode("utf-8"))
                offsets.append(end)
                if table is not None:
                    table.clear()  # drop the strings read so far from the tree
        self._file.flush()
        self._fd = self._file.fileno()

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, index: int) -> str:
        # pread, not mmap: pages of a mapped file count in the process's RSS as they are
        # touched (~100 MB more at 500k rows); a read goes through the page cache only.
        start = self._offsets[index]
        return os.pread(self._fd, self._offsets[index + 1] - start, start).decode("utf-8")

    def close(self) -> None:
        self._file.close()


class _Reader(ExcelReader):
    """openpyxl's read-only workbook reader with the shared strings spilled to disk, and
    the worksheets only listed (name, path in the archive): openpyxl's read-only sheet
    reads a sheet without a <dimension> to its end to size it, a second whole pass."""

    sheets: list[tuple[str, str]]
    shared_strings: list[str] | SpilledStrings

    def read_strings(self) -> None:
        self.shared_strings = []
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            with self.archive.open(part.PartName[1:]) as xml_source:
                self.shared_strings = SpilledStrings(xml_source)

    def read_worksheets(self) -> None:
        self.sheets = [
            (sheet.name, rel.target)
            for sheet, rel in self.parser.find_sheets()
            if rel.target in self.valid_files and "chartsheet" not in rel.Type
        ]


class WorkbookRows:
    """One sheet of an .xlsx as an iterator of records (lists of str), like csv.reader.

    `line_num` is the sheet row number of the last row returned; a row the file leaves out
    (Excel omits empty rows) comes back as an empty list, as a blank line does from a CSV.
    `bytes_read` is how far into the file the reading is, for progress. The flags a
    DecodedLines sets from what it has seen are all set: every cell is checked.
    """

    position = "row"
    saw_control = saw_tab = saw_apostrophe = True

    def __init__(self, source: BinaryIO, *, sheet: str = "") -> None:
        self.source = source
        self.line_num = 0
        # The header's width (its first non-empty row): shorter rows are padded to it.
        self.width: int | None = None
        self._strings: SpilledStrings | None = None
        try:
            reader = _Reader(source, read_only=True, data_only=True)
            reader.read()
        except InvalidFile:
            raise
        except _BROKEN as exc:
            raise InvalidFile(
                f"the file is not a readable Excel workbook (.xlsx) ({_reason(exc)}); {SAVE_AS}"
            ) from None
        self._reader = reader
        if isinstance(reader.shared_strings, SpilledStrings):
            self._strings = reader.shared_strings
        self.sheet_name, self._sheet_path = self._choose(reader.sheets, sheet)
        self._rows = self._walk()

    @staticmethod
    def _choose(sheets: list[tuple[str, str]], wanted: str) -> tuple[str, str]:
        if not sheets:
            raise InvalidFile(f"the workbook has no worksheet; {SAVE_AS}")
        if not wanted.strip():
            return sheets[0]
        for same in (
            lambda name: name == wanted,
            lambda name: name.strip().lower() == wanted.strip().lower(),
        ):
            for name, path in sheets:
                if same(name):
                    return name, path
        names = ", ".join(name for name, _ in sheets)
        raise InvalidFile(f"the workbook has no sheet named {wanted!r}; its sheets: {names}")

    @property
    def bytes_read(self) -> int:
        try:
            return self.source.tell()
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[list[str]]:
        return self

    def __next__(self) -> list[str]:
        return next(self._rows)

    def _walk(self) -> Iterator[list[str]]:
        reader = self._reader
        workbook = reader.wb
        try:
            with reader.archive.open(self._sheet_path) as xml_source:
                parser = _SheetParser(
                    xml_source,
                    reader.shared_strings,
                    data_only=True,
                    epoch=workbook.epoch,
                    date_formats=workbook._date_formats,
                    timedelta_formats=workbook._timedelta_formats,
                )
                sheet_data = None
                for event, element in iterparse(xml_source, events=("start", "end")):
                    tag = element.tag
                    if event == "start":
                        if tag == DATA_TAG:
                            sheet_data = element
                        continue
                    if tag != ROW_TAG:
                        continue
                    number, cells = parser.parse_row(element)
                    parser.row_dimensions.clear()  # row heights: not needed, would pile up
                    if sheet_data is not None:
                        sheet_data.clear()  # drop the rows read so far from the tree
                    while self.line_num < number - 1:  # rows the file leaves out
                        self.line_num += 1
                        yield []
                    self.line_num = number
                    fields = _fields(cells)
                    if fields:
                        if self.width is None:
                            self.width = len(fields)
                        elif len(fields) < self.width:
                            fields.extend([""] * (self.width - len(fields)))
                    yield fields
        except InvalidFile:
            raise
        except _BROKEN as exc:
            raise InvalidFile(
                f"row {self.line_num + 1}: the workbook cannot be read further ({_reason(exc)}); "
                f"{SAVE_AS}"
            ) from None
        finally:
            self.close()

    def close(self) -> None:
        if self._strings is not None:
            self._strings.close()
            self._strings = None
        self._reader.archive.close()


def _fields(cells: list[dict]) -> list[str]:
    """A parsed row's cells (openpyxl's dicts: column, value) as fields, trailing empties
    dropped; [] for a row with no value."""
    if not cells:
        return []
    width = max(cell["column"] for cell in cells)
    fields = [""] * width
    for cell in cells:
        fields[cell["column"] - 1] = cell_text(cell["value"])
    while fields and not fields[-1]:
        fields.pop()
    return fields


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or exc.__class__.__name__
    return text if len(text) <= 200 else text[:200] + "…"
