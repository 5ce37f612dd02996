"""A task that does nothing, for the fault tests to see that a worker's task queue thread
still takes tasks after its database went away and came back."""

from __future__ import annotations

from django_tasks import task


@task()
def probe() -> str:
    return "alive"
