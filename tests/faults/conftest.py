"""Fixtures of the fault injection tests: the run's schema template, a database copied
from it for each test, and a deadline for each test (a module's ``DEADLINE``, seconds)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.faults.support import FaultDatabase, Template, release_template, template_for_run

DEFAULT_DEADLINE = 180  # seconds per test, the schema template excepted


def _run_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory every xdist worker of this run shares (the parent of their own)."""
    base = tmp_path_factory.getbasetemp()
    return base if worker_id == "master" else base.parent


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[Template]:
    root = _run_root(tmp_path_factory, worker_id)
    template = template_for_run(root, worker_id)
    yield template
    release_template(root, template, worker_id)


@pytest.fixture
def fault_db(
    schema_template: Template,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    worker_id: str,
) -> Iterator[FaultDatabase]:
    lock = _run_root(tmp_path_factory, worker_id) / "amparo-faults.lock"
    database = FaultDatabase(schema_template, tmp_path, lock)
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(autouse=True)
def deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test that runs past its module's DEADLINE instead of hanging the run; the
    test's context managers then stop what it started."""
    seconds = getattr(request.module, "DEADLINE", DEFAULT_DEADLINE)

    def expired(_signum: int, _frame: Any) -> None:
        pytest.fail(f"fault test ran past its deadline of {seconds}s", pytrace=True)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
