from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    """DRF's page-number shape (count, next, previous, results) with a client page size."""

    page_size_query_param = "page_size"
    max_page_size = 1000
