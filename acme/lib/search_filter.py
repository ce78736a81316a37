"""DRF's `search` filter, with its 400 answered like every other bad parameter.

DRF's SearchFilter refuses a NUL in the search terms with a bare list
(`["Null characters are not allowed."]`); the API's 400s are objects keyed by the parameter
(the schema says so, and clients read them that way), so its error is keyed by `search`.
"""

from __future__ import annotations

from rest_framework import filters
from rest_framework.exceptions import ValidationError


class SearchFilter(filters.SearchFilter):
    def get_search_terms(self, request):
        try:
            return super().get_search_terms(request)
        except ValidationError as error:
            raise ValidationError({self.search_param: error.detail}) from error
