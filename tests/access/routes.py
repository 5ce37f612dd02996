"""Every route Amparo answers, read from the URL configuration and the API's routers:
the pages (``amparo.urls``, walked recursively, the Django admin included) and the API
operations (``amparo.api.api``, one per HTTP method)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from ninja.utils import normalize_path

from amparo.api import api

API_PREFIX = "/api/"
# The URL patterns of ninja's own views (not operations of a router).
NINJA_VIEWS = frozenset({"api:openapi-json", "api:api-root"})
ARGUMENT = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    key: str  # the key of the permission table
    template: str  # "/o/<slug:slug>/alerts/" or "/api/v1/alerts/{alert_id}"
    arguments: tuple[str, ...]
    method: str  # the API operation's method; "" for a page
    callback: Any = None

    @property
    def is_api(self) -> bool:
        return bool(self.method)

    def url(self, values: dict[str, str]) -> str:
        """The route's address with each argument filled from ``values``."""

        missing = [name for name in self.arguments if name not in values]
        assert not missing, (
            f"{self.key} takes {', '.join(missing)}: give a value in tests/access/world.py"
        )
        if self.is_api:
            return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], self.template)
        filled = ARGUMENT.sub(lambda m: values[m.group(1) or m.group(2)], self.template)
        return filled.replace("^", "").replace("$", "")


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Any:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = ":".join(n for n in (namespace, pattern.namespace or "") if n)
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern), pattern, namespace


def _is_ninja_operation(pattern: URLPattern) -> bool:
    return "PathView.get_view" in getattr(pattern.callback, "__qualname__", "")


@cache
def page_routes() -> dict[str, Route]:
    """Route key -> Route for every URL pattern but the API's operations. The key is
    the pattern's name (with its namespace: ``admin:index``), or the pattern itself for
    an unnamed one."""
    routes: dict[str, Route] = {}
    for template, pattern, namespace in _walk(get_resolver().url_patterns, "", ""):
        if _is_ninja_operation(pattern):
            continue
        name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
        key = name or template
        assert key not in routes, f"two routes share the key {key!r}"
        arguments = tuple(a or b for a, b in ARGUMENT.findall(template))
        routes[key] = Route(key, "/" + template, arguments, "", pattern.callback)
    return routes


@cache
def api_routes() -> dict[str, Route]:
    """Route key ("GET /api/v1/alerts/{alert_id}") -> Route for every API operation."""
    routes: dict[str, Route] = {}
    for bound in api._get_bound_routers():
        for path, path_view in bound.path_operations.items():
            route = normalize_path("/".join(i for i in (bound.prefix, path) if i)).lstrip("/")
            template = API_PREFIX + route
            arguments = tuple(re.findall(r"\{(\w+)\}", template))
            for operation in path_view.operations:
                for method in operation.methods:
                    key = f"{method} {template}"
                    assert key not in routes, f"two API operations share {key!r}"
                    routes[key] = Route(key, template, arguments, method, operation)
    return routes


@cache
def api_url_templates() -> frozenset[str]:
    """The API operations' addresses as the URL configuration has them, in the API's
    notation: to check that api_routes() found every one."""
    found = set()
    for template, pattern, _namespace in _walk(get_resolver().url_patterns, "", ""):
        if _is_ninja_operation(pattern):
            found.add("/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", template))
    return frozenset(found)


def all_routes() -> dict[str, Route]:
    return {**page_routes(), **api_routes()}
