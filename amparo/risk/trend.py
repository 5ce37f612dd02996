"""Drawing a subject's trend and the likelihood x impact matrix as SVG on the server:
no JavaScript, no inline style (the colours are SVG presentation attributes, which the
strict CSP allows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amparo.risk import method
from amparo.risk.models import LEVEL_OF, ORDER_OF

WIDTH, HEIGHT, PAD = 320, 90, 12
# Readable on light and dark backgrounds.
FILL = {
    method.Level.LOW: "#3f8f4f",
    method.Level.MEDIUM: "#d4a72c",
    method.Level.HIGH: "#d9822b",
    method.Level.VERY_HIGH: "#c0392b",
}
CELL = 44


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    level: str
    fill: str
    label: str


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    points: list[Point]
    polyline: str
    guides: list[tuple[float, str]]


def sparkline(history: list[Any]) -> Sparkline | None:
    """The level of each assessment, oldest to newest, on four bands (low to very
    high). ``history`` holds RiskAssessment rows, oldest first."""
    if not history:
        return None
    span_x = WIDTH - 2 * PAD
    span_y = HEIGHT - 2 * PAD
    points = []
    for i, assessment in enumerate(history):
        order = ORDER_OF[assessment.level]
        x = PAD + (span_x * i / (len(history) - 1) if len(history) > 1 else span_x / 2)
        y = HEIGHT - PAD - span_y * (order - 1) / 3
        level = method.Level(order)
        points.append(
            Point(
                round(x, 1),
                round(y, 1),
                assessment.level,
                FILL[level],
                f"{assessment.assessed_on:%Y-%m-%d}: {LEVEL_OF[level].label}",
            )
        )
    guides = [
        (round(HEIGHT - PAD - span_y * (int(level) - 1) / 3, 1), str(LEVEL_OF[level].label))
        for level in method.Level
    ]
    return Sparkline(
        WIDTH,
        HEIGHT,
        points,
        " ".join(f"{p.x},{p.y}" for p in points),
        guides,
    )


@dataclass(frozen=True)
class Cell:
    x: int
    y: int
    text_x: int
    text_y: int
    likelihood: int
    impact: int
    score: int
    fill: str
    current: bool


def matrix_cells(likelihood: int, impact: int) -> dict[str, Any]:
    """The 5 x 5 grid (likelihood 5 on top, impact 1 on the left), the assessed cell
    marked."""
    cells = []
    for row, line in enumerate(method.matrix_grid()):
        for col, (lk, im, score, level) in enumerate(line):
            x, y = CELL + col * CELL, row * CELL
            cells.append(
                Cell(
                    x,
                    y,
                    x + CELL // 2,
                    y + CELL // 2 + 5,
                    lk,
                    im,
                    score,
                    FILL[level],
                    lk == likelihood and im == impact,
                )
            )
    return {"cells": cells, "size": CELL * 6, "cell": CELL, "axis": CELL * 5}
