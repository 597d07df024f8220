"""Real geography: boundaries rasterised with a mask, posts at coordinates, population.

The city of these tests, in UTM zone 30N (EPSG:32630) with 100 m cells and its south-west
corner at (500000, 5700000): an L of two precincts with a hole.

    y=3   A  A  A  .  .  .        A: x 0..300 m, y 0..400 m, minus the hole (1, 1)
    y=2   A  A  A  .  .  .        B: x 300..600 m, y 0..200 m
    y=1   A  .  A  B  B  B        .: masked (outside every precinct)
    y=0   A  A  A  B  B  B
         x=0  1  2  3  4  5
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from shapely.geometry import Point, Polygon, box

from sim.api import build_model
from sim.city import build_layout
from sim.datafile import DataError, DataWarning
from sim.params import ScenarioError
from sim.scenario import Scenario, load_scenario

gpd = pytest.importorskip("geopandas")

UTM = "EPSG:32630"
X0, Y0, CELL = 500_000.0, 5_700_000.0, 100.0
W, H = 6, 4
MASKED = {(1, 1), (3, 2), (4, 2), (5, 2), (3, 3), (4, 3), (5, 3)}


def rect(x0: float, y0: float, x1: float, y1: float) -> Polygon:
    """A rectangle in metres from the city's corner."""
    return box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def precinct_polygons() -> list[Polygon]:
    a = Polygon(rect(0, 0, 300, 400).exterior.coords, [rect(100, 100, 200, 200).exterior.coords])
    return [a, rect(300, 0, 600, 200)]


def write(tmp_path, name, gdf, crs=UTM):
    """Write a GeoDataFrame (reprojected to ``crs``) and return its path as text."""
    path = tmp_path / name
    if gdf.crs is None:
        with pytest.warns(UserWarning, match="crs"):
            gdf.to_file(path)
    else:
        gdf.to_crs(crs).to_file(path)
    return str(path)


def precincts_file(tmp_path, crs=UTM, name="precincts.geojson", extra=()):
    names = ["A", "B", *[n for n, _ in extra]]
    geoms = precinct_polygons() + [g for _, g in extra]
    return write(tmp_path, name, gpd.GeoDataFrame({"pid": names}, geometry=geoms, crs=UTM), crs)


def posts_file(tmp_path, rows, crs=UTM):
    gdf = gpd.GeoDataFrame({"kind": [r[0] for r in rows], "area": [r[1] for r in rows]},
                           geometry=[Point(X0 + r[2], Y0 + r[3]) for r in rows], crs=UTM)
    return write(tmp_path, "posts.geojson", gdf, crs)


def scenario(**geo):
    values = {"city.cell_size_m": CELL, "city.community_cells": 2, "geo.precinct_id": "pid"}
    values.update({f"geo.{k}": v for k, v in geo.items()})
    return Scenario().with_overrides(values)


def layout(sc, seed=0):
    return build_layout(sc.city, np.random.default_rng(seed), sc.geo)


def cell(x, y):
    return x * H + y


def expected_mask():
    return np.array([(x, y) not in MASKED for x in range(W) for y in range(H)])


# -- boundaries, mask and labels ----------------------------------------------------------------


@pytest.mark.parametrize("crs", [UTM, "EPSG:4326"])
def test_l_shaped_city_with_a_hole_is_rasterised_with_its_mask(tmp_path, crs):
    lay = layout(scenario(precincts=precincts_file(tmp_path, crs)))
    assert (lay.width, lay.height) == (W, H)
    assert lay.frame is not None and lay.frame.crs == UTM  # the local UTM zone, estimated
    assert lay.frame.origin_x == pytest.approx(X0, abs=0.01)
    assert lay.frame.origin_y == pytest.approx(Y0, abs=0.01)
    np.testing.assert_array_equal(lay.mask, expected_mask())
    x, _ = lay.xy(np.arange(lay.n_cells))
    inside = lay.mask
    np.testing.assert_array_equal(lay.precinct[inside], (x[inside] >= 3).astype(int))
    assert lay.precinct_names == ["A", "B"]
    # The hole takes the label of a neighbour (all of them are in A).
    assert lay.precinct[cell(1, 1)] == 0


def test_default_communities_are_squares_cut_by_the_precincts(tmp_path):
    lay = layout(scenario(precincts=precincts_file(tmp_path)))
    # Squares of 2 x 2 cells; the square x 2..3, y 0..1 is cut in two by the A/B border and
    # the square x 4..5, y 2..3 lies outside the city.
    expected = {(0, 0): 0, (0, 1): 0, (1, 0): 0, (0, 2): 1, (0, 3): 1, (1, 2): 1, (1, 3): 1,
                (2, 0): 2, (2, 1): 2, (3, 0): 3, (3, 1): 3, (2, 2): 4, (2, 3): 4,
                (4, 0): 5, (4, 1): 5, (5, 0): 5, (5, 1): 5}
    for (cx, cy), k in expected.items():
        assert lay.community[cell(cx, cy)] == k, (cx, cy)
    np.testing.assert_array_equal(lay.precinct_of_community, [0, 0, 0, 1, 0, 1])
    assert lay.community_names == [str(i) for i in range(6)]
    np.testing.assert_array_equal(lay.beat, lay.community)
    # Every masked cell carries the labels of an in-city cell next to it (or nearest).
    for cx, cy in MASKED:
        i = cell(cx, cy)
        near = [cell(a, b) for a, b in ((cx - 1, cy), (cx + 1, cy), (cx, cy - 1), (cx, cy + 1))
                if 0 <= a < W and 0 <= b < H and lay.mask[cell(a, b)]]
        if near:
            assert lay.community[i] in lay.community[near]


def test_beats_and_communities_from_files(tmp_path):
    beats = gpd.GeoDataFrame({"beat": ["A1", "A2", "B1"]}, crs=UTM, geometry=[
        rect(0, 0, 200, 400), rect(200, 0, 300, 400), rect(300, 0, 600, 200)])
    comms = gpd.GeoDataFrame({"cid": [10, 20]}, crs=UTM, geometry=[
        rect(0, 0, 300, 400), rect(300, 0, 600, 200)])
    sc = scenario(precincts=precincts_file(tmp_path),
                  beats=write(tmp_path, "beats.gpkg", beats), beat_id="beat",
                  communities=write(tmp_path, "comms.geojson", comms), community_id="cid")
    lay = layout(sc)
    x, _ = lay.xy(np.arange(lay.n_cells))
    m = lay.mask
    np.testing.assert_array_equal(lay.beat[m], np.select([x < 2, x < 3], [0, 1], 2)[m])
    assert lay.beat_names == ["A1", "A2", "B1"] and lay.n_beats == 3
    assert lay.community_names == ["10", "20"]
    np.testing.assert_array_equal(lay.community[m], (x[m] >= 3).astype(int))
    np.testing.assert_array_equal(lay.precinct_of_community, [0, 1])


def test_a_shapefile_without_crs_takes_geo_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"pid": ["A", "B"]}, geometry=precinct_polygons())  # no CRS
    path = write(tmp_path, "precincts.shp", gdf, crs=None)
    lay = layout(scenario(precincts=path, crs=UTM))
    np.testing.assert_array_equal(lay.mask, expected_mask())


def test_rows_sharing_an_id_are_one_area(tmp_path):
    gdf = gpd.GeoDataFrame({"pid": ["A", "B", "B"]}, crs=UTM, geometry=[
        precinct_polygons()[0], rect(300, 0, 450, 200), rect(450, 0, 600, 200)])
    lay = layout(scenario(precincts=write(tmp_path, "p.geojson", gdf)))
    assert lay.precinct_names == ["A", "B"]
    np.testing.assert_array_equal(lay.mask, expected_mask())


def test_frame_maps_cells_to_the_ground_and_back(tmp_path):
    frame = layout(scenario(precincts=precincts_file(tmp_path))).frame
    lon, lat = frame.ground_of(np.array([2.0]), np.array([3.0]), "EPSG:4326")
    cx, cy = frame.cells_of(lon, lat, "EPSG:4326")
    np.testing.assert_allclose([cx[0], cy[0]], [2.0, 3.0], atol=1e-6)
    px, py = frame.ground_of(np.array([0.0]), np.array([0.0]))
    assert (px[0], py[0]) == pytest.approx((X0 + 50, Y0 + 50))


def test_pieces_touching_at_a_corner_are_joined_by_one_street(tmp_path):
    # Precinct C is one cell touching B only at B's north-east corner: (6, 2) vs (5, 1).
    path = precincts_file(tmp_path, extra=[("C", rect(600, 200, 700, 300))])
    sc = scenario(precincts=path)
    with pytest.warns(DataWarning, match=r"^geo\.precincts: 1 piece"):
        model = build_model(sc.with_overrides({"police.officers": 4, "residents.agents": 40}),
                            days=1)
    c = model.layout.cell_index(6, 2)
    assert model.travel.between(model.layout.cell_index(5, 1), c) == pytest.approx(
        np.sqrt(2) * CELL)


# -- posts --------------------------------------------------------------------------------------


def test_posts_stand_on_the_cells_of_their_coordinates(tmp_path):
    rows = [("hq", "", 150, 350), ("station", "A", 250, 40), ("station", "B", 470, 160),
            ("community", "5", 560, 20)]
    sc = scenario(precincts=precincts_file(tmp_path), posts=posts_file(tmp_path, rows, "EPSG:4326"))
    lay = layout(sc)
    assert lay.hq_cell == cell(1, 3)
    np.testing.assert_array_equal(lay.station_cells, [cell(2, 0), cell(4, 1)])
    assert lay.community_post_cells[5] == cell(5, 0)
    # Each post's cell centre is within half a cell diagonal of its coordinates.
    posts = [lay.hq_cell, *lay.station_cells, lay.community_post_cells[5]]
    for (_, _, px, py), c in zip(rows, posts, strict=True):
        cx, cy = lay.xy(c)
        d = np.hypot((cx + 0.5) * CELL - px, (cy + 0.5) * CELL - py)
        assert d <= CELL / np.sqrt(2)


def test_missing_posts_fall_back_to_the_area_centroid_cell(tmp_path):
    lay = layout(scenario(precincts=precincts_file(tmp_path)))
    # B's cells have centroid (4, 0.5): the nearest in-B cell is (4, 0) (ties: lowest index).
    assert lay.station_cells[1] == cell(4, 0)
    for p, c in enumerate(lay.station_cells):
        assert lay.mask[c] and lay.precinct[c] == p
    for k, c in enumerate(lay.community_post_cells):
        assert lay.mask[c] and lay.community[c] == k
    assert lay.mask[lay.hq_cell]


def test_a_post_just_outside_the_city_is_moved_in_with_a_warning(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path),
                  posts=posts_file(tmp_path, [("station", "B", 450, 230)]))
    with pytest.warns(DataWarning, match=r"^geo\.posts: row 0 \(station 'B'\) lies outside"):
        lay = layout(sc)
    assert lay.station_cells[1] == cell(4, 1)


# -- population and risk ------------------------------------------------------------------------


def test_population_table_is_spread_over_each_areas_in_city_cells(tmp_path):
    table = tmp_path / "pop.csv"
    table.write_text("pid,population\nA,1100\nB,600\nZ,5\n")
    sc = scenario(precincts=precincts_file(tmp_path), population=str(table))
    with pytest.warns(DataWarning, match=r"^geo\.population: 1 row id"):
        lay = layout(sc)
    assert lay.population.sum() == pytest.approx(1700)
    np.testing.assert_allclose(lay.population, np.where(expected_mask(), 100.0, 0.0))
    assert (lay.risk[~lay.mask] == 0).all() and lay.risk.sum() == pytest.approx(1.0)
    assert not lay.hotspot[~lay.mask].any()


def test_population_points_go_to_the_cell_that_contains_them(tmp_path):
    pts = tmp_path / "blocks.csv"
    # Metres from the corner in UTM: cell (0, 0), cell (5, 0) twice, a masked cell (1, 1), outside.
    rows = [(50, 50, 10), (550, 20, 5), (580, 90, 7), (150, 150, 3), (-500, 50, 2)]
    pts.write_text("x,y,residents\n" + "".join(f"{X0 + a},{Y0 + b},{n}\n" for a, b, n in rows))
    sc = scenario(precincts=precincts_file(tmp_path), population=str(pts),
                  population_level="cell", population_col="residents", crs=UTM)
    with pytest.warns(DataWarning, match=r"^geo\.population: 2 point\(s\) with 5 residents"):
        lay = layout(sc)
    expect = np.zeros(W * H)
    expect[cell(0, 0)], expect[cell(5, 0)] = 10, 12
    np.testing.assert_allclose(lay.population, expect)


def test_population_by_community_from_parquet(tmp_path):
    table = tmp_path / "pop.parquet"
    import pandas as pd

    pd.DataFrame({"c": [0, 1, 2, 3, 4, 5], "people": [300, 400, 200, 200, 200, 400]}) \
        .to_parquet(table)
    sc = scenario(precincts=precincts_file(tmp_path), population=str(table),
                  population_level="community", population_id="c", population_col="people")
    lay = layout(sc)
    per = np.bincount(lay.community, weights=lay.population, minlength=6)
    np.testing.assert_allclose(per, [300, 400, 200, 200, 200, 400])


def test_synthetic_density_is_restricted_to_the_mask(tmp_path):
    lay = layout(scenario(precincts=precincts_file(tmp_path)).with_overrides(
        {"city.population": 12_345}))
    assert lay.population.sum() == pytest.approx(12_345)
    assert (lay.population[~lay.mask] == 0).all() and (lay.population[lay.mask] > 0).all()
    assert (lay.risk[~lay.mask] == 0).all()


# -- travel and the model -----------------------------------------------------------------------


def test_grid_travel_goes_around_masked_cells(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path))
    model = build_model(sc.with_overrides({"police.officers": 4, "residents.agents": 40}), days=1)
    travel = model.travel
    # Around the hole: (1, 0) -> (0, 0) -> (0, 1) -> (0, 2) -> (1, 2).
    assert travel.between(cell(1, 0), cell(1, 2)) == pytest.approx(4 * CELL)
    assert travel.between(cell(2, 3), cell(4, 1)) == pytest.approx(4 * CELL)
    for u, v in model.layout.graph.edges:
        assert model.layout.mask[u] and model.layout.mask[v]
    assert model.grid.mask.data.dtype == bool
    np.testing.assert_array_equal(model.grid.mask.data.ravel(), expected_mask())


def test_a_three_day_run_keeps_everything_inside_the_city(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path)).with_overrides(
        {"police.officers": 12, "residents.agents": 200, "city.population": 20_000,
         "incidents.rate_per_1000_day": 1.0})
    model = build_model(sc, days=3)
    mask = model.layout.mask
    seen = set()
    while model.running and model.time < 72:
        model.step()
        seen.update(model.force.pos.tolist())
    assert all(mask[c] for c in seen)
    assert mask[model.residents.home].all()
    inc = model.log
    cells = np.asarray(inc.get("cell", np.arange(inc.n)))
    assert inc.n > 0 and mask[cells].all()
    assert all(mask[c] for a in model.patrol_areas for c in a)


def test_patrol_areas_keep_only_in_city_cells(tmp_path):
    from sim.patrol import PatrolAreas

    lay = layout(scenario(precincts=precincts_file(tmp_path)))
    patrol = PatrolAreas(lay, lambda area: np.ones(area.size))
    np.testing.assert_array_equal(patrol.areas[0], np.flatnonzero(expected_mask()))
    # A strategy's square wholly outside the city patrols its labelled community's cells.
    first = patrol.add([np.array([cell(4, 3), cell(5, 3)]), np.array([cell(1, 1), cell(0, 0)])])
    community = lay.community[cell(4, 3)]
    np.testing.assert_array_equal(patrol.areas[first],
                                  np.flatnonzero(lay.mask & (lay.community == community)))
    np.testing.assert_array_equal(patrol.areas[first + 1], [cell(0, 0)])
    drawn = patrol.draw(np.full(200, first), np.random.default_rng(0).random(200))
    assert lay.mask[drawn].all()


def test_relative_geo_paths_are_read_from_the_scenario_folder(tmp_path):
    precincts_file(tmp_path)
    (tmp_path / "city.toml").write_text(
        '[city]\ncell_size_m = 100.0\ncommunity_cells = 2\n'
        '[geo]\nprecincts = "precincts.geojson"\nprecinct_id = "pid"\n')
    sc = load_scenario(str(tmp_path / "city.toml"))
    assert sc.geo.precincts == str((tmp_path / "precincts.geojson").resolve())
    assert layout(sc).n_precincts == 2


# -- errors -------------------------------------------------------------------------------------


def one_line(exc_info, prefix):
    text = str(exc_info.value)
    assert "\n" not in text and text.startswith(prefix), text


def test_missing_file_is_one_line(tmp_path):
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=str(tmp_path / "nope.geojson")))
    one_line(err, "geo.precincts: no such file")


def test_a_file_without_crs_needs_geo_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"pid": ["A", "B"]}, geometry=precinct_polygons())
    path = write(tmp_path, "precincts.shp", gdf, crs=None)
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=path))
    one_line(err, "geo.precincts: ")
    assert "geo.crs" in str(err.value)


def test_a_bad_id_column_is_named(tmp_path):
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=precincts_file(tmp_path), precinct_id="station"))
    one_line(err, "geo.precinct_id: no column 'station'")


def test_an_area_too_small_for_the_cells_is_named(tmp_path):
    tiny = rect(610, 10, 640, 40)  # no cell centre (they are at 50, 150, ... m)
    path = precincts_file(tmp_path, extra=[("C", tiny)])
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=path))
    one_line(err, "geo.precincts: precinct 'C' covers no in-city cell centre")
    assert "smaller city.cell_size_m" in str(err.value)


def test_a_post_outside_the_city_is_named(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path),
                  posts=posts_file(tmp_path, [("hq", "", 150, 350), ("station", "A", 5000, 50)]))
    with pytest.raises(DataError) as err:
        layout(sc)
    one_line(err, "geo.posts: row 1 (station 'A') lies outside the city")


def test_a_post_for_an_unknown_area_is_named(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path),
                  posts=posts_file(tmp_path, [("station", "Q", 150, 50)]))
    with pytest.raises(DataError) as err:
        layout(sc)
    one_line(err, "geo.post_area: row 0 of geo.posts serves 'Q'")


def test_a_population_table_missing_an_area_is_named(tmp_path):
    table = tmp_path / "pop.csv"
    table.write_text("pid,population\nA,1100\n")
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=precincts_file(tmp_path), population=str(table)))
    one_line(err, "geo.population: no row for precinct 'B'")


def test_a_grid_crs_in_degrees_is_refused(tmp_path):
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=precincts_file(tmp_path), grid_crs="EPSG:4326"))
    one_line(err, "geo.grid_crs: 'EPSG:4326' is not a projected CRS in metres")


def test_an_unknown_crs_is_named(tmp_path):
    gdf = gpd.GeoDataFrame({"pid": ["A", "B"]}, geometry=precinct_polygons())
    path = write(tmp_path, "precincts.shp", gdf, crs=None)
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=path, crs="EPSG:999999"))
    one_line(err, "geo.crs: 'EPSG:999999' is not a CRS")


def test_two_stations_for_one_precinct_are_refused(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path),
                  posts=posts_file(tmp_path, [("station", "A", 50, 50), ("station", "A", 250, 50)]))
    with pytest.raises(DataError) as err:
        layout(sc)
    one_line(err, "geo.posts: rows 0 and 1 are both the station post of 'A'")


def test_an_unknown_post_kind_is_named(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path),
                  posts=posts_file(tmp_path, [("depot", "A", 50, 50)]))
    with pytest.raises(DataError) as err:
        layout(sc)
    one_line(err, "geo.post_kind: row 0 of geo.posts is 'depot'")


def test_a_negative_population_is_refused(tmp_path):
    table = tmp_path / "pop.csv"
    table.write_text("pid,population\nA,1100\nB,-3\n")
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=precincts_file(tmp_path), population=str(table)))
    one_line(err, "geo.population_col: row 1 of geo.population has '-3'")


def test_lines_are_not_precincts(tmp_path):
    from shapely.geometry import LineString

    gdf = gpd.GeoDataFrame({"pid": ["A"]}, crs=UTM, geometry=[LineString([(X0, Y0), (X0 + 1, Y0)])])
    with pytest.raises(DataError) as err:
        layout(scenario(precincts=write(tmp_path, "l.geojson", gdf)))
    one_line(err, "geo.precincts: row 0 ('A') is a LineString, not a polygon")


def test_a_community_across_two_precincts_counts_in_the_larger(tmp_path):
    # One community over the whole city: 11 cells in A, 6 in B -> it belongs to A.
    comms = gpd.GeoDataFrame({"cid": ["all"]}, crs=UTM, geometry=[rect(0, 0, 600, 400)])
    sc = scenario(precincts=precincts_file(tmp_path), community_id="cid",
                  communities=write(tmp_path, "c.geojson", comms))
    with pytest.warns(DataWarning, match=r"^geo\.communities: 6 in-city cell"):
        lay = layout(sc)
    np.testing.assert_array_equal(lay.precinct_of_community, [0])


def test_synthetic_city_keys_are_refused_in_a_geo_city(tmp_path):
    sc = scenario(precincts=precincts_file(tmp_path)).with_overrides({"city.width": 80})
    with pytest.raises(ScenarioError) as err:
        layout(sc)
    one_line(err, "city.width: not used when geo.precincts is set")


def test_synthetic_city_is_unchanged_by_the_geo_code():
    sc = Scenario()
    a = build_layout(sc.city, np.random.default_rng(3))
    b = build_layout(sc.city, np.random.default_rng(3), sc.geo)
    assert a.frame is None and a.mask.all()
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.risk, b.risk)
    assert a.precinct_names == [str(i) for i in range(a.n_precincts)]
    assert a.beat_names == a.community_names


# -- performance --------------------------------------------------------------------------------


def test_a_200_by_200_grid_rasterises_well_under_a_second():
    from shapely import voronoi_polygons
    from shapely.geometry import MultiPoint

    from sim.geo_raster import make_frame, rasterise

    rng = np.random.default_rng(1)
    side = 200 * CELL
    seeds = MultiPoint([(X0 + a, Y0 + b) for a, b in rng.uniform(0, side, (131, 2))])
    city = rect(0, 0, side, side)
    cells = [p.intersection(city) for p in voronoi_polygons(seeds, extend_to=city).geoms]
    frame = make_frame(city.bounds, UTM, CELL)
    start = time.perf_counter()
    label = rasterise(cells, frame)
    elapsed = time.perf_counter() - start
    assert (frame.width, frame.height) == (200, 200)
    assert (label >= 0).all() and np.unique(label).size == 131
    assert elapsed < 0.5, elapsed


def test_points_tables_need_coordinates_and_a_crs_for_xy(tmp_path):
    from sim.datafile import DataError
    from sim.geo_read import read_points

    (tmp_path / "a.csv").write_text("kind,area,lon,lat\nhq,,-87.6,41.8\n")
    pts = read_points(str(tmp_path / "a.csv"), "geo.posts", "")
    assert pts.crs.to_epsg() == 4326 and pts.geometry.iloc[0].x == -87.6
    (tmp_path / "b.csv").write_text("kind,area,x,y\nhq,,1000,2000\n")
    with pytest.raises(DataError, match=r"^geo\.posts: .* gives x/y coordinates; set geo\.crs"):
        read_points(str(tmp_path / "b.csv"), "geo.posts", "")
    assert read_points(str(tmp_path / "b.csv"), "geo.posts", "EPSG:32633").crs.to_epsg() == 32633
    (tmp_path / "c.csv").write_text("kind,area,where\nhq,,here\n")
    with pytest.raises(DataError, match=r"^geo\.posts: .* has no coordinate columns"):
        read_points(str(tmp_path / "c.csv"), "geo.posts", "")
    (tmp_path / "d.csv").write_text("kind,area,lon,lat\nhq,,east,41.8\n")
    with pytest.raises(DataError, match=r"^geo\.posts: row 1 has no numeric lon/lat"):
        read_points(str(tmp_path / "d.csv"), "geo.posts", "")
