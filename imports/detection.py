"""How an import file is read: its encoding and delimiter, chosen or detected.

One home for the encodings and delimiters the importer reads (the page, the API, the command
and the job's columns take these keys), and for detecting them from the file's first block
(`DETECTION_BYTES`): the pipeline, the preview and the worker all detect from the same bytes,
so the preview shows what the import will do.

Encoding (`detect_encoding`): a byte order mark decides (UTF-8, UTF-16; a UTF-32 one is left
to the reader, which refuses it naming it); else a block that is valid UTF-8 is UTF-8; else
charset-normalizer chooses among the other encodings read here (cp1252, latin-1, and
UTF-16 without a byte order mark, considered only when NUL bytes are frequent, as in UTF-16
text). Delimiter (`detect_delimiter`): each candidate (`,` `;` tab `|`) parses the block's
lines with the csv module (quotes respected); the one that splits the header into most
columns and keeps every record at the header's field count wins.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from typing import BinaryIO, cast

from charset_normalizer import from_bytes

AUTO = "auto"
# What detection and the preview read of a file: its first block.
DETECTION_BYTES = 64 * 1024


@dataclass(frozen=True)
class Encoding:
    label: str
    codec: str  # Python's codec
    # Read through an incremental decoder and re-encoded as UTF-8: in UTF-16 a line break
    # is two bytes and other characters may hold the byte 0x0A, so the byte-level cut at
    # line breaks (csv_records.DecodedLines) does not hold for the raw bytes.
    transcode: bool = False


ENCODINGS = {
    "utf-8": Encoding("UTF-8", "utf-8"),
    "utf-16": Encoding("UTF-16 (byte order mark)", "utf-16", transcode=True),
    "utf-16-le": Encoding("UTF-16 LE", "utf-16-le", transcode=True),
    "utf-16-be": Encoding("UTF-16 BE", "utf-16-be", transcode=True),
    "cp1252": Encoding("cp1252 (Windows-1252)", "cp1252"),
    "latin-1": Encoding("latin-1", "latin-1"),
}
ENCODING_CHOICES = [(AUTO, "Detect automatically"), *((k, e.label) for k, e in ENCODINGS.items())]

# What a client may ask for: a known encoding, or `auto` to detect it.
ENCODING_OPTIONS = [AUTO, *ENCODINGS]
DELIMITERS = {",": "Comma", ";": "Semicolon", "\t": "Tab", "|": "Pipe"}
DELIMITER_CHOICES = [
    (AUTO, "Detect automatically"),
    (",", "Comma ( , )"),
    (";", "Semicolon ( ; )"),
    ("tab", "Tab"),
    ("|", "Pipe ( | )"),
]
# Delimiter values accepted from forms, the API and the command; "tab" spares users a raw tab.
DELIMITER_ALIASES = {
    AUTO: AUTO,
    ",": ",",
    ";": ";",
    "\t": "\t",
    "tab": "\t",
    "\\t": "\t",
    "|": "|",
    "pipe": "|",
}

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
# charset-normalizer's names for the encodings it may choose here, and ours.
_DETECTABLE = {"cp1252": "cp1252", "latin_1": "latin-1"}
_DETECTABLE_UTF16 = {"utf_16_le": "utf-16-le", "utf_16_be": "utf-16-be"}
# UTF-16 text in a Latin script is about half NUL bytes; other text holds next to none.
_UTF16_MIN_NUL_SHARE = 0.125
# Records the delimiter detection looks at.
_SAMPLE_RECORDS = 50


@dataclass(frozen=True)
class FileSettings:
    """How a file is read, and which of it was detected rather than chosen."""

    encoding: str
    delimiter: str
    encoding_detected: bool = False
    delimiter_detected: bool = False

    def as_dict(self) -> dict:
        return {
            "encoding": self.encoding,
            "encoding_label": ENCODINGS[self.encoding].label,
            "encoding_detected": self.encoding_detected,
            "delimiter": self.delimiter,
            "delimiter_label": DELIMITERS[self.delimiter],
            "delimiter_detected": self.delimiter_detected,
        }


class UnsupportedSetting(ValueError):
    """An encoding or delimiter this importer does not read; str() says what to choose."""


def read_head(source: BinaryIO) -> tuple[bytes, BinaryIO]:
    """The first block of `source`, and a stream that reads the file from its start again."""
    if source.seekable():
        start = source.tell()
        head = source.read(DETECTION_BYTES)
        source.seek(start)
        return head, source
    head = source.read(DETECTION_BYTES)
    return head, cast(BinaryIO, _Prepended(head, source))


class _Prepended(io.RawIOBase):
    """`head` then the rest of a stream that cannot seek back."""

    def __init__(self, head: bytes, rest: BinaryIO) -> None:
        self.head = head
        self.rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0:
                data, self.head = self.head + self.rest.read(), b""
                return data
            data, self.head = self.head[:size], self.head[size:]
            return data
        return self.rest.read(size)


def settle(head: bytes, *, encoding: str, delimiter: str) -> FileSettings:
    """The settings to read a file starting with `head`: the chosen ones, AUTO detected."""
    if encoding != AUTO and encoding not in ENCODINGS:
        raise UnsupportedSetting(
            f"unsupported encoding {encoding!r}: choose {AUTO} or one of {', '.join(ENCODINGS)}"
        )
    if delimiter != AUTO and delimiter not in DELIMITERS:
        raise UnsupportedSetting(
            f"unsupported delimiter {delimiter!r}: choose {AUTO}, comma, semicolon, tab or pipe"
        )
    encoding_detected = encoding == AUTO
    if encoding_detected:
        encoding = detect_encoding(head)
    delimiter_detected = delimiter == AUTO
    if delimiter_detected:
        delimiter = detect_delimiter(sample_text(head, encoding))
    return FileSettings(encoding, delimiter, encoding_detected, delimiter_detected)


def detect_encoding(head: bytes) -> str:
    """The encoding of a file starting with `head` (see the module docstring)."""
    if head.startswith(_UTF32_BOMS):
        return "utf-8"  # not read here: csv_records.DecodedLines refuses it, naming it
    if head.startswith(_UTF16_BOMS):
        return "utf-16"
    if head.startswith(UTF8_BOM):
        return "utf-8"
    nul_heavy = head.count(b"\x00") > len(head) * _UTF16_MIN_NUL_SHARE
    if nul_heavy:
        best = from_bytes(head, cp_isolation=list(_DETECTABLE_UTF16)).best()
        if best is not None and best.encoding in _DETECTABLE_UTF16:
            return _DETECTABLE_UTF16[best.encoding]
        # Not identified: read as UTF-8, the NULs fail the header naming the likely cause.
        return "utf-8"
    if _is_utf8(head):
        return "utf-8"
    best = from_bytes(_whole_lines(head), cp_isolation=list(_DETECTABLE)).best()
    if best is not None and best.encoding in _DETECTABLE:
        return _DETECTABLE[best.encoding]
    return "latin-1"  # reads any byte; a wrong guess shows in the preview


def _is_utf8(head: bytes) -> bool:
    try:
        # Not final: a block may end inside a character.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _whole_lines(head: bytes) -> bytes:
    if len(head) < DETECTION_BYTES:
        return head  # the whole file
    cut = max(head.rfind(b"\n"), head.rfind(b"\r")) + 1
    return head[:cut] if cut else head


def sample_text(head: bytes, encoding: str) -> str:
    """`head` decoded, undecodable bytes replaced, a character cut at the end dropped."""
    codec = ENCODINGS[encoding].codec
    if codec == "utf-8" and head.startswith(UTF8_BOM):
        head = head[len(UTF8_BOM) :]
    decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    return decoder.decode(head, final=len(head) < DETECTION_BYTES)


def sample_lines(text: str, *, complete: bool) -> list[str]:
    """The text's lines (endings kept); the last one dropped unless the text is complete."""
    # newline="": lines end at LF, CRLF or a lone CR, endings kept, as the csv module reads.
    lines = list(io.StringIO(text, newline=""))
    if not complete and len(lines) > 1:
        lines.pop()
    return lines


def detect_delimiter(text: str) -> str:
    """The candidate delimiter that reads `text` (a file's start) most consistently."""
    lines = sample_lines(text, complete=False)
    best, best_score = ",", (0.0, 0)
    for candidate in DELIMITERS:
        records = _sample_records(lines, candidate)
        if not records or len(records[0]) < 2:
            continue
        columns = len(records[0])
        body = records[1:]
        consistent = sum(len(r) == columns for r in body) / len(body) if body else 1.0
        score = (consistent, columns)
        if score > best_score:
            best, best_score = candidate, score
    return best


def _sample_records(lines: list[str], delimiter: str) -> list[list[str]]:
    records: list[list[str]] = []
    try:
        for fields in csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True):
            if any(cell.strip() for cell in fields):
                records.append(fields)
                if len(records) >= _SAMPLE_RECORDS:
                    break
    except csv.Error:
        pass  # a quote left open at the sample's end: judge what was read
    return records
