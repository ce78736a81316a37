"""Totals and pages for lists of up to millions of products, without slow scans.

Counting: a list is counted exactly up to EXACT_COUNT_LIMIT rows (`SELECT count(*) FROM (...
LIMIT n+1)`, which stops early however broad the filter); beyond that the total is
PostgreSQL's estimate:
`pg_class.reltuples` for the whole table, the planner's row estimate for a filter. Measured at
500,000 rows (bench/products_latency.py, quiet machine / busy machine): an exact count(*) takes
26/50-70 ms for the whole table, 61/120-170 ms for active=true and 250-275/430-760 ms for a
common word in descriptions or the search; the count capped at 1,001 takes 0.2-6/0.3-18 ms.

Fetching a page (CataloguePaginator.page):
- a filtered list with at most EXACT_COUNT_LIMIT matches is read through its filter's index
  (bitmap scan) and sorted: bounded work. The planner would otherwise often walk the sort index
  and filter row by row, hoping to meet 25 matches early; when the matches cluster in sort
  order (name contains "michael", sorted by name) that walked 340,000 rows: 2 s.
- a filtered list with more matches first tries the planner's plan for PLAN_TIMEOUT (with that
  many matches, walking the sort index usually meets 25 of them within a few hundred rows:
  "the" in descriptions, 1 ms), then the bitmap-and-sort plan (clustered matches: "michael"
  in names sorted by name, 12,000 matches, ~40-70 ms).
- a page deep in the list (offset > DEEP_OFFSET) past the middle is read backwards from the end
  (`ORDER BY ... DESC LIMIT n OFFSET total - top`), so the last page costs what page 1 does.
"""

from __future__ import annotations

import json
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db import OperationalError, connections, transaction
from django.db.models import QuerySet

from acme.lib import pg_errors

EXACT_COUNT_LIMIT = 1_000
DEEP_OFFSET = 10_000
PLAN_TIMEOUT = "10ms"


def _planner_estimate(queryset: QuerySet) -> int:
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _table_estimate(queryset: QuerySet) -> int:
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def estimated_count(queryset: QuerySet) -> tuple[int, bool]:
    """(total, exact): exact up to EXACT_COUNT_LIMIT, else an estimate above the limit."""
    capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
    if capped <= EXACT_COUNT_LIMIT:
        return capped, True
    if queryset.query.has_filters():
        estimate = _planner_estimate(queryset)
    else:
        estimate = _table_estimate(queryset)
    return max(estimate, EXACT_COUNT_LIMIT + 1), False


FILTER_INDEX_PLAN = "SET LOCAL enable_indexscan = off"  # bitmap scans of the filter's index


def _read(queryset: QuerySet, bottom: int, top: int, *, setting: str) -> list:
    """Rows [bottom:top) read under a planner `setting`, undone afterwards by rolling back to a
    savepoint, so a caller's transaction (ATOMIC_REQUESTS, tests) never inherits it."""
    using = queryset.db
    with transaction.atomic(using=using):
        savepoint = transaction.savepoint(using=using)
        try:
            with connections[using].cursor() as cursor:
                cursor.execute(setting)
            return list(queryset[bottom:top])
        finally:
            transaction.savepoint_rollback(savepoint, using=using)


def fetch_page(queryset: QuerySet, bottom: int, top: int, *, few_matches: bool) -> list:
    """Rows [bottom:top) of `queryset`, choosing a plan that stays bounded (module notes)."""
    if bottom >= DEEP_OFFSET:
        total = queryset.count()
        if bottom >= total:
            return []
        if bottom > total // 2:
            top = min(top, total)
            return list(reversed(queryset.reverse()[total - top : total - bottom]))
        return list(queryset[bottom:top])
    if not queryset.query.has_filters():
        return list(queryset[bottom:top])
    if few_matches:
        return _read(queryset, bottom, top, setting=FILTER_INDEX_PLAN)
    try:
        return _read(
            queryset, bottom, top, setting=f"SET LOCAL statement_timeout = '{PLAN_TIMEOUT}'"
        )
    except OperationalError as error:
        if not pg_errors.is_query_canceled(error):
            raise
    return _read(queryset, bottom, top, setting=FILTER_INDEX_PLAN)


class CataloguePaginator(Paginator):
    """Django's paginator with `count` from estimated_count() (`count_is_exact` tells which)
    and pages read by fetch_page()."""

    count_is_exact = True

    @cached_property
    def count(self) -> int:
        if not isinstance(self.object_list, QuerySet):
            return super().count
        total, self.count_is_exact = estimated_count(self.object_list)
        return total

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            return super().page(number)
        if str(number) == "1" and "count" not in self.__dict__ and not self.orphans:
            # A short first page is the whole result: its length is the count, so a search
            # that finds a few products reads their index once, not twice.
            rows = fetch_page(self.object_list, 0, self.per_page, few_matches=False)
            if len(rows) < self.per_page:
                self.__dict__["count"] = len(rows)
                self.count_is_exact = True
                return Page(rows, 1, self)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = fetch_page(self.object_list, bottom, top, few_matches=self.count_is_exact)
        return Page(rows, number, self)
