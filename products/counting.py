"""Totals for lists of up to millions of products, without slow scans; the paginator using them.

Counting: a list is counted exactly up to EXACT_COUNT_LIMIT rows (`SELECT count(*) FROM (...
LIMIT n+1)`, which stops early however broad the filter); beyond that the total is
PostgreSQL's estimate:
`pg_class.reltuples` for the whole table, the planner's row estimate for a filter. Measured at
500,000 rows (bench/products_latency.py, quiet machine / busy machine): an exact count(*) takes
26/50-70 ms for the whole table, 61/120-170 ms for active=true and 250-275/430-760 ms for a
common word in descriptions or the search; the count capped at 1,001 takes 0.2-6/0.3-18 ms.

Caching: a filtered list's count (a common word: 7-19 ms for the capped count) and the exact
total a deep page needs (21-70 ms for the whole table) are kept in the cache (Redis) with the
PostgreSQL snapshot they were computed in (`pg_current_snapshot()`, read in the same statement
as the count). A request whose statement sees the same snapshot sees exactly the same rows, so
the stored count is its count: no write can be missed, however recent. Any committed write
anywhere on the server changes the snapshot, so after a write the next request counts again.
Paging through one filter's results, or many people opening the same list, counts once. A
request that has itself written (a transaction id assigned) neither reads nor stores.

Pages are read by products/page_plans.py.
"""

from __future__ import annotations

import hashlib
import logging
from functools import cached_property

from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import QuerySet

from products import page_plans

logger = logging.getLogger(__name__)

EXACT_COUNT_LIMIT = 1_000
CACHE_SECONDS = 300
_SNAPSHOT_SQL = "SELECT pg_current_snapshot()::text, pg_current_xact_id_if_assigned() IS NULL"


def _cache_key(kind: str, sql: str, params: tuple) -> str:
    digest = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
    return f"products:count:{kind}:{digest}"


def _cache_get(key: str):
    try:
        return cache.get(key)
    except Exception:  # the cache is an optimisation: without Redis, count
        logger.warning("count cache unavailable", exc_info=True)
        return None


def _cache_set(key: str, value) -> None:
    try:
        cache.set(key, value, CACHE_SECONDS)
    except Exception:
        logger.warning("count cache unavailable", exc_info=True)


def _counted_in_snapshot(queryset: QuerySet, limit: int | None, kind: str) -> int:
    """count(*) of `queryset` (capped at `limit` rows), served from the cache when this
    statement's snapshot is the one it was computed in (module notes)."""
    inner = queryset.order_by().values("pk")
    if limit is not None:
        inner = inner[:limit]
    sql, params = inner.query.sql_with_params()
    key = _cache_key(kind, sql, params)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(_SNAPSHOT_SQL)
        snapshot, read_only = cursor.fetchone()
        if read_only:
            cached = _cache_get(key)
            if cached is not None and cached[0] == snapshot:
                return cached[1]
        cursor.execute(
            f"SELECT pg_current_snapshot()::text, (SELECT count(*) FROM ({sql}) AS listed)",
            params,
        )
        snapshot, total = cursor.fetchone()
    if read_only:
        _cache_set(key, (snapshot, total))
    return int(total)


def exact_count(queryset: QuerySet) -> int:
    """The exact number of rows `queryset` matches (a full count, cached per snapshot)."""
    return _counted_in_snapshot(queryset, None, "exact")


def estimated_count(queryset: QuerySet) -> tuple[int, bool]:
    """(total, exact): exact up to EXACT_COUNT_LIMIT, else an estimate above the limit."""
    if not queryset.query.has_filters():
        # The first 1,001 rows of the table: cheaper than the cache's round trips.
        capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    else:
        capped = _counted_in_snapshot(queryset, EXACT_COUNT_LIMIT + 1, "capped")
    if capped <= EXACT_COUNT_LIMIT:
        return capped, True
    if queryset.query.has_filters():
        estimate = page_plans.planner_estimate(queryset)
    else:
        estimate = page_plans.table_estimate(queryset)
    return max(estimate, EXACT_COUNT_LIMIT + 1), False


class CataloguePaginator(Paginator):
    """Django's paginator with `count` from estimated_count() (`count_is_exact` tells which)
    and pages read by page_plans.fetch_page()."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        total, self.count_is_exact = estimated_count(self.object_list)
        return total

    def _fetch(self, bottom: int, top: int) -> list:
        queryset = self.object_list
        assert isinstance(queryset, QuerySet)
        known = "count" in self.__dict__
        return page_plans.fetch_page(
            queryset,
            bottom,
            top,
            matches=self.count if known else None,
            exact=self.count_is_exact if known else False,
            total=lambda: exact_count(queryset),
        )

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        if str(number) == "1" and "count" not in self.__dict__ and not self.orphans:
            # A short first page is the whole result: its length is the count, so a search
            # that finds a few products reads their index once, not twice.
            rows = self._fetch(0, self.per_page)
            if len(rows) < self.per_page:
                self.__dict__["count"] = len(rows)
                self.count_is_exact = True
            else:
                self.count  # noqa: B018 - a full first page is kept; the pager needs the count
            return Page(rows, 1, self)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return Page(self._fetch(bottom, top), number, self)
