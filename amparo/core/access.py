"""The one way a protected read says no (DESIGN.md section 7): "missing" and "forbidden"
answer the same 404, so nobody learns that a record exists by being refused it."""

from __future__ import annotations

from typing import NoReturn

from django.http import Http404


def not_found() -> NoReturn:
    raise Http404("Not found")
