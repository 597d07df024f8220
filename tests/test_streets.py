"""Real streets: OpenStreetMap XML and GraphML, one-way streets, speeds, hours, components.

Every network is written by hand in ``tmp_path``. Nodes sit at cell centres of a grid of
100 m cells whose south-west corner is at longitude/latitude 0/0, so each cell snaps to a
known node (the equirectangular projection of ``data.coords = "lonlat"`` is inverted exactly).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.model
from sim.api import build_model, incidents_table
from sim.calls import M_PER_DEG_LAT, M_PER_DEG_LON
from sim.city import travel_for
from sim.datafile import DataError, DataWarning
from sim.osm import read_network
from sim.params import ScenarioError
from sim.scenario import load_scenario
from sim.street_speeds import MILES_TO_KM, parse_maxspeed
from sim.streets import CAR_MIN_PER_M, REFERENCE_KPH, GraphTravelField, load_graphml
from sim.travel import ManhattanField, TravelField

CELL = 100.0
# node id -> (x, y) in metres from the grid's corner; cell (i, j) has its centre at
# (100 i + 50, 100 j + 50).
NODES = {1: (50, 50), 2: (150, 50), 3: (250, 50), 4: (350, 50),
         5: (50, 150), 6: (150, 150), 7: (250, 150), 8: (350, 150),
         20: (450, 50), 21: (450, 150)}
WAYS = [
    (10, [1, 2], {"highway": "primary", "oneway": "yes", "maxspeed": "30 mph"}),  # A -> B only
    (11, [2, 6, 5, 1], {"highway": "residential"}),  # B back to A: 300 m at 30 km/h
    (12, [2, 3, 4], {"highway": "primary"}),  # no maxspeed: the class's 50 km/h
    (13, [6, 7, 8], {"highway": "residential"}),
    (14, [4, 8], {"highway": "secondary", "maxspeed": "50"}),
    (15, [20, 21], {"highway": "residential"}),  # the island
    (16, [1, 6], {"highway": "footway"}),  # not for cars
]


def lonlat(x: float, y: float) -> tuple[float, float]:
    return x / M_PER_DEG_LON, y / M_PER_DEG_LAT


def write_osm(path, nodes=NODES, ways=WAYS):
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', '<osm version="0.6" generator="test">']
    for nid, (x, y) in nodes.items():
        lon, lat = lonlat(x, y)
        lines.append(f'  <node id="{nid}" lat="{lat!r}" lon="{lon!r}"/>')
    for wid, refs, tags in ways:
        lines.append(f'  <way id="{wid}">')
        lines += [f'    <nd ref="{r}"/>' for r in refs]
        lines += [f'    <tag k="{k}" v="{v}"/>' for k, v in tags.items()]
        lines.append("  </way>")
    lines.append("</osm>")
    path.write_text("\n".join(lines))
    return path


def scenario(path, width=5, height=2, **more):
    values = {"city.width": width, "city.height": height, "city.community_cells": 1,
              "city.cell_size_m": CELL, "city.precincts_y": 1, "police.officers": 2,
              "residents.agents": 10, "data.coords": "lonlat",
              "data.streets_graphml": str(path)}
    values.update({k.replace("__", "."): v for k, v in more.items()})
    return load_scenario(None, values)


def cell(x: int, y: int, height: int = 2) -> int:
    return x * height + y


def osm_field(tmp_path, **more) -> GraphTravelField:
    sc = scenario(write_osm(tmp_path / "city.osm"), **more)
    with pytest.warns(DataWarning):
        return load_graphml(sc.data, sc.city, sc.streets)


def osm_lengths(path) -> dict[tuple[int, int], float]:
    """Edge lengths (m) as osmnx measures them, before simplification."""
    import osmnx as ox

    g = ox.graph_from_xml(path, simplify=False, retain_all=True)
    return {(u, v): d["length"] for u, v, d in g.edges(data=True)}


# -- direction ------------------------------------------------------------------------------
def test_one_way_street_a_to_b_differs_from_b_to_a(tmp_path):
    field = osm_field(tmp_path)
    length = osm_lengths(tmp_path / "city.osm")
    a, b = cell(0, 0), cell(1, 0)
    a_to_b = length[1, 2] * REFERENCE_KPH / (30 * MILES_TO_KM)
    b_to_a = (length[2, 6] + length[6, 5] + length[5, 1]) * REFERENCE_KPH / 30.0
    assert field.directed
    assert field.between(a, b) == pytest.approx(a_to_b, rel=1e-9)
    assert field.between(b, a) == pytest.approx(b_to_a, rel=1e-9)
    # to_target(target, sources) runs from each source to the target
    np.testing.assert_allclose(field.to_target(b, np.array([a, b])), [a_to_b, 0.0], rtol=1e-9)
    np.testing.assert_allclose(field.to_target(a, np.array([b])), [b_to_a], rtol=1e-9)
    np.testing.assert_allclose(field.to_field(b)[[a]], [a_to_b], rtol=1e-9)
    # walking ignores one-way signs and speeds: plain metres the short way, both ways
    assert field.walk.between(b, a) == pytest.approx(length[1, 2], rel=1e-9)
    assert field.walk.between(a, b) == pytest.approx(length[1, 2], rel=1e-9)


def test_directed_graphml_is_one_way_and_undirected_stays_two_way(tmp_path):
    def triangle(graph: nx.Graph, name: str) -> GraphTravelField:
        for k, (x, y) in enumerate([(50, 50), (150, 50), (150, 150)]):
            graph.add_node(str(k), x=float(x), y=float(y))
        for a, b in [("0", "1"), ("1", "2"), ("2", "0")]:
            graph.add_edge(a, b, length=100.0)
        nx.write_graphml(graph, tmp_path / name)
        sc = scenario(tmp_path / name, width=2, height=2, data__coords="xy")
        return load_graphml(sc.data, sc.city)

    one_way = triangle(nx.DiGraph(), "d.graphml")
    assert one_way.between(cell(0, 0), cell(1, 0)) == pytest.approx(100.0)
    assert one_way.between(cell(1, 0), cell(0, 0)) == pytest.approx(200.0)
    two_way = triangle(nx.Graph(), "u.graphml")
    assert not two_way.directed
    assert two_way.between(cell(1, 0), cell(0, 0)) == pytest.approx(100.0)
    cells = np.arange(4)
    np.testing.assert_array_equal(two_way.to_target(0, cells), two_way.to_cells(0, cells))


def test_grid_fields_are_undirected_and_check_only_the_masked_cells():
    grid = ManhattanField(3, 2, 100.0)
    np.testing.assert_array_equal(grid.to_target(4, np.arange(6)), grid.to_cells(4, np.arange(6)))
    g = nx.Graph()
    g.add_nodes_from(range(4))
    g.add_edge(0, 1, weight=1.0)  # cells 2 and 3 cut off
    field = TravelField(g, 4)
    field.check_connected([0], cells=np.array([True, True, False, False]))
    with pytest.raises(ValueError, match="not connected"):
        field.check_connected([0])


# -- speeds ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("tag", "kmh"), [
    ("30 mph", 30 * MILES_TO_KM), ("50", 50.0), ("50 km/h", 50.0), ("50kmh", 50.0),
    ("50|30", 40.0), (["30", "50"], 40.0), ("['30', '20 mph']", (30 + 20 * MILES_TO_KM) / 2),
    ("RU:urban", 60.0), ("none", None), ("signals", None), ("", None), (None, None),
])
def test_maxspeed_follows_osmnx(tag, kmh):
    got = parse_maxspeed(tag)
    assert got == (None if kmh is None else pytest.approx(kmh))


def test_speeds_from_maxspeed_and_from_road_class(tmp_path):
    field = osm_field(tmp_path)
    length = osm_lengths(tmp_path / "city.osm")
    b, d, h = cell(1, 0), cell(3, 0), cell(3, 1)
    primary = (length[2, 3] + length[3, 4]) * REFERENCE_KPH / 50.0  # class default
    assert field.between(b, d) == pytest.approx(primary, rel=1e-9)
    assert field.between(d, h) == pytest.approx(length[4, 8] * REFERENCE_KPH / 50.0, rel=1e-9)
    faster = osm_field(tmp_path, streets__speed_primary_kmh=60.0)
    assert faster.between(b, d) == pytest.approx(primary * 50 / 60, rel=1e-9)
    # the maxspeed tag wins over the class's speed
    assert faster.between(cell(0, 0), b) == pytest.approx(field.between(cell(0, 0), b))
    response = osm_field(tmp_path, streets__response_speed_factor=2.0)
    assert response.between(b, d) == pytest.approx(primary / 2, rel=1e-9)
    assert response.walk.between(b, d) == pytest.approx(field.walk.between(b, d))


def test_speed_attribute_is_km_per_hour_as_is(tmp_path):
    g = nx.Graph()
    g.add_node("a", x=50.0, y=50.0)
    g.add_node("b", x=150.0, y=50.0)
    g.add_edge("a", "b", length=100.0, speed_kph=60.0, highway="residential", maxspeed="20")
    nx.write_graphml(g, tmp_path / "s.graphml")
    sc = scenario(tmp_path / "s.graphml", width=2, height=1, data__coords="xy")
    field = load_graphml(sc.data, sc.city, sc.streets)
    assert field.between(0, 1) * CAR_MIN_PER_M == pytest.approx(100.0 / 60_000 * 60, rel=1e-12)


def street_model(tmp_path, **more):
    sc = scenario(write_osm(tmp_path / "city.osm"), **more)
    with pytest.warns(DataWarning):
        model = build_model(sc, days=1)
    f = model.force
    f.vehicle[:] = [True, False]
    f.min_per_m[1] = 60.0 / (sc.police.speed_foot_kmh * 1000.0)
    f.turnout[:] = 1.0
    return model


def test_a_car_takes_length_over_speed_exactly(tmp_path):
    model = street_model(tmp_path)
    length = osm_lengths(tmp_path / "city.osm")
    a, b = cell(0, 0), cell(1, 0)
    d = model.dispatcher
    model.force.place(np.array([0, 1]), np.array([a, a]))
    times = [d.travel_one(i, b) for i in (0, 1)]
    car = 1.0 + length[1, 2] / (30 * MILES_TO_KM * 1000.0) * 60.0
    walk = 1.0 + length[1, 2] / (5.0 * 1000.0) * 60.0
    assert times[0] == pytest.approx(car, rel=1e-12, abs=0)
    assert times[1] == pytest.approx(walk, rel=1e-12, abs=0)
    # the search for the nearest: the car exact; the walker, slower, need not be searched
    search = d.travel_times(np.array([0, 1]), b)
    assert search[0] == times[0] and search[1] in (times[1], np.inf)
    # back the other way the car takes the residential loop at 30 km/h; the walker does not
    model.force.place(np.array([0, 1]), np.array([b, b]))
    back = [d.travel_one(i, a) for i in (0, 1)]
    loop = length[2, 6] + length[6, 5] + length[5, 1]
    assert back[0] == pytest.approx(1.0 + loop / 30_000.0 * 60.0, rel=1e-12, abs=0)
    assert back[1] == pytest.approx(walk, rel=1e-12, abs=0)


# -- the hour of day ------------------------------------------------------------------------
FACTORS = ",".join(["1"] * 7 + ["0.5"] * 3 + ["1"] * 14)  # half speed 07:00-09:59


def test_hour_factors_slow_cars_at_their_hours_only(tmp_path):
    model = street_model(tmp_path, streets__hour_speed_factors=FACTORS)
    model.travel.hour_factors = model.config.streets.hour_factors()  # as travel_for does
    a, b = cell(0, 0), cell(1, 0)
    model.force.place(np.array([0, 1]), np.array([a, a]))
    desk = model.dispatcher.desk

    def at(hour: float) -> np.ndarray:
        model.dispatcher.desk = dataclasses.replace(desk, clock=lambda: hour * 60.0)
        return model.dispatcher.travel_times(np.array([0, 1]), b) - 1.0  # minus turnout

    base = at(6.99)
    for hour in (7.0, 8.5, 9.99, 31.0):  # 31 h = 07:00 on day 1
        np.testing.assert_allclose(at(hour), [2 * base[0], base[1]], rtol=1e-12)
    for hour in (0.0, 10.0, 23.99, 34.0):
        np.testing.assert_allclose(at(hour), base, rtol=1e-12)


def test_travel_for_applies_the_streets_section(tmp_path):
    sc = scenario(write_osm(tmp_path / "city.osm"), streets__hour_speed_factors=FACTORS)
    with pytest.warns(DataWarning):
        model = build_model(sc, days=1)
    with pytest.warns(DataWarning):
        field = travel_for(sc.city, sc.data, model.layout, sc.streets)
    assert field.car_speed(8 * 60.0) == 0.5 and field.car_speed(12 * 60.0) == 1.0
    grid = travel_for(sc.city, dataclasses.replace(sc.data, streets_graphml=""), model.layout,
                      sc.streets)
    assert grid.car_speed(7 * 60.0) == 0.5 and grid.walk is None


def test_hour_factors_change_response_times_on_the_grid(monkeypatch, tiny):
    """A whole run: until 07:00 both runs are the same; the first car sent at 07:xx is slower.

    ``[streets]`` reaches the model's travel field through ``travel_for`` (patched here in
    case the model does not pass the section yet).
    """
    real = travel_for
    values = {"incidents.rate_per_1000_day": 40.0, "police.officers": 6,
              "police.vehicle_share_station": 1.0, "police.vehicle_share_community": 1.0}

    def incidents(factors: str):
        sc = tiny(values, streets__hour_speed_factors=factors)
        monkeypatch.setattr(sim.model, "travel_for",
                            lambda c, d, lay, s=None: real(c, d, lay, sc.streets))
        model = build_model(sc, seed=3, days=1)
        model.run_days(1)
        return incidents_table(model)

    plain, slow = incidents(""), incidents(FACTORS)
    assert len(plain) > 20
    sent = plain["t_dispatch"].notna() & (plain["travel_time"] > 1.0)
    before = sent & (plain["t_dispatch"] < 7 * 60)
    assert before.sum() > 3
    np.testing.assert_allclose(slow.loc[before, "travel_time"], plain.loc[before, "travel_time"])
    first = (sent & (plain["t_dispatch"] >= 7 * 60)).idxmax()
    assert 7 * 60 <= plain.loc[first, "t_dispatch"] < 10 * 60
    turnout = 1.0
    assert slow.loc[first, "travel_time"] - turnout == pytest.approx(
        2 * (plain.loc[first, "travel_time"] - turnout))


@pytest.mark.parametrize(("text", "expect"), [
    ("1,2", "expected 24 comma-separated numbers"),
    (",".join(["1"] * 23 + ["fast"]), "hour 23 is not a number"),
    (",".join(["1"] * 23 + ["0"]), "hour 23 must be a finite number > 0"),
    (",".join(["nan"] * 24), "hour 0 must be a finite number > 0"),
])
def test_hour_factors_are_checked_in_one_line(text, expect):
    with pytest.raises(ScenarioError) as info:
        load_scenario(None, {"streets.hour_speed_factors": text})
    msg = str(info.value)
    assert msg.startswith("streets.hour_speed_factors: ") and expect in msg and "\n" not in msg


# -- components -----------------------------------------------------------------------------
def test_the_island_is_dropped_with_a_warning(tmp_path):
    sc = scenario(write_osm(tmp_path / "city.osm"))
    with pytest.warns(DataWarning) as caught:
        field = load_graphml(sc.data, sc.city, sc.streets)
    messages = [str(w.message) for w in caught]
    assert any(m.startswith("data.streets_graphml: dropped 2 of ") and "not for cars" in m
               for m in messages)
    island = [m for m in messages if "largest strongly connected part" in m]
    assert len(island) == 1 and "\n" not in island[0]
    assert "dropped 2 of 10 nodes, 2 of " in island[0] and "(0.10 km of street)" in island[0]
    # the island's cells snap to the kept network, 100 m away, and can be reached
    for y in (0, 1):
        assert field.offset_m[cell(4, y)] == pytest.approx(100.0, abs=1e-6)
        assert np.isfinite(field.from_cell(cell(0, 0))).all()
        assert np.isfinite(field.to_field(cell(4, y))).all()


def test_a_disconnected_graphml_is_no_longer_refused(tmp_path):
    g = nx.Graph()
    for k in range(4):
        g.add_node(str(k), x=50.0 + 100 * k, y=50.0)
    g.add_edge("0", "1")
    g.add_edge("2", "3")
    g.add_node("9", x=50.0, y=60.0)
    nx.write_graphml(g, tmp_path / "s.graphml")
    sc = scenario(tmp_path / "s.graphml", width=4, height=1, data__coords="xy")
    with pytest.warns(DataWarning, match=r"^data\.streets_graphml: kept the largest connected "
                      r"part .* dropped 3 of 5 nodes, 1 of 2 edges \(0\.10 km"):
        field = load_graphml(sc.data, sc.city, sc.streets)
    assert np.isfinite(field.from_cell(3)).all()


def test_no_street_at_all_is_one_line(tmp_path):
    g = nx.Graph()
    g.add_node("a", x=50.0, y=50.0)
    g.add_node("b", x=150.0, y=50.0)
    nx.write_graphml(g, tmp_path / "s.graphml")
    sc = scenario(tmp_path / "s.graphml", width=2, height=1, data__coords="xy")
    with pytest.raises(DataError, match=r"^data\.streets_graphml: no two street nodes are "
                       r"connected"):
        load_graphml(sc.data, sc.city, sc.streets)


# -- files and coordinates ------------------------------------------------------------------
def test_osm_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.osm"
    bad.write_text('<?xml version="1.0"?><osm><node id="1" lat="0" lon="0"/>')
    sc = scenario(bad)
    with pytest.raises(DataError, match=r"^data\.streets_graphml: .* is not XML"):
        load_graphml(sc.data, sc.city, sc.streets)
    only = write_osm(tmp_path / "foot.osm", ways=[(1, [1, 2], {"building": "yes"}),
                                                   (2, [2, 3], {"highway": "footway"})])
    sc = scenario(only)
    with pytest.warns(DataWarning), pytest.raises(DataError, match="has no streets for cars"):
        load_graphml(sc.data, sc.city, sc.streets)


def test_osmnx_graphml_reads_like_the_osm_file(tmp_path):
    import osmnx as ox

    g, crs = read_network(write_osm(tmp_path / "city.osm"), ())
    assert crs == "EPSG:4326"
    ox.save_graphml(g, tmp_path / "saved.graphml")
    direct = osm_field(tmp_path)
    sc = scenario(tmp_path / "saved.graphml", data__coords="xy")  # the file's crs decides
    with pytest.warns(DataWarning):
        saved = load_graphml(sc.data, sc.city, sc.streets)
    assert saved.directed
    for src in (0, 2, 5):
        np.testing.assert_allclose(saved.from_cell(src), direct.from_cell(src), rtol=1e-9)


def test_a_real_city_frame_places_the_nodes(tmp_path):
    from sim.geo import Frame

    utm = "EPSG:32631"
    from pyproj import Transformer

    x0, y0 = Transformer.from_crs("EPSG:4326", utm, always_xy=True).transform(0.0, 0.0)
    frame = Frame(utm, x0, y0, CELL, 5, 2)
    sc = scenario(write_osm(tmp_path / "city.osm"))
    with pytest.warns(DataWarning):
        real = load_graphml(sc.data, sc.city, sc.streets, frame)
    plain = osm_field(tmp_path)
    np.testing.assert_array_equal(real.node_of_cell, plain.node_of_cell)
    # UTM vs the equirectangular projection near (0, 0): within a metre (the island's cells,
    # x = 4, snap 100 m away)
    assert real.offset_m[: cell(4, 0)].max() < 1.0
    assert real.between(0, 2) == pytest.approx(plain.between(0, 2), abs=1.0)


def test_segments_are_the_streets_in_cell_coordinates(tmp_path):
    field = osm_field(tmp_path)
    seg = field.segments()
    assert seg.ndim == 3 and seg.shape[1:] == (2, 2)
    # the one-way A -> B is one segment from cell (0, 0) to cell (1, 0)
    ends = {tuple(np.round(s, 6).ravel()) for s in seg}
    assert (0.0, 0.0, 1.0, 0.0) in ends or (1.0, 0.0, 0.0, 0.0) in ends
    # every kept street, drawn once: B-C-D is one simplified edge of two pieces, etc.
    pieces = {frozenset([tuple(np.round(p, 6)) for p in s]) for s in seg}
    assert len(pieces) == len(seg)
    assert frozenset([(4.0, 0.0), (4.0, 1.0)]) not in pieces  # the island is not drawn
    assert math.isclose(seg[:, :, 0].max(), 3.0) and seg[:, :, 1].max() == pytest.approx(1.0)


@pytest.mark.filterwarnings("ignore::sim.datafile.DataWarning")
def test_the_nearest_search_changes_no_choice(monkeypatch):
    """A run with the search that stops at the nearest unit equals, table for table, one in
    which every unit's minutes come from a whole search (replay preset, cars and walkers)."""
    import sim.travel

    sc = load_scenario("replay_synthetic", {"run.days": 2})

    def run():
        model = build_model(sc, seed=5, days=2)
        model.run_days(2)
        return incidents_table(model)

    fast = run()

    def every_unit(field, officers, idx, pos, cell, speed):
        foot = ~officers.vehicle[idx]
        dist = np.where(foot, field.walk.to_target(cell, pos), field.to_target(cell, pos))
        return officers.travel_minutes(idx, dist, field.car_min_per_m, speed)

    monkeypatch.setattr(sim.travel, "_nearest_search", every_unit)
    exact = run()
    assert fast["t_dispatch"].notna().sum() > 100
    pd.testing.assert_frame_equal(fast, exact)


@pytest.mark.filterwarnings("ignore::sim.datafile.DataWarning")
@pytest.mark.parametrize("whole", [True, False])
def test_the_search_for_the_nearest_agrees_with_each_officer_s_exact_time(monkeypatch, whole):
    """Cars and walkers anywhere on the replay's network: the nearest and their minutes are
    those of each officer's own exact time (ties to the lower index); a time the search
    leaves out (``inf``) belongs to an officer slower than the nearest."""
    import sim.street_field

    if not whole:  # one unit's trips: searches that stop at the unit, then cached ones
        monkeypatch.setattr(sim.street_field, "WHOLE_BYTES", 0)
    model = build_model(load_scenario("replay_synthetic", {"run.days": 1}), days=1)
    f, d = model.force, model.dispatcher
    rng = np.random.default_rng(11)
    cells, everyone = model.layout.in_city, np.arange(f.n)
    assert (~f.vehicle).sum() >= 5  # the preset has foot officers
    pruned = 0
    for trial in range(60):
        f.pos[:] = rng.choice(cells, f.n)
        cell = int(rng.choice(cells))
        if trial % 3 == 0:  # a walker at the scene or next door: the nearest may walk
            f.pos[int(rng.choice(np.flatnonzero(~f.vehicle)))] = cell
        times = d.travel_times(everyone, cell)
        exact = np.array([d.travel_one(i, cell) for i in everyone.tolist()])
        assert int(times.argmin()) == int(exact.argmin()) and times.min() == exact.min()
        kept = np.isfinite(times)
        np.testing.assert_array_equal(times[kept], exact[kept])
        assert (exact[~kept] > exact.min()).all()
        pruned += int((~kept & ~f.vehicle).sum())
    assert pruned > 0  # walkers were left out of some searches


def test_a_geo_city_runs_on_its_openstreetmap_streets(tmp_path):
    """End to end: a precinct file sets the frame; the OSM nodes land on their cells."""
    gpd = pytest.importorskip("geopandas")
    from pyproj import Transformer
    from shapely.geometry import box

    utm, x0, y0 = "EPSG:32630", 500_000.0, 5_700_000.0
    gpd.GeoDataFrame({"pid": ["A"]}, geometry=[box(x0, y0, x0 + 400, y0 + 200)],
                     crs=utm).to_file(tmp_path / "precincts.geojson")
    to_lonlat = Transformer.from_crs(utm, "EPSG:4326", always_xy=True)
    nodes = {}
    for i in range(4):
        for j in range(2):
            lon, lat = to_lonlat.transform(x0 + 50 + 100 * i, y0 + 50 + 100 * j)
            nodes[1 + i * 2 + j] = (lon * M_PER_DEG_LON, lat * M_PER_DEG_LAT)  # inverted below
    ways = [(10, [1, 3, 5, 7], {"highway": "residential", "oneway": "yes"}),
            (11, [7, 8, 6, 4, 2, 1], {"highway": "residential"})]
    write_osm(tmp_path / "city.osm", nodes, ways)
    sc = load_scenario(None, {"geo.precincts": str(tmp_path / "precincts.geojson"),
                              "geo.precinct_id": "pid", "city.cell_size_m": CELL,
                              "city.community_cells": 1, "police.officers": 2,
                              "residents.agents": 10,
                              "data.streets_graphml": str(tmp_path / "city.osm")})
    model = build_model(sc, days=1)
    field = model.travel
    assert isinstance(field, GraphTravelField) and model.layout.frame is not None
    assert (model.layout.width, model.layout.height) == (4, 2)
    assert field.offset_m.max() < 1e-3  # every node on its cell centre
    length = osm_lengths(tmp_path / "city.osm")
    a, b = cell(0, 0), cell(1, 0)
    assert field.between(a, b) == pytest.approx(length[1, 3], rel=1e-6)  # 30 km/h: metres
    back = [3, 5, 7, 8, 6, 4, 2, 1]  # one-way east along the bottom, back along the top
    assert field.between(b, a) == pytest.approx(
        sum(length[u, v] for u, v in itertools.pairwise(back)), rel=1e-6)
    model.run_days(1)


# -- searches: whole and cached, or stopping at the nearest unit -------------------------
def random_network_field(seed: int, n_nodes: int = 120, n_cells: int = 90,
                         ties: bool = False, geometry: str | None = None):
    """A random strongly connected one-way network and cells snapped to some of its nodes.

    With ``ties`` the weights and offsets are small integers: many equal distances. With a
    ``geometry`` the nodes have coordinates (the search is an A* search): ``"loose"``, random
    points with every weight at least its edge's straight line; ``"tight"``, points on a line
    at integer positions and many weights exactly their edge's length, so the search's lower
    bound is as tight as it can be.
    """
    from scipy.sparse import csr_matrix

    from sim.street_field import NetworkField

    rng = np.random.default_rng(seed)
    ring = np.arange(n_nodes)
    u = np.concatenate([ring, rng.integers(0, n_nodes, 3 * n_nodes)])
    v = np.concatenate([np.roll(ring, -1), rng.integers(0, n_nodes, 3 * n_nodes)])
    ok = u != v
    w = rng.uniform(10.0, 200.0, u.size) / 3.0  # weights that do not add up exactly
    if ties:
        w = rng.integers(1, 4, u.size).astype(float)
    xy = None
    if geometry == "loose":
        xy = rng.uniform(0.0, 100.0, (n_nodes, 2))
        w = w + np.hypot(*(xy[u] - xy[v]).T)
    elif geometry == "tight":
        xy = np.column_stack([rng.integers(0, 40, n_nodes), np.zeros(n_nodes)]).astype(float)
        gap = np.abs(xy[u, 0] - xy[v, 0])
        w = np.maximum(gap + rng.integers(0, 2, u.size) * (w if not ties else 1.0), 1.0)
    matrix = csr_matrix((w[ok], (u[ok], v[ok])), shape=(n_nodes, n_nodes))
    node_of_cell = rng.integers(0, n_nodes, n_cells)
    offset = rng.integers(0, 2, n_cells).astype(float) if ties else rng.uniform(0.0, 30.0,
                                                                                  n_cells)
    field = NetworkField(matrix, True, node_of_cell, offset, xy)
    return field, matrix, node_of_cell, offset


def fresh_to(matrix, node_of_cell, offset, target: int) -> np.ndarray:
    """Distances from every cell to ``target``: one plain search on the reversed graph."""
    from scipy.sparse.csgraph import dijkstra

    by_node = dijkstra(matrix.T.tocsr(), directed=True, indices=int(node_of_cell[target]))
    out = by_node[node_of_cell] + offset + offset[target]
    out[target] = 0.0
    return out


@pytest.mark.parametrize("whole", [True, False])
def test_cached_and_single_searches_give_a_fresh_search_s_distances(monkeypatch, whole):
    """Random cells: every distance, for many sources or one, cached or not, is bit-identical
    to a fresh whole search."""
    import sim.street_field

    monkeypatch.setattr(sim.street_field, "WHOLE_BYTES", 2**30 if whole else 0)
    field, matrix, node_of_cell, offset = random_network_field(3)
    rng = np.random.default_rng(4)
    for _ in range(300):
        target = int(rng.integers(0, field.n_cells))
        sources = rng.integers(0, field.n_cells, int(rng.integers(1, 12)))
        want = fresh_to(matrix, node_of_cell, offset, target)[sources]
        assert (field.to_target(target, sources) == want).all()
        assert [field.target_one(target, int(c)) for c in sources] == want.tolist()


@settings(max_examples=90, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(1, 25), ties=st.booleans(),
       best=st.sampled_from([np.inf, 2.0, 0.5]),
       geometry=st.sampled_from([None, "loose", "tight"]))
def test_the_nearest_search_is_exact_for_the_nearest(seed, n_units, ties, best, geometry):
    """Units anywhere (some on one cell, some at the target, equal or unequal turnouts and
    speeds, networks with many equal distances, Dijkstra or A* with loose or tight bounds):
    the fastest and every unit as fast are exact, bit for bit; a unit left out (``inf``) is
    slower than the fastest or ``best``."""
    field, matrix, node_of_cell, offset = random_network_field(seed % 1000, ties=ties,
                                                               geometry=geometry)
    rng = np.random.default_rng(seed)
    target = int(rng.integers(0, field.n_cells))
    sources = rng.integers(0, field.n_cells, n_units)
    sources[rng.random(n_units) < 0.15] = target
    sources[rng.random(n_units) < 0.3] = sources[0]  # units on one cell
    turnout = np.ones(n_units) if ties else rng.uniform(0.0, 2.0, n_units)
    per_m = np.full(n_units, 0.5) if ties else rng.choice([0.002, 0.012, 0.002 / 0.7], n_units)
    if ties and best < np.inf:
        best = 1.0 + 0.5 * float(rng.integers(1, 8))  # a time some unit may tie
    got = field.nearest_times(target, sources, turnout, per_m, best)
    exact = turnout + fresh_to(matrix, node_of_cell, offset, target)[sources] * per_m
    kept = np.isfinite(got)
    np.testing.assert_array_equal(got[kept], exact[kept])
    fastest = exact.min()
    assert kept[exact == fastest].all() or fastest > best
    assert (exact[~kept] > min(fastest, best)).all()


def split_search(field, target, pos, idx, turnout, own, vehicle, car_min_per_m, speed):
    """Cars and walkers the long way: each graph's :meth:`nearest_times` in turn."""
    car = own[idx] if car_min_per_m is None else car_min_per_m
    per_m = np.where(vehicle[idx], car / speed, own[idx])
    turnout, foot = turnout[idx], ~vehicle[idx]
    if field.walk is None or not foot.any():
        return field.nearest_times(target, pos, turnout, per_m)
    times, cars, best = np.full(idx.size, np.inf), ~foot, np.inf
    if cars.any():
        times[cars] = field.nearest_times(target, pos[cars], turnout[cars], per_m[cars])
        best = float(times[cars].min())
    times[foot] = field.walk.nearest_times(target, pos[foot], turnout[foot], per_m[foot], best)
    return times


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_units=st.integers(1, 20),
       walkers=st.sampled_from([0.0, 0.4, 1.0]), walking_field=st.booleans(),
       street_speeds=st.booleans(), geometry=st.sampled_from([None, "loose"]))
def test_one_call_for_cars_and_walkers_gives_each_graph_s_times(
        seed, n_units, walkers, walking_field, street_speeds, geometry):
    """The compiled call for a whole force (:meth:`NetworkField.unit_minutes`) gives, bit for
    bit and ``inf`` for ``inf``, what a search of the car graph and then one of the walking
    graph as far as the fastest car give; its finite times are each officer's exact time."""
    from sim.street_field import NetworkField

    field, matrix, node_of_cell, offset = random_network_field(seed % 1000, geometry=geometry)
    rng = np.random.default_rng(seed)
    walk_matrix = (matrix + matrix.T).tocsr()
    walk_offset = rng.uniform(0.0, 30.0, field.n_cells)
    if walking_field:
        field.walk = NetworkField(walk_matrix, False, node_of_cell, walk_offset, field._xy)
    field.car_min_per_m = 0.002 if street_speeds else None
    n = 3 * n_units  # the force; ``idx`` picks some of its officers, in any order
    turnout, own = rng.uniform(0.0, 2.0, n), rng.choice([0.002, 0.012, 0.0031], n)
    vehicle = rng.random(n) >= walkers
    idx = rng.choice(n, n_units, replace=False)
    target = int(rng.integers(0, field.n_cells))
    pos = rng.integers(0, field.n_cells, n_units)
    pos[rng.random(n_units) < 0.15] = target
    speed = float(rng.choice([1.0, 0.7]))
    got = field.unit_minutes(target, pos, idx, turnout, own, vehicle, speed)
    want = split_search(field, target, pos, idx, turnout, own, vehicle, field.car_min_per_m,
                        speed)
    np.testing.assert_array_equal(got, want)
    car_dist = fresh_to(matrix, node_of_cell, offset, target)[pos]
    dist = np.where(vehicle[idx] | (not walking_field), car_dist,
                    fresh_to(walk_matrix, node_of_cell, walk_offset, target)[pos])
    car = own[idx] if field.car_min_per_m is None else field.car_min_per_m
    exact = turnout[idx] + dist * np.where(vehicle[idx], car / speed, own[idx])
    kept = np.isfinite(got)
    np.testing.assert_array_equal(got[kept], exact[kept])
    assert got.min() == exact.min() and (exact[~kept] > exact.min()).all()


def test_one_call_refuses_officers_or_cells_outside_its_arrays():
    """The compiled call checks its indices (numba would read past the arrays)."""
    field, *_ = random_network_field(3)
    force = np.zeros(4), np.ones(4), np.ones(4, bool)
    ok = field.unit_minutes(0, np.array([1, 2]), np.array([0, 3]), *force, 1.0)
    assert np.isfinite(ok).any()
    for target, pos, idx in [(0, [1, 2], [0, 4]), (0, [1, -1], [0, 1]),
                             (0, [1, field.n_cells], [0, 1]), (field.n_cells, [1], [0])]:
        with pytest.raises(IndexError, match="out of range"):
            field.unit_minutes(target, np.array(pos), np.array(idx), *force, 1.0)
    with pytest.raises(ValueError, match="pos has 1 cells for 2 officers"):
        field.unit_minutes(0, np.array([1]), np.array([0, 1]), *force, 1.0)


def test_the_search_s_bound_is_the_smallest_weight_per_straight_metre():
    """The A* bound's scale is the smallest weight over straight line of any edge (less
    1e-9 of it), so it never exceeds an edge's; without coordinates there is no bound."""
    from sim.street_search import SearchGraph

    for geometry in ("loose", "tight"):
        field, matrix, *_ = random_network_field(5, geometry=geometry)
        field.prepare()
        coo = matrix.tocoo()
        xy = field._xy
        gap = np.hypot(*(xy[coo.row] - xy[coo.col]).T)
        ratio = coo.data[gap > 0] / gap[gap > 0]
        assert field._graph.scale == pytest.approx(ratio.min() * (1 - 1e-9), rel=1e-15)
        assert field._graph.scale < ratio.min()
    assert SearchGraph(matrix).scale == 0.0


@pytest.mark.parametrize("geometry", [None, "loose", "tight"])
def test_a_full_heap_is_compacted_without_changing_a_time(geometry):
    """With a heap too small for every push the search compacts it (one entry per open
    node) and still gives the same times."""
    field, *_ = random_network_field(7, geometry=geometry)
    field.prepare()
    rng = np.random.default_rng(8)
    asks = [(int(rng.integers(0, field.n_cells)), rng.integers(0, field.n_cells, 6))
            for _ in range(200)]
    want = [field.nearest_times(t, s, np.zeros(6), np.ones(6)) for t, s in asks]
    graph = field._graph
    small = graph._dist.size + 1
    graph._heap_key, graph._heap_node = np.empty(small), np.empty(small, dtype=np.int64)
    got = [field.nearest_times(t, s, np.zeros(6), np.ones(6)) for t, s in asks]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_bound_as_tight_as_the_streets_still_finds_the_nearest():
    """Networks on a line whose weights are mostly their edges' lengths (the A* bound is
    then nearly the rest of the way): over many searches the nearest unit's time is always
    a whole search's. A bound 5 % too high fails here."""
    for seed in range(200):
        field, matrix, node_of_cell, offset = random_network_field(
            seed, n_nodes=60, n_cells=60, geometry="tight")
        rng = np.random.default_rng(seed)
        for _ in range(10):
            target = int(rng.integers(0, field.n_cells))
            n = int(rng.integers(1, 8))
            sources = rng.integers(0, field.n_cells, n)
            got = field.nearest_times(target, sources, np.zeros(n), np.ones(n))
            exact = fresh_to(matrix, node_of_cell, offset, target)[sources]
            assert got.min() == exact.min()
            np.testing.assert_array_equal(got[np.isfinite(got)], exact[np.isfinite(got)])
