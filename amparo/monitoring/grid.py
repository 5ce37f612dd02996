"""The 10 km grid (DESIGN.md section 7: "points are coarsened to a grid of at least
10 km"). Rows are bands of latitude 10 km tall; each row is cut into cells at least 10 km
wide at the row's edge nearest the pole, where a degree of longitude is shortest, so no
cell anywhere is narrower than 10 km. A point is known outside the coordinators' pages
only as its cell's id and the cell's centre."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

CELL_KM = 10.0
# A little under the length of a degree on the sphere (111.19 km), so cells err large.
KM_PER_DEGREE = 111.0
ROW_DEGREES = CELL_KM / KM_PER_DEGREE


@dataclass(frozen=True)
class Cell:
    row: int
    col: int

    @property
    def id(self) -> str:
        return f"g10:{self.row}:{self.col}"

    @property
    def south(self) -> float:
        return self.row * ROW_DEGREES

    @property
    def north(self) -> float:
        return (self.row + 1) * ROW_DEGREES

    @property
    def width_degrees(self) -> float:
        return _col_degrees(self.row)

    @property
    def west(self) -> float:
        return -180.0 + self.col * self.width_degrees

    @property
    def centre(self) -> tuple[float, float]:
        """(lat, lon) of the cell's centre, rounded to 4 decimals (the id says no more)."""
        lat = (self.south + self.north) / 2
        lon = self.west + self.width_degrees / 2
        return round(lat, 4), round(min(lon, 180.0), 4)


def _col_degrees(row: int) -> float:
    # The row's edge nearest a pole has the shortest degree of longitude.
    edge = max(abs(row * ROW_DEGREES), abs((row + 1) * ROW_DEGREES))
    cos = math.cos(math.radians(min(edge, 89.9)))
    return min(360.0, CELL_KM / (KM_PER_DEGREE * cos))


def cell_of(lat: float, lon: float) -> Cell:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("latitude or longitude out of range")
    row = math.floor(lat / ROW_DEGREES)
    col = math.floor((lon + 180.0) / _col_degrees(row))
    return Cell(row, col)


def parse(cell_id: str) -> Cell:
    prefix, row, col = cell_id.split(":")
    if prefix != "g10":
        raise ValueError(f"not a 10 km cell: {cell_id!r}")
    return Cell(int(row), int(col))


@functools.lru_cache(maxsize=100_000)
def centre_of(cell_id: str) -> tuple[float, float]:
    """The centre of a cell id (cached: the map and the public report ask for the same
    few thousand cells over and over)."""
    return parse(cell_id).centre
