"""The KPI catalogue covers every "Evaluation (KPIs)" bullet of every line of action of
the reference (issue 8, point 7), read from the copy shipped in monitoring/data."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from amparo.monitoring import kpis

REFERENCE = Path(kpis.__file__).parent / "data" / "reference" / "defenders-safety-guidelines.txt"

STRATEGY = re.compile(r"^STRATEGY NO\. (\d+):")
LINE = re.compile(r"^Line of action no\. (\d+):")
# Strategies 2 to 6 head the bullet "Evaluation (KPIs):"; Strategy 1 varies the words
# ("Evaluation and follow-up (KPIs):", "Evaluation and KPIs:").
KPI_HEADING = re.compile(r"^- \*\*([^*]*KPIs[^*]*):\*\*\s*(.*)$")
# Strategy 1 writes its KPIs as prose: "... through indicators such as a, b, and c."
LIST_START = re.compile(r".*(?:such as|KPIs include|impact through)\s+(.*)$")
SEPARATOR = re.compile(r"\s*[;,]\s*")


def normalise(text: str) -> str:
    text = re.sub(r"^and\s+", "", text.strip(), flags=re.IGNORECASE)
    return " ".join(text.rstrip(".").lower().split())


def kpi_items(text: str) -> list[str]:
    match = LIST_START.match(text.strip())
    listed = match.group(1) if match else text
    return [normalise(part) for part in SEPARATOR.split(listed.strip().rstrip(".")) if part]


def reference_bullets() -> Iterator[tuple[int, int, str, str]]:
    """(strategy, line, line title, bullet) for each item of each KPI heading."""
    strategy = line = None
    title = ""
    expect_title = False
    for raw in REFERENCE.read_text(encoding="utf-8").splitlines():
        if match := STRATEGY.match(raw):
            strategy, line = int(match.group(1)), None
        elif match := LINE.match(raw):
            line, expect_title = int(match.group(1)), True
        elif expect_title and raw.strip():
            title, expect_title = raw.strip(), False
        elif strategy and line and (match := KPI_HEADING.match(raw)):
            for item in kpi_items(match.group(2)):
                yield strategy, line, title, item


def catalogued() -> dict[tuple[int, int, str], list[kpis.Kpi]]:
    found: dict[tuple[int, int, str], list[kpis.Kpi]] = {}
    for kpi in kpis.catalogue():
        for strategy, line in [(kpi.strategy, kpi.line), *kpi.also_under]:
            found.setdefault((strategy, line, normalise(kpi.bullet)), []).append(kpi)
    return found


def test_it_reads_every_kpi_heading_of_the_reference() -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    assert text.count("- **Evaluation (KPIs):**") == 28
    lines = {(s, n) for s, n, _t, _b in reference_bullets()}
    # Six strategies: 9 + 5 + 5 + 5 + 6 + 6 lines of action.
    assert len(lines) == 36


def test_it_covers_every_bullet_of_every_line_of_action() -> None:
    found = catalogued()
    missing = [
        (s, n, bullet) for s, n, _t, bullet in reference_bullets() if (s, n, bullet) not in found
    ]
    assert missing == []


def test_it_names_each_line_of_action_as_the_reference_does() -> None:
    titles = {(s, n): t for s, n, t, _b in reference_bullets()}
    for kpi in kpis.catalogue():
        assert kpi.line_title == titles[(kpi.strategy, kpi.line)], kpi.id


def test_it_lists_no_bullet_the_reference_does_not_have() -> None:
    bullets = {(s, n, b) for s, n, _t, b in reference_bullets()}
    extra = [key for key in catalogued() if key not in bullets]
    assert extra == []


def test_it_gives_every_computed_kpi_a_function_and_every_kpi_a_unit() -> None:
    ids = [kpi.id for kpi in kpis.catalogue()]
    assert len(ids) == len(set(ids))
    for kpi in kpis.catalogue():
        assert kpi.unit in kpis.UNITS, kpi.id
        assert kpi.name and kpi.bullet
        if kpi.method == kpis.Method.COMPUTED:
            assert callable(kpis.COMPUTED[kpi.function]), kpi.id
        else:
            assert kpi.method == kpis.Method.ENTERED
            assert kpi.function == ""
    assert set(kpis.COMPUTED) == {k.function for k in kpis.catalogue() if k.function}
