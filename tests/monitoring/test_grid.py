"""The 10 km grid: every cell is at least 10 km on each side, a point lies in its cell,
and the centre is all that leaves it."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from amparo.monitoring import grid


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6371.0088
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


lats = st.floats(min_value=-80, max_value=80, allow_nan=False)
lons = st.floats(min_value=-180, max_value=179.99, allow_nan=False)


@given(lats, lons)
def test_a_point_lies_in_its_cell(lat, lon):
    cell = grid.cell_of(lat, lon)
    assert cell.south <= lat < cell.north + 1e-9
    assert cell.west <= lon < cell.west + cell.width_degrees + 1e-9
    assert grid.parse(cell.id) == cell


@given(lats, lons)
def test_every_cell_is_at_least_10_km_each_way(lat, lon):
    cell = grid.cell_of(lat, lon)
    # Height, and width along both the northern and the southern edge.
    assert km_between(cell.south, cell.west, cell.north, cell.west) >= 10.0
    for edge in (cell.south, cell.north):
        width = km_between(edge, cell.west, edge, cell.west + cell.width_degrees)
        assert width >= 10.0


def test_madre_de_dios_worked_example():
    # Puerto Maldonado: two points 2 km apart share a cell; its centre is what is shown.
    a = grid.cell_of(-12.5933, -69.1891)
    b = grid.cell_of(-12.6000, -69.1800)
    assert a == b or km_between(-12.5933, -69.1891, -12.6, -69.18) < 10
    lat, lon = grid.centre_of(a.id)
    assert km_between(lat, lon, -12.5933, -69.1891) < 10


def test_out_of_range_is_refused():
    import pytest

    with pytest.raises(ValueError):
        grid.cell_of(91, 0)
