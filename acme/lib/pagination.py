"""API pagination: page numbers by default, keyset (cursor) pages on request.

Page numbers (`?page=N`) suit people jumping around a list. A client reading a whole list
(a sync, an export) asks for cursor pages instead by sending `cursor` (empty for the first
page): each page is `WHERE id > <last id of the previous page> ORDER BY id LIMIT n`, read
through the primary key, so page 500 costs what page 1 does, and the read is stable while rows
are written meanwhile (a row inserted later gets a higher id and is met at the end, none is
skipped or repeated; a row deleted before its page is read is simply not met). Cursor pages
carry no count and read in id order; an `ordering` with them is refused.
"""

from __future__ import annotations

from typing import Any

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

CURSOR_PARAM = "cursor"
ORDERING_PARAM = "ordering"


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number shape (count, next, previous, results) with a client page size."""

    page_size_query_param = "page_size"
    max_page_size = 1000


class IdCursorPagination(pagination.CursorPagination):
    """DRF's keyset pages in primary-key order (next, previous, results), any page size up to
    PageNumberPagination.max_page_size."""

    ordering = "id"
    cursor_query_param = CURSOR_PARAM
    page_size_query_param = PageNumberPagination.page_size_query_param
    max_page_size = PageNumberPagination.max_page_size


class PageNumberOrCursorPagination(pagination.BasePagination):
    """Page numbers, or keyset pages when the request carries `cursor` (module notes)."""

    page_number_class: type[pagination.BasePagination] = PageNumberPagination
    cursor_class: type[pagination.BasePagination] = IdCursorPagination

    def __init__(self) -> None:
        self.number_pages = self.page_number_class()
        self.cursor_pages = self.cursor_class()
        self.active: pagination.BasePagination = self.number_pages

    def paginate_queryset(self, queryset, request, view=None):
        if CURSOR_PARAM in request.query_params:
            if request.query_params.get(ORDERING_PARAM):
                raise ValidationError(
                    {
                        ORDERING_PARAM: [
                            "Cursor pages are read in id order; leave out ordering, or use "
                            "page numbers to sort."
                        ]
                    }
                )
            self.active = self.cursor_pages
        return self.active.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.active.get_paginated_response(data)

    def get_paginated_response_schema(self, schema: dict) -> dict[str, Any]:
        page_schema = self.number_pages.get_paginated_response_schema(schema)
        page_schema["required"] = ["next", "previous", "results"]
        page_schema["properties"]["count"]["description"] = (
            "Number of matches (page numbers only; cursor pages carry no count)."
        )
        return page_schema

    def get_schema_operation_parameters(self, view) -> list[dict[str, Any]]:
        parameters = self.number_pages.get_schema_operation_parameters(view)
        parameters.append(
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": (
                    "Keyset pages for reading a whole list: send it empty for the first page, "
                    "then follow `next` (it carries the cursor) until it is null. Pages are in "
                    "id order and stable while products are written meanwhile; no `count`; "
                    "`ordering` is refused, `page` ignored, `page_size` and the filters apply."
                ),
                "schema": {"type": "string"},
            }
        )
        return parameters

    def to_html(self):  # the browsable API's pager
        return self.active.to_html()
