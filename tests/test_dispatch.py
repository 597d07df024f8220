"""Dispatch rules on tiny hand-built cities, and the invariants of the incident table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import (
    PLAIN_DISPATCH,
    add_incident,
    all_priorities,
    free_everybody,
    make_model,
    tiny_scenario,
)

from agents.enums import OfficerState, Priority
from sim.api import collect
from sim.scenario import Scenario

QUIET = {
    "incidents.rate_per_1000_day": 0.0,
    "hazard.near_repeat": False,
    "hazard.deterrence": False,
}


def quiet_model(n_officers: int = 4, **overrides):
    """A tiny model without random incidents, everybody idle at their post."""
    values = {**PLAIN_DISPATCH, **QUIET, "police.officers": n_officers}
    values.update({k.replace("__", "."): v for k, v in overrides.items()})
    model = make_model(tiny_scenario(values))
    free_everybody(model)
    f = model.force
    f.min_per_m[:] = 60.0 / 25_000.0  # everybody drives at 25 km/h
    f.turnout[:] = 1.0
    f.sworn[:] = True
    return model


def put(model, officer: int, x: int, y: int) -> None:
    model.force.place(np.array([officer]), np.array([model.layout.cell_index(x, y)]))


# -- the nearest available eligible officer ------------------------------------------------------


def test_nearest_free_officer_is_chosen():
    m = quiet_model(4)
    for i, (x, y) in enumerate([(0, 0), (5, 4), (2, 2), (4, 0)]):
        put(m, i, x, y)
    row = add_incident(m, m.layout.cell_index(3, 1), Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, m.layout.cell_index(3, 1)) in (2, 3)
    # (2,2) and (4,0) are both 2 blocks from (3,1): the tie goes to the lower index.
    assert m.dispatcher.nearest_officer(row, m.layout.cell_index(3, 1)) == 2
    row = add_incident(m, m.layout.cell_index(5, 3), Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, m.layout.cell_index(5, 3)) == 1


def test_travel_time_not_distance_decides():
    m = quiet_model(2)
    put(m, 0, 1, 0)  # one block away, on foot
    put(m, 1, 4, 0)  # four blocks away, by car
    m.force.min_per_m[0] = 60.0 / 5_000.0  # 5 km/h: 1.5 min per 125 m block
    m.force.min_per_m[1] = 60.0 / 25_000.0  # 25 km/h: 0.3 min per block
    cell = m.layout.cell_index(0, 0)
    row = add_incident(m, cell, Priority.ROUTINE)
    times = m.dispatcher.travel_times(np.array([0, 1]), cell)
    np.testing.assert_allclose(times, [1.0 + 1.5, 1.0 + 4 * 0.3])
    assert m.dispatcher.nearest_officer(row, cell) == 1


def test_ties_go_to_the_lowest_index():
    m = quiet_model(4)
    for i in range(4):
        put(m, i, 1, 1)
    cell = m.layout.cell_index(3, 3)
    row = add_incident(m, cell, Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, cell) == 0
    m.force.set_state(0, OfficerState.ADMIN, m.now)
    assert m.dispatcher.nearest_officer(row, cell) == 1


@pytest.mark.parametrize(
    "state",
    [OfficerState.ADMIN, OfficerState.TRAVELLING, OfficerState.ON_SCENE, OfficerState.OFF_DUTY],
)
def test_unavailable_officer_is_never_chosen(state):
    m = quiet_model(3)
    put(m, 0, 3, 1)  # on the incident's cell
    put(m, 1, 0, 0)
    put(m, 2, 5, 4)
    cell = m.layout.cell_index(3, 1)
    row = add_incident(m, cell, Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, cell) == 0
    m.force.set_state(0, state, m.now)
    if state is OfficerState.OFF_DUTY:
        m.force.on_duty[0] = False
    assert m.dispatcher.nearest_officer(row, cell) != 0
    # With everybody in that state, nobody is chosen.
    for i in (1, 2):
        m.force.set_state(i, state, m.now)
    m.force.on_duty[:] = state is not OfficerState.OFF_DUTY
    assert m.dispatcher.nearest_officer(row, cell) is None


def test_off_shift_officer_is_not_chosen_even_if_idle():
    m = quiet_model(2)
    put(m, 0, 3, 1)
    put(m, 1, 0, 0)
    cell = m.layout.cell_index(3, 1)
    row = add_incident(m, cell, Priority.ROUTINE)
    m.force.on_duty[0] = False
    assert m.dispatcher.nearest_officer(row, cell) == 1


@pytest.mark.parametrize("state", [OfficerState.IDLE, OfficerState.PATROL,
                                   OfficerState.RETURNING])
def test_available_states_can_be_chosen(state):
    m = quiet_model(2)
    put(m, 0, 3, 1)
    put(m, 1, 0, 0)
    m.force.set_state(0, state, m.now)
    cell = m.layout.cell_index(3, 1)
    row = add_incident(m, cell, Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, cell) == 0


def test_auxiliaries_never_take_sworn_only_priorities():
    m = quiet_model(2)
    assert m.priority_cfg[Priority.EMERGENCY].sworn_only
    assert m.priority_cfg[Priority.URGENT].sworn_only
    assert not m.priority_cfg[Priority.ROUTINE].sworn_only
    put(m, 0, 3, 1)
    put(m, 1, 0, 0)
    m.force.sworn[0] = False
    cell = m.layout.cell_index(3, 1)
    for prio, expected in [(Priority.EMERGENCY, 1), (Priority.URGENT, 1),
                           (Priority.ROUTINE, 0)]:
        row = add_incident(m, cell, prio)
        assert m.dispatcher.nearest_officer(row, cell) == expected, prio
    m.force.sworn[1] = False
    row = add_incident(m, cell, Priority.EMERGENCY)
    assert m.dispatcher.nearest_officer(row, cell) is None


# -- the queue -----------------------------------------------------------------------------------


def queue_model(n_officers=1, **overrides):
    """No travel, fixed 30-minute jobs, everybody always on duty, no random incidents."""
    values = {"dispatch.travel": False, "dispatch.call_handling_min": 0.0, "dispatch.hops": 0,
              **all_priorities(on_scene_mean_min=30.0, on_scene_cv=0.0)}
    values.update({k.replace(".", "__"): v for k, v in overrides.items()})
    return quiet_model(n_officers, **{k.replace(".", "__"): v for k, v in values.items()})


def test_queue_serves_emergency_then_urgent_then_routine_fifo_within():
    m = queue_model(1)
    cell = m.layout.cell_index(2, 2)
    first = add_incident(m, cell, Priority.ROUTINE, t_ready=1.0)  # takes the only officer
    order = [Priority.ROUTINE, Priority.URGENT, Priority.EMERGENCY, Priority.ROUTINE,
             Priority.EMERGENCY, Priority.URGENT]
    rows = [add_incident(m, cell, p, t_ready=2.0 + k) for k, p in enumerate(order)]
    m.run_until(10 / 60)
    assert m.dispatcher.queued() == len(order)
    m.run_until(6.0)
    log = m.log
    assert log.get("t_dispatch", first) == pytest.approx(1.0)
    expected = [rows[2], rows[4], rows[1], rows[5], rows[0], rows[3]]
    got = sorted(rows, key=lambda r: log.get("t_dispatch", r))
    assert got == expected
    # Back to back: each job is 30 minutes, no travel.
    np.testing.assert_allclose([log.get("t_dispatch", r) for r in expected],
                               [31.0, 61.0, 91.0, 121.0, 151.0, 181.0])
    np.testing.assert_allclose([log.get("t_clear", r) for r in expected],
                               [61.0, 91.0, 121.0, 151.0, 181.0, 211.0])
    assert m.dispatcher.queued() == 0


def test_queue_skips_sworn_only_calls_for_an_auxiliary():
    m = queue_model(2)
    m.force.sworn[1] = False
    cell = m.layout.cell_index(2, 2)
    # Both officers busy with routine calls (the auxiliary can take those).
    a = add_incident(m, cell, Priority.ROUTINE, t_ready=1.0)
    b = add_incident(m, cell, Priority.ROUTINE, t_ready=1.0)
    emergency = add_incident(m, cell, Priority.EMERGENCY, t_ready=2.0)
    routine = add_incident(m, cell, Priority.ROUTINE, t_ready=3.0)
    m.force.turnout[:] = 0.0
    m.run_until(4.0)
    log = m.log
    officer_of = {r: int(log.get("officer_id", r)) for r in (a, b, emergency, routine)}
    sworn_id = m.officers[0].unique_id
    aux_id = m.officers[1].unique_id
    assert {officer_of[a], officer_of[b]} == {sworn_id, aux_id}
    # Both free up at minute 31; the auxiliary must leave the emergency to the sworn officer.
    assert officer_of[emergency] == sworn_id
    assert officer_of[routine] == aux_id
    assert log.get("t_dispatch", emergency) == pytest.approx(31.0)
    assert log.get("t_dispatch", routine) == pytest.approx(31.0)


def test_auxiliary_does_not_pop_a_sworn_only_call():
    m = queue_model(1)
    d = m.dispatcher
    m.force.set_state(0, OfficerState.ON_SCENE, m.now)
    cell = m.layout.cell_index(1, 1)
    e = add_incident(m, cell, Priority.EMERGENCY, t_ready=1.0)
    r = add_incident(m, cell, Priority.ROUTINE, t_ready=2.0)
    m.run_until(3 / 60)
    assert d.queued() == 2
    m.force.sworn[0] = False
    nxt = d.next_for(0)
    assert nxt is not None and nxt.row == r
    assert [i.row for i in d.queues[Priority.EMERGENCY]] == [e]
    m.force.sworn[0] = True
    assert d.next_for(0).row == e
    assert d.next_for(0) is None


def test_waiting_call_goes_to_the_next_shift():
    # One shift of 12 hours and one resting group of officers: calls made while nobody is
    # on duty wait for the next shift, and are served as it starts.
    m = queue_model(2, **{"police.shifts_per_day": 2, "police.rest_groups": 0})
    f = m.force
    f.group[:] = [0, 1]  # officer 0 works 0-12 h on day 0, officer 1 works 12-24 h
    m.roster(0)
    assert f.on_duty.tolist() == [True, False]
    cell = m.layout.cell_index(2, 2)
    f.set_state(0, OfficerState.ON_SCENE, m.now)  # busy for good
    row = add_incident(m, cell, Priority.ROUTINE, t_ready=60.0)
    m.run_until(11.5)
    assert np.isnan(m.log.get("t_dispatch", row))
    m.run_until(13)
    assert m.log.get("t_dispatch", row) == pytest.approx(12 * 60.0)
    assert m.log.get("officer_id", row) == m.officers[1].unique_id


# -- the command chain -----------------------------------------------------------------------------


@pytest.mark.parametrize("hops", [0, 1, 3])
def test_chain_delay_adds_handling_and_hops(hops):
    sc = tiny_scenario({"dispatch.hops": hops, "dispatch.call_handling_min": 1.5,
                        "dispatch.hop_delay_min": 2.0, "dispatch.delay_sigma": 0.0})
    m = make_model(sc)
    prio = np.array([0, 1, 2, 2])
    z = np.array([-2.0, 0.0, 1.0, 3.0])
    np.testing.assert_allclose(m.dispatcher.chain_delay(prio, z), 1.5 + hops * 2.0)


def test_chain_delay_is_lognormal_around_the_median():
    sc = tiny_scenario({"dispatch.hops": 2, "dispatch.call_handling_min": 1.0,
                        "dispatch.hop_delay_min": 2.0, "dispatch.delay_sigma": 0.5})
    m = make_model(sc)
    z = np.array([0.0, 1.0, -1.0])
    np.testing.assert_allclose(m.dispatcher.chain_delay(np.zeros(3, int), z),
                               5.0 * np.exp(0.5 * z))


@pytest.mark.parametrize("hops", [0, 2])
def test_dispatch_delay_column_is_the_chain_delay(hops):
    sc = tiny_scenario({**PLAIN_DISPATCH, "dispatch.hops": hops, "dispatch.hop_delay_min": 2.5,
                        "dispatch.call_handling_min": 1.5, "city.population": 10_000})
    m = make_model(sc, days=3)
    m.run_days(3)
    inc = collect(m).incidents
    rep = inc[inc["reported"]]
    assert len(rep) > 20
    np.testing.assert_allclose(rep["dispatch_delay"], 1.5 + hops * 2.5, atol=1e-9)
    assert inc.loc[~inc["reported"], "dispatch_delay"].isna().all()


# -- decomposition and travel on a whole run ----------------------------------------------------


def test_response_time_decomposes_and_travel_is_shortest_path_over_speed():
    sc = tiny_scenario({**PLAIN_DISPATCH, "police.officers": 4, "dispatch.travel": True,
                        "dispatch.return_to_post": True, "city.blocked_street_share": 0.2,
                        "city.arterial_spacing": 2, "police.turnout_min": 1.25,
                        "city.width": 10, "city.height": 10, "city.community_cells": 5,
                        "city.cell_size_m": 250.0, "city.population": 30_000})
    m = make_model(sc, days=3)
    m.run_days(3)
    inc = collect(m).incidents
    att = inc[inc["t_arrive"].notna()].sort_values("t_dispatch")
    assert len(att) > 50
    np.testing.assert_allclose(
        att["response_time"],
        att["dispatch_delay"] + att["queue_wait"] + att["travel_time"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(att["response_time"], att["t_arrive"] - att["t_report"],
                               atol=1e-9)
    f = m.force
    index_of = {o.unique_id: o.index for o in m.officers}
    lay = m.layout
    # Where each officer is when dispatched: at the post, unless still driving back from the
    # last scene (then the model places them at that scene).
    last: dict[int, tuple[int, float]] = {}  # officer -> (last scene, time back at post)
    from_scene = back_within_the_hour = 0
    for rec in att.itertuples():
        i = index_of[int(rec.officer_id)]
        post, cell = int(f.post_cell[i]), lay.cell_index(rec.x, rec.y)
        sources = {post}
        if i in last:
            scene, back_at = last[i]
            if rec.t_dispatch < back_at + 1e-9:
                sources = {scene} if rec.t_dispatch < back_at - 1e-9 else {scene, post}
        times = [f.turnout[i] + m.travel.between(src, cell) * f.min_per_m[i] for src in sources]
        assert min(abs(t - rec.travel_time) for t in times) < 1e-9, (rec.incident_id, times)
        from_scene += post not in sources
        if i in last and last[i][1] <= rec.t_dispatch and (
                rec.t_dispatch // 60 == last[i][1] // 60):
            back_within_the_hour += 1  # back at the post since the last roster tick
        back = 0.0 if cell == post else m.travel.between(cell, post) * f.min_per_m[i]  # no turnout
        last[i] = (cell, rec.t_clear + back)
    assert from_scene > 0 and back_within_the_hour > 0  # the interesting cases happen


def test_no_travel_means_zero_travel_time():
    sc = tiny_scenario({**PLAIN_DISPATCH, "dispatch.travel": False})
    m = make_model(sc, days=2)
    m.run_days(2)
    att = collect(m).incidents.dropna(subset=["t_arrive"])
    assert len(att) > 10
    assert (att["travel_time"] == 0).all()


# -- invariants of a default-ish run -------------------------------------------------------------


@pytest.fixture(scope="module")
def default_run():
    sc = Scenario().with_overrides({"residents.agents": 2_000})
    m = make_model(sc, seed=5, days=4)
    m.run_days(4)
    return m, collect(m)


def test_times_are_ordered(default_run):
    _, res = default_run
    inc = res.incidents
    assert len(inc) > 500
    cols = ["t_occur", "t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear"]
    for a, b in itertools.pairwise(cols):
        both = inc[a].notna() & inc[b].notna()
        assert (inc.loc[both, a] <= inc.loc[both, b]).all(), (a, b)
        # A later stage never happens without the earlier one.
        assert not (inc[b].notna() & inc[a].isna()).any(), (a, b)
    assert inc["t_occur"].notna().all()
    assert (inc["t_occur"] >= 0).all() and (inc["t_occur"] < 4 * 1440).all()


def test_reporting_and_clearance_are_consistent(default_run):
    _, res = default_run
    inc = res.incidents
    unreported = inc[~inc["reported"]]
    assert len(unreported) > 0
    for col in ["t_report", "t_ready", "t_dispatch", "t_arrive", "t_clear"]:
        assert unreported[col].isna().all(), col
    assert (unreported["officer_id"] == -1).all()
    assert not unreported["cleared"].any()
    cleared = inc[inc["cleared"]]
    assert len(cleared) > 0
    assert cleared["reported"].all()
    assert cleared["t_arrive"].notna().all() and cleared["t_clear"].notna().all()
    rep = inc[inc["reported"]]
    assert rep["t_report"].notna().all() and rep["t_ready"].notna().all()
    assert ((inc["officer_id"] >= 0) == inc["t_dispatch"].notna()).all()


def test_response_time_covers_travel(default_run):
    _, res = default_run
    att = res.incidents.dropna(subset=["t_arrive"])
    assert (att["response_time"] >= att["travel_time"] - 1e-9).all()
    assert (att["travel_time"] >= 0).all() and (att["queue_wait"] >= 0).all()
    assert (att["dispatch_delay"] > 0).all()
    assert (att["on_scene"].dropna() > 0).all()


def test_an_officer_handles_one_incident_at_a_time(default_run):
    _, res = default_run
    att = res.incidents.dropna(subset=["t_dispatch"]).sort_values(["officer_id", "t_dispatch"])
    nxt = att.groupby("officer_id")["t_dispatch"].shift(-1)
    busy_until = att["t_clear"]
    ok = nxt.isna() | busy_until.isna() | (nxt >= busy_until - 1e-9)
    assert ok.all()
    # Only the last job of an officer can still be open at the end.
    open_jobs = att[att["t_clear"].isna()].groupby("officer_id").size()
    assert (open_jobs <= 1).all()


def test_auxiliaries_and_off_duty_officers_are_never_dispatched(default_run):
    m, res = default_run
    f = m.force
    index_of = {o.unique_id: o.index for o in m.officers}
    att = res.incidents.dropna(subset=["t_dispatch"])
    idx = att["officer_id"].map(index_of).to_numpy()
    sworn_only = [p for p in ("emergency", "urgent", "routine")
                  if m.config.incidents.classes[p].sworn_only]
    restricted = att["priority"].isin(sworn_only).to_numpy()
    assert (~f.sworn[idx]).any()  # there are auxiliaries, and they work
    assert f.sworn[idx[restricted]].all()
    # Dispatched inside the officer's shift (calls at the exact shift change are ambiguous).
    t = att["t_dispatch"].to_numpy()
    inside = (t % 60) > 1e-6
    hours = (t[inside] // 60).astype(int)
    duty = np.array([m.force.on_duty_at(h)[i] for h, i in zip(hours, idx[inside], strict=True)])
    assert duty.all()


def test_tables_have_one_row_per_day_and_community(default_run):
    m, res = default_run
    assert res.daily["day"].tolist() == [0, 1, 2, 3]
    assert res.daily["incidents_true"].sum() == len(res.incidents)
    assert len(res.communities) == m.layout.n_communities
    assert res.communities["incidents_true"].sum() == len(res.incidents)
    assert res.communities["population"].sum() == pytest.approx(m.config.city.population)
    assert isinstance(res.incidents["priority"].dtype, pd.CategoricalDtype)


# -- the roster -------------------------------------------------------------------------------


def test_rotating_shifts_with_a_rest_group():
    sc = tiny_scenario({"police.officers": 41, "police.shifts_per_day": 3,
                        "police.rest_groups": 1})
    m = make_model(sc)
    groups = m.force.group
    counts = np.bincount(groups, minlength=4)
    assert counts.max() - counts.min() <= 1  # balanced groups
    duty = np.array([m.force.on_duty_at(h) for h in range(24 * 4)])  # hours x officers
    # Every officer works three 8-hour shifts in four days (about 42 h a week).
    assert (duty.sum(axis=0) == 24).all()
    # Each hour exactly one group is on duty, and shifts are 8 contiguous hours.
    for h in range(duty.shape[0]):
        assert len(set(groups[duty[h]].tolist())) == 1
    for day in range(4):
        block = duty[24 * day: 24 * (day + 1)]
        worked = block.sum(axis=0)
        assert set(worked.tolist()) <= {0, 8}
        for i in np.flatnonzero(worked):
            hours = np.flatnonzero(block[:, i])
            assert hours[-1] - hours[0] == 7 and hours[0] % 8 == 0


def test_roster_sends_off_shift_officers_home_and_keeps_busy_ones_working():
    sc = tiny_scenario({**PLAIN_DISPATCH, **QUIET, "police.officers": 2,
                        "police.shifts_per_day": 2, "police.rest_groups": 0,
                        "dispatch.travel": False})
    m = make_model(sc)
    f = m.force
    f.group[:] = [0, 1]
    m.roster(0)
    assert f.state.tolist() == [int(OfficerState.IDLE), int(OfficerState.OFF_DUTY)]
    f.set_state(0, OfficerState.ON_SCENE, m.now)
    m.run_until(12)  # shift change at 12:00
    assert not f.on_duty[0] and f.on_duty[1]
    assert f.state[0] == OfficerState.ON_SCENE  # the job is finished, not dropped
    assert f.state[1] in (OfficerState.IDLE, OfficerState.PATROL)


@pytest.mark.parametrize("city", [
    {"city.width": 60, "city.height": 60, "city.arterial_spacing": 0,
     "city.blocked_street_share": 0.0},  # a large full grid: Manhattan distances
    {"city.blocked_street_share": 0.2},  # closures: a street graph on the grid
])
def test_one_officers_minutes_equal_the_vectorised_search(city):
    """The scalar path (assign, drive back) gives bit-for-bit the minutes of the search."""
    m = quiet_model(n_officers=12, **{k.replace(".", "__"): v for k, v in city.items()})
    f, d = m.force, m.dispatcher
    rng = np.random.default_rng(5)
    f.pos[:] = rng.integers(0, m.layout.n_cells, f.n)
    f.min_per_m[:] = rng.choice([60 / 40_000, 60 / 5_000], f.n)
    f.state[:3] = int(OfficerState.RETURNING)  # some are on their way back to post
    f.return_until[:3] = [-1.0, 1e9, m.now]
    everyone = np.arange(f.n)
    assert type(m.travel).__name__ == ("ManhattanField" if "city.width" in city else
                                       "TravelField")
    for cell in rng.integers(0, m.layout.n_cells, 25).tolist():
        times = d.travel_times(everyone, cell)
        assert [d.travel_one(i, cell) for i in everyone.tolist()] == times.tolist()
        row = add_incident(m, cell, Priority.ROUTINE)
        found = d.nearest(row, cell)
        assert found == (int(np.argmin(times)), float(times.min()))
