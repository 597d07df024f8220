"""The city: communities, precincts, posts, population, risk and the street graph."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from conftest import make_model, tiny_scenario

from agents.enums import PostKind, Tier
from sim.city import build_layout, make_travel
from sim.scenario import Scenario


def city(**values):
    """A validated ``[city]`` section with dotted-free keyword overrides."""
    return Scenario().with_overrides({f"city.{k}": v for k, v in values.items()}).city


def layout_of(seed=0, **values):
    return build_layout(city(**values), np.random.default_rng(seed))


def manhattan(width, height, cell_size):
    x, y = np.divmod(np.arange(width * height), height)
    return (np.abs(x[:, None] - x[None, :]) + np.abs(y[:, None] - y[None, :])) * cell_size


# -- communities and precincts -------------------------------------------------------------------


def test_communities_and_precincts_on_a_6x4_city():
    # 3 x 2 communities of 2 x 2 cells; two precincts stacked vertically (y < 2 and y >= 2).
    lay = layout_of(width=6, height=4, community_cells=2, precincts_x=1, precincts_y=2)
    x, y = lay.xy(np.arange(lay.n_cells))
    np.testing.assert_array_equal(lay.community, (x // 2) * 2 + y // 2)
    assert lay.n_communities == 6
    np.testing.assert_array_equal(lay.precinct_of_community, [0, 1, 0, 1, 0, 1])
    np.testing.assert_array_equal(lay.precinct, (y >= 2).astype(int))
    assert lay.n_precincts == 2


def test_ragged_communities_and_four_precincts_on_a_5x5_city():
    # Community columns/rows: {0,1}, {2,3}, {4}; a community belongs to the precinct block
    # containing its centre: centres 0.5 -> block 0, 2.5 and 4.0 -> block 1.
    lay = layout_of(width=5, height=5, community_cells=2, precincts_x=2, precincts_y=2)
    x, y = lay.xy(np.arange(lay.n_cells))
    band = np.array([0, 0, 1, 1, 2])
    np.testing.assert_array_equal(lay.community, band[x] * 3 + band[y])
    np.testing.assert_array_equal(lay.precinct_of_community, [0, 1, 1, 2, 3, 3, 2, 3, 3])
    np.testing.assert_array_equal(np.bincount(lay.community), [4, 4, 2, 4, 4, 2, 2, 2, 1])
    assert lay.hq_cell == lay.cell_index(2, 2)


def test_more_precincts_than_community_columns_is_rejected():
    # Three precinct columns but only two community columns would leave a precinct empty.
    from sim.scenario import ScenarioError, load_scenario

    with pytest.raises(ScenarioError, match=r"^city\.precincts_x: "):
        load_scenario(None, {"city.width": 4, "city.height": 4, "city.community_cells": 2,
                             "city.precincts_x": 3, "city.precincts_y": 1})


def test_precinct_ids_are_dense():
    lay = layout_of(width=10, height=4, community_cells=2, precincts_x=4, precincts_y=1)
    assert sorted(set(lay.precinct_of_community.tolist())) == list(range(lay.n_precincts))


@pytest.mark.parametrize(
    "values",
    [
        {"width": 6, "height": 4, "community_cells": 2, "precincts_x": 1, "precincts_y": 2},
        {"width": 5, "height": 5, "community_cells": 2, "precincts_x": 2, "precincts_y": 2},
        {"width": 7, "height": 3, "community_cells": 3, "precincts_x": 2, "precincts_y": 1},
        {"width": 40, "height": 40, "community_cells": 8, "precincts_x": 2, "precincts_y": 2},
    ],
)
def test_posts_lie_inside_what_they_serve(values):
    lay = layout_of(**values)
    for k, cell in enumerate(lay.community_post_cells):
        assert lay.community[cell] == k
    for p, cell in enumerate(lay.station_cells):
        assert lay.precinct[cell] == p
    assert 0 <= lay.hq_cell < lay.n_cells
    # Every community has exactly one post and every precinct one station.
    assert len(lay.community_post_cells) == lay.community.max() + 1
    assert len(lay.station_cells) == lay.precinct_of_community.max() + 1


def test_cell_index_and_xy_are_inverse():
    lay = layout_of(width=6, height=5, community_cells=3)
    cells = np.arange(lay.n_cells)
    x, y = lay.xy(cells)
    assert [lay.cell_index(a, b) for a, b in zip(x, y, strict=True)] == cells.tolist()
    assert x.max() == 5 and y.max() == 4


def test_model_grid_posts_and_officers_agree_with_the_layout():
    model = make_model(tiny_scenario())
    lay = model.layout
    for i, cell in enumerate(model.cells):
        assert cell.coordinate == tuple(int(v) for v in lay.xy(i))
    np.testing.assert_allclose(model.grid.population.data.ravel(), lay.population)
    np.testing.assert_allclose(model.grid.risk.data.ravel(), lay.risk)
    np.testing.assert_array_equal(model.grid.community.data.ravel(), lay.community)
    kinds = [p.kind for p in model.posts]
    assert kinds.count(PostKind.HQ) == 1
    assert kinds.count(PostKind.STATION) == lay.n_precincts
    assert kinds.count(PostKind.COMMUNITY) == lay.n_communities
    for post in model.posts:
        assert post.cell is model.cells[post.cell_index]
        if post.kind is PostKind.STATION:
            assert post.cell_index == lay.station_cells[post.index]
            assert lay.precinct[post.cell_index] == post.precinct == post.index
        elif post.kind is PostKind.COMMUNITY:
            assert post.cell_index == lay.community_post_cells[post.index]
            assert lay.community[post.cell_index] == post.index
    f = model.force
    for i in range(f.n):
        if f.tier[i] == Tier.STATION:
            assert f.post_cell[i] == lay.station_cells[f.precinct[i]]
        elif f.tier[i] == Tier.HQ:
            assert f.post_cell[i] == lay.hq_cell
        assert model.officers[i].cell is model.cells[int(f.pos[i])]


# -- population and risk -------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_population_sums_to_the_configured_total(seed):
    lay = layout_of(seed, width=6, height=5, community_cells=3, population=12_345)
    assert lay.population.sum() == pytest.approx(12_345)
    assert (lay.population > 0).all()


@pytest.mark.parametrize(
    ("width", "height", "cell_share", "incident_share"),
    [(6, 5, 0.1, 0.5), (6, 5, 0.2, 0.8), (40, 40, 0.05, 0.5), (10, 10, 0.03, 0.3)],
)
def test_risk_sums_to_one_with_the_hot_spot_concentration(width, height, cell_share,
                                                          incident_share):
    lay = layout_of(3, width=width, height=height, community_cells=2,
                    hotspot_cell_share=cell_share, hotspot_incident_share=incident_share)
    n = width * height
    assert lay.risk.sum() == pytest.approx(1.0)
    assert (lay.risk >= 0).all()
    assert lay.hotspot.sum() == round(cell_share * n)
    assert lay.risk[lay.hotspot].sum() == pytest.approx(incident_share)


def test_no_hot_spots_when_the_share_is_zero():
    lay = layout_of(width=6, height=5, community_cells=3, hotspot_cell_share=0.0)
    assert not lay.hotspot.any()
    assert lay.risk.sum() == pytest.approx(1.0)


def test_hot_spots_are_hotter_than_other_cells():
    lay = layout_of(5, width=20, height=20, community_cells=5, hotspot_cell_share=0.05,
                    hotspot_incident_share=0.5)
    assert lay.risk[lay.hotspot].min() > np.median(lay.risk[~lay.hotspot])


def test_layout_is_reproducible_from_the_city_stream():
    a = layout_of(11, width=8, height=6, community_cells=3, blocked_street_share=0.2)
    b = layout_of(11, width=8, height=6, community_cells=3, blocked_street_share=0.2)
    np.testing.assert_array_equal(a.population, b.population)
    np.testing.assert_array_equal(a.risk, b.risk)
    assert sorted(a.graph.edges()) == sorted(b.graph.edges())


# -- streets and travel ----------------------------------------------------------------------------


def test_plain_grid_distances_are_manhattan():
    model = make_model(tiny_scenario(city__width=6, city__height=5, city__cell_size_m=125.0))
    expected = manhattan(6, 5, 125.0)
    for i in range(30):
        np.testing.assert_allclose(model.travel.from_cell(i), expected[i], rtol=0, atol=1e-9)
    assert model.travel.between(0, 29) == pytest.approx((5 + 4) * 125.0)


def test_plain_grid_distances_without_the_all_pairs_shortcut(monkeypatch):
    import sim.travel

    monkeypatch.setattr(sim.travel, "ALL_PAIRS_MAX_CELLS", 0)
    lay = layout_of(width=6, height=5, community_cells=3, cell_size_m=100.0)
    field = make_travel(lay)
    expected = manhattan(6, 5, 100.0)
    for i in (0, 7, 29):
        np.testing.assert_allclose(field.from_cell(i), expected[i], atol=1e-9)


@pytest.mark.parametrize("share", [0.1, 0.3, 0.5])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blocked_streets_keep_the_city_connected(share, seed):
    lay = layout_of(seed, width=6, height=5, community_cells=3, blocked_street_share=share)
    full_edges = 6 * 4 + 5 * 5
    removable = full_edges - (30 - 1)
    assert nx.is_connected(lay.graph)
    assert lay.graph.number_of_edges() == full_edges - min(round(share * full_edges), removable)
    field = make_travel(lay)
    expected = manhattan(6, 5, lay.cell_size_m)
    dist = np.array([field.from_cell(i) for i in range(30)])
    assert np.isfinite(dist).all()
    assert (dist >= expected - 1e-9).all()
    assert (dist > expected + 1e-9).any()
    np.testing.assert_allclose(dist, dist.T)


def test_arterials_shorten_some_trips_and_never_lengthen_any():
    lay = layout_of(width=6, height=5, community_cells=3, arterial_spacing=2,
                    arterial_speedup=2.0, cell_size_m=125.0)
    field = make_travel(lay)
    expected = manhattan(6, 5, 125.0)
    dist = np.array([field.from_cell(i) for i in range(30)])
    assert (dist <= expected + 1e-9).all()
    assert (dist < expected - 1e-9).any()
    assert (dist >= expected / 2.0 - 1e-9).all()
    # Row y = 0 is an arterial: five blocks east at double speed.
    assert field.between(lay.cell_index(0, 0), lay.cell_index(5, 0)) == pytest.approx(312.5)
    # Row y = 1 is not, but the detour is shorter: down column 0 (arterial, 62.5), five
    # blocks along row 0 (312.5), up column 5 (not arterial, 125) = 500 < 625.
    assert field.between(lay.cell_index(0, 1), lay.cell_index(5, 1)) == pytest.approx(500.0)
    for _, _, d in lay.graph.edges(data=True):
        assert d["length_m"] == 125.0
        assert d["weight"] in (125.0, 62.5)
