"""Reading one page of a catalogue list with bounded work, at 500,000 products and beyond.

A page is rows [bottom:top) of a filtered list in a sort order that ends in a unique key
(products/filters.py ORDERINGS). Two plans can serve a filtered page:

- walk: read the sort's btree index in order, test each row against the filter, stop after
  `top` matches. Work ~ rows walked: top x (table rows / matches) when the matches are spread
  through the sort order. Cheap for common terms ("the" in descriptions: 1-2 rows per match).
- bitmap: collect every match through the filter's index (trigram GIN, the inactive partial
  index), then keep the first `top` in sort order (top-N sort). Work ~ matches. Right for rare
  terms, and for matches that cluster in the sort order: names containing "michael", sorted
  by name, sit together in the middle of the name order (the Michaels), so a walk meets
  340,000 other rows first (2.6 s at load 8); the bitmap reads the 12,000 matches (~20 ms of
  database CPU, bench/products_cpu.py).

PostgreSQL's planner picks the walk whenever it expects `top` matches early, assuming they are
spread evenly; clustering defeats that assumption and nothing in the statistics shows it. So
the choice is made here, from the planner's estimate of matches (planner statistics on the
lower(...) expressions, which the trigram indexes' expression statistics provide):

1. expected walk = top x table rows / estimated matches. Above WALK_ROWS_MAX, or above the
   estimated matches (which the bitmap reads at least): bitmap.
2. Otherwise a bounded walk (bitmap scans off for that statement): the list restricted to the
   first `budget` rows of the sort order (budget = WALK_SLACK x expected walk, at least
   WALK_ROWS_MIN), by a range condition on the sort key up to the budget-th row, which is
   found by reading the sort index alone. The walk cannot go past it: clustered matches cost
   at most the budget. It reads ids first, so a filter on the sort index's own columns (name
   contains, sorted by name: the default list) reads that index alone, then the page's rows by
   id. If it held `top` matches, they are the page (the range is a prefix of the sort order);
   else
3. the bitmap plan (plain index scans off for that one statement).

An unfiltered list walks its sort index. A page deep in a list (bottom >= DEEP_OFFSET) past
the middle is read backwards from the end (`ORDER BY ... DESC`), so the last page costs what
page 1 does; that needs the exact total (counting.exact_count, cached per snapshot).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from django.db import connections, transaction
from django.db.models import F, OrderBy, Q, QuerySet

DEEP_OFFSET = 10_000
WALK_ROWS_MAX = 20_000
WALK_ROWS_MIN = 2_000
WALK_SLACK = 4
BITMAP_PLAN = "SET LOCAL enable_indexscan = off"
# The walk itself, not a bitmap of every match ANDed with the range (which costs what the
# bitmap plan does, and then the bitmap plan runs as well when the walk comes up short).
WALK_PLAN = "SET LOCAL enable_bitmapscan = off"


def planner_estimate(queryset: QuerySet) -> int:
    """PostgreSQL's estimate of the rows `queryset` matches (EXPLAIN, no execution)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def table_estimate(queryset: QuerySet) -> int:
    """pg_class.reltuples of the list's table (-1 before its first ANALYZE)."""
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
            [queryset.model._meta.db_table],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def _read_with(queryset: QuerySet, bottom: int, top: int, *, setting: str) -> list:
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


def _sort_keys(queryset: QuerySet) -> list[OrderBy]:
    """The list's ORDER BY as expressions (its own order, else the model's)."""
    order_by: Sequence = queryset.query.order_by or queryset.model._meta.ordering
    keys = []
    for item in order_by:
        if isinstance(item, OrderBy):
            key = item.copy()
        elif isinstance(item, str):
            key = OrderBy(F(item.lstrip("-")), descending=item.startswith("-"))
        else:
            raise TypeError(f"cannot bound a walk over the sort key {item!r}")
        if not queryset.query.standard_ordering:  # queryset.reverse()
            key.descending = not key.descending
        keys.append(key)
    return keys


def _prefix_condition(queryset: QuerySet, budget: int) -> Callable[[QuerySet], QuerySet] | None:
    """A filter keeping the first `budget` rows of the list's sort order (None: the table
    has fewer). The sort is on one unique key, or on (key, unique id): `key <= last AND
    (key < last OR id <= last_id)`, whose first part bounds the index scan."""
    keys = _sort_keys(queryset)
    descending = {key.descending for key in keys}
    if len(descending) != 1 or len(keys) > 2:
        return None
    aliases = {f"sort_key_{index}": key.expression for index, key in enumerate(keys)}
    unfiltered = queryset.model._default_manager.using(queryset.db).annotate(**aliases)
    # The budget-th row of the sort order, read from the sort index (index-only for name,
    # updated_at: the btrees hold (key, id)).
    last = list(unfiltered.order_by(*keys).values_list(*aliases)[budget - 1 : budget])
    if not last:
        return None
    values = last[0]
    after, strictly_after = ("gte", "gt") if descending.pop() else ("lte", "lt")
    names = list(aliases)
    condition = Q(**{f"{names[0]}__{after}": values[0]})
    if len(names) == 2:
        condition &= Q(**{f"{names[0]}__{strictly_after}": values[0]}) | Q(
            **{f"{names[1]}__{after}": values[1]}
        )

    def restrict(filtered: QuerySet) -> QuerySet:
        return filtered.alias(**aliases).filter(condition)

    return restrict


def _read_filtered(queryset: QuerySet, bottom: int, top: int, matches: int | None) -> list:
    """A filtered page, walking or through the filter's index (module notes)."""
    if matches is None:
        matches = planner_estimate(queryset)
    table_rows = table_estimate(queryset)
    expected_walk = top * table_rows / max(matches, 1)
    # The bitmap reads every match at least: walk only when that is more than the walk is
    # expected to read (names containing "michael" AND inactive, 1,200 matches, sorted by
    # -name: a walk expects 10,000 rows, the bitmap reads the 12,000 names' matches anyway).
    if table_rows > 0 and expected_walk <= min(WALK_ROWS_MAX, matches):
        budget = max(WALK_ROWS_MIN, int(WALK_SLACK * expected_walk))
        restrict = _prefix_condition(queryset, budget)
        if restrict is None:  # the table is smaller than the budget: any walk is bounded
            return list(queryset[bottom:top])
        # Ids first: when the filter needs only the sort index's columns (name contains,
        # sorted by name: the default list) the walk reads that index alone, no table rows.
        ids = _read_with(
            restrict(queryset).values_list("pk", flat=True), bottom, top, setting=WALK_PLAN
        )
        if len(ids) == top - bottom:
            found = {row.pk: row for row in queryset.order_by().filter(pk__in=ids)}
            return [found[pk] for pk in ids if pk in found]
    return _read_with(queryset, bottom, top, setting=BITMAP_PLAN)


def fetch_page(
    queryset: QuerySet,
    bottom: int,
    top: int,
    *,
    matches: int | None,
    exact: bool,
    total: Callable[[], int],
) -> list:
    """Rows [bottom:top) of `queryset`, by a plan that stays bounded (module notes).

    `matches`: the list's count if known, `exact` whether it is exact (None, False: the
    planner is asked). `total`: the exact count, asked only for a page deep in the list."""
    backwards = False
    if bottom >= DEEP_OFFSET:
        everything = total()
        if bottom >= everything:
            return []
        if bottom > everything // 2:
            top = min(top, everything)
            queryset, bottom, top = queryset.reverse(), everything - top, everything - bottom
            backwards = True
    if not queryset.query.has_filters():
        rows = list(queryset[bottom:top])
    elif exact and matches is not None:  # few matches (counted exactly): through the index
        rows = _read_with(queryset, bottom, top, setting=BITMAP_PLAN)
    else:
        rows = _read_filtered(queryset, bottom, top, matches)
    return rows[::-1] if backwards else rows
