"""Which characters a product's text may hold: the one home of that rule.

Control characters (U+0000 to U+001F and U+007F) are invisible on the pages, break lines in
exports and terminals, and cannot be typed into a search box, so a product holding one
cannot be found or told apart from its look-alike. SKUs and names are single-line text and
refuse all of them; a description is multi-line text and keeps tab, line feed and carriage
return, refusing the others. The model fields carry these validators, so the pages' forms,
the admin and the API refuse such text with a message; imports.csv_records rejects an
import record holding one, naming its line.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

SINGLE_LINE_FORBIDDEN = re.compile("[\x00-\x1f\x7f]")
MULTI_LINE_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The same sets as bytes, for a fast check of raw file chunks: in UTF-8, cp1252 and latin-1
# these characters are these single bytes, and no other character contains them.
MULTI_LINE_FORBIDDEN_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def control_character_problem(value: str, *, multi_line: bool = False) -> str | None:
    """What is wrong with `value` (a message naming the first control character), or None."""
    forbidden = MULTI_LINE_FORBIDDEN if multi_line else SINGLE_LINE_FORBIDDEN
    match = forbidden.search(value)
    if match is None:
        return None
    allowed = " (tab and line breaks are allowed)" if multi_line else ""
    return (
        f"contains the control character U+{ord(match.group()):04X} at position "
        f"{match.start() + 1}; remove it{allowed}"
    )


def validate_single_line_text(value: str) -> None:
    """SKUs and names: no control characters at all."""
    problem = control_character_problem(value or "")
    if problem:
        raise ValidationError(f"This text {problem}.", code="control_character")


def validate_multi_line_text(value: str) -> None:
    """Descriptions: tab, line feed and carriage return, but no other control character."""
    problem = control_character_problem(value or "", multi_line=True)
    if problem:
        raise ValidationError(f"This text {problem}.", code="control_character")
