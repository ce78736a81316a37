"""Times typed by clients (filters, forms), normalised to UTC before they reach a query.

ISO 8601 and Python allow UTC offsets up to 23:59; PostgreSQL refuses a timestamptz literal
whose offset is past 15:59 ("time zone displacement out of range"), so a time passed on with
its offset as written answered 500. Normalised to UTC it is the same instant and always
storable; a time that has no UTC equivalent in Python's range (year 1 east of Greenwich) is a
validation error on its own field.
"""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

OUT_OF_RANGE = "This time is out of range once expressed in UTC."


def to_utc(value: datetime | None) -> datetime | None:
    """`value` as the same instant in UTC; naive values were made aware by the field already."""
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise ValidationError(OUT_OF_RANGE, code="out_of_range") from error


class InstantFormField(forms.DateTimeField):
    """A form's date and time, in the site's time zone when typed without an offset."""

    def to_python(self, value):
        return to_utc(super().to_python(value))


class InstantFilterField(IsoDateTimeField):
    def to_python(self, value):
        return to_utc(super().to_python(value))


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time filter that compares in UTC (see the module docstring)."""

    field_class = InstantFilterField
