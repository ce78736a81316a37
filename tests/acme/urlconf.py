"""Every route of the URLconf (pages, the API router, the admin), as concrete paths."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver

PLACEHOLDER = re.compile(r"<(?:\w+:)?(\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def walk(patterns=None, prefix: str = "") -> Iterator[str]:
    """Each route as written (`imports/<int:pk>/`, `api/^imports/(?P<pk>[^/.]+)/$`)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if "format" in route:
            continue  # DRF's .json/.api suffix variants of the same views
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route


def concrete(route: str, value: Callable[[str, str], str] = lambda route, name: "1") -> str:
    """A path for a route: each parameter becomes value(route, its name); regex anchors
    (DRF's router) are dropped."""

    def fill(match: re.Match) -> str:
        return value(route, match.group(1))

    path = PLACEHOLDER.sub(fill, REGEX_GROUP.sub(fill, route))
    return path.replace("^", "").replace("$", "")
