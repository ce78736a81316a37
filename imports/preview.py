"""What a CSV will import as, read from its first block only (imports.detection's
DETECTION_BYTES, whatever the file's size): how it is read (chosen or detected), its header,
its first records as parsed, what the record checks say of each, and the column each
catalogue field takes (requested, or suggested: imports.column_mapping).

The page's script sends only that block; the API reads no more of what it is sent
(imports.upload_gate keeps the first block of a preview upload and drops the rest as it
arrives).
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass, field
from typing import BinaryIO

from . import sources
from .column_mapping import Mapping, check_header_cells, match_columns, read_header
from .csv_records import COLUMNS, DecodedLines, InvalidFile, csv_reader, make_record_checker
from .detection import DETECTION_BYTES, ENCODINGS, FileSettings, UnsupportedSetting, settle
from .models import ImportSource
from .pipeline import read_header_fields

PREVIEW_RECORDS = 10


@dataclass
class Preview:
    settings: FileSettings
    header: list[str]
    rows: list[list[str]] = field(default_factory=list)
    # Per row: why the import would reject it, or None.
    rejections: list[str | None] = field(default_factory=list)
    mapping: Mapping = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    # Why the file would fail as it is (a required field without a column, a mapped column
    # the header lacks); empty when it would import.
    problems: list[str] = field(default_factory=list)
    bytes_read: int = 0
    # A saved source made for files with this header (imports.sources), when none was chosen.
    suggested_source: ImportSource | None = None

    def as_dict(self) -> dict:
        return {
            **self.settings.as_dict(),
            "header": self.header,
            "rows": self.rows,
            "rejections": self.rejections,
            "mapping": self.mapping,
            "unknown_columns": self.unknown_columns,
            "problems": self.problems,
            "catalogue_fields": [
                {"name": column.name, "required": column.required, "if_missing": column.if_missing}
                for column in COLUMNS
            ],
            "suggested_source": (
                {"id": self.suggested_source.pk, "name": self.suggested_source.name}
                if self.suggested_source is not None
                else None
            ),
            "bytes_read": self.bytes_read,
        }


def preview_upload(
    source: BinaryIO,
    *,
    encoding: str,
    delimiter: str,
    mapping: Mapping | None = None,
    saved_source: ImportSource | None = None,
) -> Preview:
    """`preview_file` with a saved source's settings wherever the request leaves one unset
    (as the import will take them: imports.sources.options_with_source); without one, the
    saved source made for files with this header is suggested."""
    options = sources.options_with_source(
        saved_source, {"encoding": encoding, "delimiter": delimiter, "mapping": mapping or {}}
    )
    preview = preview_file(
        source,
        encoding=options["encoding"],
        delimiter=options["delimiter"],
        mapping=options["mapping"],
    )
    if saved_source is None:
        preview.suggested_source = sources.suggest_for_header(preview.header)
    return preview


def preview_file(
    source: BinaryIO, *, encoding: str, delimiter: str, mapping: Mapping | None = None
) -> Preview:
    """Read the first block of `source` (and no more); raises InvalidFile when it cannot be
    read at all (empty, undecodable, NUL in the header)."""
    head = source.read(DETECTION_BYTES)
    if not head:
        raise InvalidFile("the file is empty")
    try:
        settings = settle(head, encoding=encoding, delimiter=delimiter)
    except UnsupportedSetting as exc:
        raise InvalidFile(str(exc)) from None
    lines = _head_lines(head, settings.encoding, complete=len(head) < DETECTION_BYTES)
    reader = csv_reader(lines, settings.delimiter)
    header = read_header_fields(reader)
    check_header_cells(header)
    matched = match_columns(header, mapping)
    preview = Preview(
        settings=settings,
        header=[cell.strip() for cell in header],
        mapping=matched.mapping(header),
        unknown_columns=matched.unknown_columns(header),
        problems=matched.problems,
        bytes_read=len(head),
    )
    check = None
    if not matched.problems:
        check = make_record_checker(read_header(header, mapping), [], lines)
    previous_line_end = reader.line_num
    try:
        for fields in reader:
            if not fields:
                previous_line_end = reader.line_num
                continue
            spans_lines = reader.line_num - previous_line_end > 1
            previous_line_end = reader.line_num
            preview.rows.append(fields)
            record_no = len(preview.rows)
            preview.rejections.append(check(fields, record_no, spans_lines) if check else None)
            if record_no == PREVIEW_RECORDS:
                break
    except csv.Error:
        pass  # a record cut by the block's end (a quote still open): the rows before stand
    return preview


def _head_lines(head: bytes, encoding: str, *, complete: bool) -> DecodedLines:
    """The block's whole lines for the csv reader: a line cut by the block's end is dropped
    (the pipeline reads it whole), a UTF-16 block is transcoded as the pipeline does."""
    data, read_as = head, encoding
    if ENCODINGS[encoding].transcode:
        decoder = codecs.getincrementaldecoder(ENCODINGS[encoding].codec)()
        try:
            data = decoder.decode(head, final=complete).encode("utf-8")
        except UnicodeDecodeError:
            raise InvalidFile(
                f"the file's start is not valid {ENCODINGS[encoding].label}; choose the "
                "file's encoding"
            ) from None
        read_as = "utf-8"
    if not complete:
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if cut:
            data = data[:cut]
    return DecodedLines(io.BytesIO(data), read_as)
