"""Organisation: staffing tables, units bound to areas, backup rules (tiny hand-built cities)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import PLAIN_DISPATCH, add_incident, all_priorities, free_everybody, make_model

from agents.enums import OfficerState, Priority, Tier
from agents.staffing import parse_days, parse_staffing
from sim.api import collect
from sim.areas import adjacency, central_cells
from sim.datafile import DataError, DataWarning
from sim.params import ScenarioError
from sim.scenario import Scenario, load_scenario

# Two precincts side by side (x 0..2 and 3..5), one station unit each, always on duty, no
# random incidents, no travel noise, fixed 30-minute jobs.
TWO: dict = {
    "run.days": 3, "city.width": 6, "city.height": 5, "city.community_cells": 3,
    "city.precincts_x": 2, "city.precincts_y": 1, "city.population": 5_000,
    "city.density_peaks": 1, "residents.agents": 30, "police.officers": 2,
    "police.share_hq": 0.0, "police.share_station": 1.0, "police.share_community": 0.0,
    "incidents.rate_per_1000_day": 0.0, "hazard.near_repeat": False,
    "hazard.deterrence": False, "dispatch.call_handling_min": 0.0, "dispatch.hops": 0,
    "dispatch.travel": False, **PLAIN_DISPATCH,
    **all_priorities(on_scene_mean_min=30.0, on_scene_cv=0.0),
}
# Three precincts in a row (x 0..2, 3..5, 6..8): 0 and 2 are not neighbours.
THREE = {**TWO, "city.width": 9, "city.precincts_x": 3, "police.officers": 3}


def model_of(base: dict, **values):
    """A quiet model of ``base`` with dotted overrides (``__`` for dots)."""
    sc = Scenario().with_overrides({**base, **{k.replace("__", "."): v
                                               for k, v in values.items()}})
    m = make_model(sc)
    free_everybody(m)
    m.force.sworn[:] = True
    return m


def busy(m, *officers: int) -> None:
    for i in officers:
        m.force.set_state(i, OfficerState.ON_SCENE, m.now)


def cell_in(m, precinct: int) -> int:
    """A cell of ``precinct`` that is not a station."""
    cells = np.flatnonzero(m.layout.precinct == precinct)
    return int(np.setdiff1d(cells, m.layout.station_cells)[0])


def officer_of(m, row: int) -> int:
    index = {o.unique_id: o.index for o in m.officers}
    return index[int(m.log.get("officer_id", row))]


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# -- area adjacency -----------------------------------------------------------------------------


def test_adjacency_from_shared_cell_edges():
    # 3 x 2 grid (flat x * 2 + y): columns x=0: [0, 0], x=1: [1, 2], x=2: [3, 2]
    labels = np.array([0, 0, 1, 2, 3, 2])
    adj = adjacency(labels, 3, 2)
    pairs = {(int(a), int(b)) for a, b in zip(*np.nonzero(adj), strict=True) if a < b}
    assert pairs == {(0, 1), (0, 2), (1, 2), (2, 3), (1, 3)}
    assert not adj.diagonal().any() and (adj == adj.T).all()


def test_adjacency_ignores_cells_outside_the_city():
    labels = np.array([0, 1, 2])  # one column of three cells
    mask = np.array([True, False, True])
    assert not adjacency(labels.reshape(1, 3).ravel(), 1, 3, mask).any()


def test_units_and_calls_outside_every_area():
    m = model_of(TWO, dispatch__binding="precinct", dispatch__backup="neighbours")
    rules = m.dispatcher.desk.areas
    assert rules.rank[:, -1].tolist() == [2, 2]
    assert rules.choose(-1, np.array([0, 1]), 0).all()
    assert rules.choose(0, np.array([-1, 1]), 1).tolist() == [False, True]
    assert rules.choose(0, np.array([-1, 1]), 2).tolist() == [True, True]


def test_central_cell_of_each_area():
    labels = np.array([0, 0, 0, 1, 1, 1])  # 2 columns of 3: area 0 at x=0, area 1 at x=1
    cells = central_cells(labels, 2, 3, np.ones(6, dtype=bool), 3)
    assert cells.tolist() == [1, 4, -1]


# -- units bound to areas -----------------------------------------------------------------------


def test_without_binding_the_other_precincts_unit_goes_at_once():
    m = model_of(TWO)
    assert m.force.precinct.tolist() == [0, 1]
    busy(m, 0)
    row = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=1.0)
    m.run_until(0.5)
    assert m.log.get("t_dispatch", row) == pytest.approx(1.0)
    assert officer_of(m, row) == 1


def test_binding_prefers_the_own_area_even_when_another_unit_is_nearer():
    for binding, expected in (("none", 1), ("precinct", 0)):
        m = model_of(TWO, dispatch__binding=binding, dispatch__travel=True)
        m.force.turnout[:] = 0.0
        cell = m.layout.cell_index(2, 0)  # precinct 0, next to precinct 1
        m.force.place(np.array([0, 1]), np.array([m.layout.cell_index(0, 4), cell + 5]))
        row = add_incident(m, cell, Priority.ROUTINE)
        assert m.dispatcher.nearest_officer(row, cell) == expected


def test_neighbours_backup_comes_exactly_after_the_delay():
    m = model_of(TWO, dispatch__binding="precinct", dispatch__backup="neighbours",
                 dispatch__backup_delay_min=5.0)
    busy(m, 0)
    row = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=1.0)
    m.run_until(5.9 / 60)
    assert np.isnan(m.log.get("t_dispatch", row))
    assert m.dispatcher.queued() == 1
    m.run_until(1.0)
    assert m.log.get("t_dispatch", row) == 6.0
    assert officer_of(m, row) == 1
    assert m.dispatcher.queued() == 0 and not m.dispatcher.stage


def test_neighbours_then_any_unit_after_the_second_delay():
    m = model_of(THREE, dispatch__binding="precinct", dispatch__backup="neighbours",
                 dispatch__backup_delay_min=5.0, dispatch__backup_any_delay_min=12.0)
    busy(m, 0, 1)  # precinct 0 and its neighbour 1 are busy; 2 is not adjacent to 0
    row = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=1.0)
    m.run_until(1.0)
    assert m.log.get("t_dispatch", row) == 13.0
    assert officer_of(m, row) == 2


def test_own_unit_freed_before_the_delay_takes_the_call():
    m = model_of(TWO, dispatch__binding="precinct", dispatch__backup="neighbours",
                 dispatch__backup_delay_min=50.0, dispatch__backup_any_delay_min=60.0)
    first = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=1.0)
    second = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=2.0)
    m.run_until(2.0)
    assert officer_of(m, first) == 0 and officer_of(m, second) == 0
    assert m.log.get("t_dispatch", second) == 31.0  # not unit 1 at minute 52


def test_a_freed_unit_takes_its_own_areas_call_before_an_older_one_elsewhere():
    m = model_of(TWO, dispatch__binding="precinct", dispatch__backup="nearest")
    a = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=1.0)  # unit 0 until 31
    b = add_incident(m, cell_in(m, 1), Priority.ROUTINE, t_ready=1.5)  # unit 1 until 31.5
    older = add_incident(m, cell_in(m, 1), Priority.ROUTINE, t_ready=2.0)
    own = add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=3.0)
    m.run_until(2.0)
    assert [officer_of(m, r) for r in (a, b)] == [0, 1]
    assert m.log.get("t_dispatch", own) == 31.0 and officer_of(m, own) == 0
    assert m.log.get("t_dispatch", older) == 31.5 and officer_of(m, older) == 1


def test_without_binding_a_freed_unit_takes_the_oldest_call():
    m = model_of(TWO)
    for t, p in ((1.0, 0), (1.5, 1)):
        add_incident(m, cell_in(m, p), Priority.ROUTINE, t_ready=t)
    older = add_incident(m, cell_in(m, 1), Priority.ROUTINE, t_ready=2.0)
    add_incident(m, cell_in(m, 0), Priority.ROUTINE, t_ready=3.0)
    m.run_until(2.0)
    assert m.log.get("t_dispatch", older) == 31.0 and officer_of(m, older) == 0


def test_preference_list_from_a_file_is_followed_in_order(tmp_path):
    prefs = write(tmp_path, "prefs.csv", "area,rank,from\n0,1,2\n0,2,1\n")
    m = model_of(THREE, dispatch__binding="precinct", dispatch__backup="preference",
                 dispatch__preference_file=prefs, dispatch__travel=True)
    cell = cell_in(m, 0)
    busy(m, 0)
    row = add_incident(m, cell, Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, cell) == 2  # though unit 1 is nearer
    busy(m, 2)
    assert m.dispatcher.nearest_officer(row, cell) == 1
    busy(m, 1)
    assert m.dispatcher.nearest_officer(row, cell) is None


def test_areas_missing_from_a_preference_list_never_serve(tmp_path):
    prefs = write(tmp_path, "prefs.csv", "area,rank,from\n0,1,2\n")
    m = model_of(THREE, dispatch__binding="precinct", dispatch__backup="preference",
                 dispatch__preference_file=prefs)
    busy(m, 0, 2)
    cell = cell_in(m, 0)
    row = add_incident(m, cell, Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row, cell) is None
    # Precinct 1 is not in the file: its default list (by travel time) holds every area.
    busy(m, 1)
    m.force.set_state(0, OfficerState.IDLE, m.now)
    row1 = add_incident(m, cell_in(m, 1), Priority.ROUTINE)
    assert m.dispatcher.nearest_officer(row1, cell_in(m, 1)) == 0


def test_default_preference_is_by_travel_time_from_the_station():
    m = model_of(THREE, dispatch__binding="precinct", dispatch__backup="preference")
    rank = m.dispatcher.desk.areas.rank
    assert rank[0].tolist() == [0, 1, 2, 3]  # the last column: a unit outside every area
    assert rank[2].tolist() == [2, 1, 0, 3]
    assert rank[1, 1] == 0


# -- staffing tables ----------------------------------------------------------------------------

WEEK = """area,tier,days,start,hours,officers,persons
hq,hq,Mon-Fri,8,9,2,
0,station,all,7,10,3,
0,station,all,17,10,2,
1,,Fri-Sun,22:00,6,1,
1,station,Sat,6.5,12,4,
"""


def expected_on_duty(first_weekday: int) -> np.ndarray:
    """Officers on duty at each hour 0..167 (brute force over shift instances)."""
    rows = [((0, 1, 2, 3, 4), 8, 9, 2), (tuple(range(7)), 7, 10, 3),
            (tuple(range(7)), 17, 10, 2), ((4, 5, 6), 22, 6, 1), ((5,), 6.5, 12, 4)]
    out = np.zeros(168, dtype=int)
    for days, start, hours, n in rows:
        for d in range(-1, 7):
            if (first_weekday + d) % 7 in days:
                for h in range(168):
                    if d * 24 + start <= h < d * 24 + start + hours:
                        out[h] += n
    return out


@pytest.mark.parametrize("weekday", ["Mon", "Thu"])
def test_staffing_table_puts_the_right_officers_on_duty_every_hour(tmp_path, weekday):
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", WEEK),
                 police__first_weekday=weekday)
    f = m.force
    assert f.n == 12
    counts = np.array([f.on_duty_at(h).sum() for h in range(168)])
    first = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].index(weekday)
    np.testing.assert_array_equal(counts, expected_on_duty(first))
    # Overlapping rows are different people: 07-17 and 17-03 overlap nowhere, the Saturday
    # day shift overlaps both the night shift and the early part of the weekend row.
    assert (f.tier == Tier.HQ).sum() == 2 and (f.tier[:2] == Tier.HQ).all()
    assert f.precinct[2:7].tolist() == [0] * 5 and f.precinct[7:].tolist() == [1] * 5


def test_the_run_states_the_force_the_table_gave(tmp_path):
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", WEEK))
    p = m.config.police
    assert p.officers == 12
    assert (p.share_hq, p.share_station) == pytest.approx((2 / 12, 10 / 12))


def test_persons_rotate_through_a_pattern(tmp_path):
    table = "area,days,start,hours,officers,persons\n0,all,8,8,5,7\n"
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", table))
    f = m.force
    assert f.n == 7
    shifts = np.zeros(7, dtype=int)
    for day in range(7):
        on = f.on_duty_at(day * 24 + 10)
        assert on.sum() == 5
        shifts += on
        assert not f.on_duty_at(day * 24 + 20).any()
    assert shifts.tolist() == [5] * 7


def test_a_night_shift_carries_over_midnight_into_day_zero(tmp_path):
    table = "area,days,start,hours,officers\n0,Sun,20,10,1\n"
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", table),
                 police__first_weekday="Mon")
    on = [bool(m.force.on_duty_at(h)[0]) for h in range(8)]
    assert on == [True] * 6 + [False] * 2  # Sunday 20:00 to Monday 06:00


def test_a_fractional_start_takes_effect_at_the_first_hour_it_covers(tmp_path):
    table = "area,start,hours,officers\n0,07:30,8,1\n1,7.5,0.25,1\n"
    with pytest.warns(DataWarning, match=r"^police\.staffing_file: row 3: the shift 7.5 h"):
        m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", table))
    on = np.array([m.force.on_duty_at(h) for h in range(24)])
    assert np.flatnonzero(on[:, 0]).tolist() == list(range(8, 16))
    assert not on[:, 1].any()  # 07:30-07:45 covers no full hour's start


def test_first_weekday_without_a_table_is_refused():
    with pytest.raises(ScenarioError, match=r"^police\.first_weekday: used only"):
        model_of(TWO, police__first_weekday="Tue")


def test_the_roster_follows_the_table_in_a_run(tmp_path):
    table = "area,days,start,hours,officers\n0,all,0,12,1\n1,all,12,12,1\n"
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", table))
    m.run_until(11)
    assert m.force.on_duty.tolist() == [True, False]
    assert m.force.state[1] == OfficerState.OFF_DUTY
    m.run_until(13)
    assert m.force.on_duty.tolist() == [False, True]


def test_beat_units_are_posted_in_their_beat_and_bound_to_it(tmp_path):
    # The synthetic city's beats are its communities: 2 x 2 here.
    table = "area,days,start,hours,officers\nbeat:0,all,0,24,1\nbeat:3,all,0,24,1\n"
    m = model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", table),
                 dispatch__binding="beat", dispatch__backup="neighbours")
    lay = m.layout
    assert lay.beat[m.force.post_cell].tolist() == [0, 3]
    cells = m.patrol_areas[m.force.area[0]]
    assert set(lay.beat[cells].tolist()) == {0}
    beat0 = int(np.flatnonzero(lay.beat == 0)[0])
    busy(m, 0)
    row = add_incident(m, beat0, Priority.ROUTINE, t_ready=1.0)
    # Beat 3 is diagonal to beat 0 (no shared edge): only after the second delay.
    m.run_until(10 / 60)
    assert np.isnan(m.log.get("t_dispatch", row))
    m.run_until(1.0)
    assert m.log.get("t_dispatch", row) == 16.0 and officer_of(m, row) == 1


def test_staffing_file_is_read_from_the_scenario_files_folder(tmp_path):
    (tmp_path / "staff.csv").write_text("area,start,hours,officers\n0,0,24,2\n")
    (tmp_path / "prefs.csv").write_text("area,rank,from\n0,1,1\n")
    toml = tmp_path / "s.toml"
    toml.write_text('[police]\nstaffing_file = "staff.csv"\n'
                    '[dispatch]\nbinding = "precinct"\nbackup = "preference"\n'
                    'preference_file = "prefs.csv"\n')
    sc = load_scenario(str(toml))
    assert sc.police.staffing_file == str(tmp_path / "staff.csv")
    assert sc.dispatch.preference_file == str(tmp_path / "prefs.csv")


# -- bad input: one line naming the field ------------------------------------------------------


@pytest.mark.parametrize(("text", "message"), [
    ("area,start,hours\n0,8,8\n", "police.staffing_file: no column officers"),
    ("area,start,hours,officers\nNorth,8,8,1\n", "police.staffing_file: row 2: area 'North'"),
    ("area,days,start,hours,officers\n0,Mon-Fry,8,8,1\n", "police.staffing_file: row 2: days"),
    ("area,start,hours,officers\n0,25,8,1\n", "police.staffing_file: row 2: start"),
    ("area,start,hours,officers\n0,8,30,1\n", "police.staffing_file: row 2: hours"),
    ("area,start,hours,officers\n0,8,8,1.5\n", "police.staffing_file: row 2: officers"),
    ("area,start,hours,officers,persons\n0,8,8,3,2\n", "police.staffing_file: row 2: persons"),
    ("area,tier,start,hours,officers\nhq,station,8,8,1\n", "police.staffing_file: row 2: the hq"),
    ("area,start,hours,officers\n0,8,8,0\n", "police.staffing_file: the table staffs 0"),
])
def test_bad_staffing_tables_are_one_line_errors(tmp_path, text, message):
    with pytest.raises(DataError, match="^" + message.replace("(", r"\(")) as err:
        model_of(TWO, police__staffing_file=write(tmp_path, "staff.csv", text))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"area,start,hours,officers\n0,8,8,1,5\n",
                                     bytes(range(256)) * 8, b"PAR1garbage"])
def test_unreadable_staffing_files_are_one_line_errors(tmp_path, content):
    path = tmp_path / "staff.csv"
    path.write_bytes(content)
    with pytest.raises(DataError, match=r"^police\.staffing_file: ") as err:
        model_of(TWO, police__staffing_file=str(path))
    assert "\n" not in str(err.value)


def test_missing_staffing_file_is_a_data_error():
    with pytest.raises(DataError, match=r"^police\.staffing_file: no such file"):
        model_of(TWO, police__staffing_file="/nonexistent/staff.csv")


def test_a_preference_file_without_the_preference_rule_is_refused(tmp_path):
    prefs = write(tmp_path, "prefs.csv", "area,rank,from\n0,1,1\n")
    with pytest.raises(ScenarioError, match=r"^dispatch\.preference_file: used only"):
        model_of(TWO, dispatch__binding="precinct", dispatch__preference_file=prefs)


def test_bad_preference_area_is_a_data_error(tmp_path):
    prefs = write(tmp_path, "prefs.csv", "area,rank,from\n0,1,7\n")
    with pytest.raises(DataError, match=r"^dispatch\.preference_file: row 2: '7' is not an area"):
        model_of(TWO, dispatch__binding="precinct", dispatch__backup="preference",
                 dispatch__preference_file=prefs)


def test_beat_binding_needs_a_staffing_table():
    with pytest.raises(ScenarioError, match=r"^dispatch\.binding: 'beat' needs"):
        model_of(TWO, dispatch__binding="beat")


def test_weekday_spellings():
    assert parse_days("Fri-Mon", "f").tolist() == [True, False, False, False, True, True, True]
    assert parse_days("sat; Sunday", "f").tolist() == [False] * 5 + [True, True]
    assert parse_days("all", "f").all()


def test_parse_staffing_names_areas_of_the_layout():
    m = model_of(TWO)
    df = pd.DataFrame({"area": ["precinct:1", "community:2"], "start": ["0", "0"],
                       "hours": ["8", "8"], "officers": ["1", "2"]})
    s = parse_staffing(df, m.layout)
    assert [(u.tier, u.level, u.index) for u in s.units] == [
        (Tier.STATION, "precinct", 1), (Tier.COMMUNITY, "community", 2)]


# -- invariants in a busy run -------------------------------------------------------------------


@pytest.mark.parametrize("backup", ["nearest", "neighbours", "preference"])
def test_invariants_with_binding_and_a_staffing_table(tmp_path, backup):
    table = ("area,days,start,hours,officers,persons\nhq,Mon-Fri,8,9,2,3\n"
             "0,all,6,10,3,4\n0,all,15,10,2,\n1,all,0,24,2,\n1,Fri-Sat,20,8,2,\n")
    sc = Scenario().with_overrides({
        "city.width": 12, "city.height": 12, "city.community_cells": 4,
        "city.precincts_x": 2, "city.precincts_y": 1, "residents.agents": 300,
        "incidents.rate_per_1000_day": 3.0,
        "police.staffing_file": write(tmp_path, "staff.csv", table),
        "dispatch.binding": "precinct", "dispatch.backup": backup,
        "dispatch.backup_delay_min": 4.0, "dispatch.backup_any_delay_min": 9.0})
    m = make_model(sc, seed=3, days=4)
    m.run_days(4)
    res = collect(m)
    att = res.incidents.dropna(subset=["t_dispatch"]).sort_values(["officer_id", "t_dispatch"])
    assert len(att) > 50
    nxt = att.groupby("officer_id")["t_dispatch"].shift(-1)
    assert (nxt.isna() | att["t_clear"].isna() | (nxt >= att["t_clear"] - 1e-9)).all()
    # Every reported call is served, waiting, or lost to the queue cap (none here).
    reported = res.incidents[res.incidents["reported"]]
    waiting = reported["t_dispatch"].isna() & ~reported["lost"]
    assert int(waiting.sum()) == m.dispatcher.queued() + len(m.dispatcher.pending)
    # Backup waits at least the delay under neighbours.
    if backup == "neighbours":
        index = {o.unique_id: o.index for o in m.officers}
        unit = att["officer_id"].map(index).to_numpy()
        area = m.dispatcher.desk.areas.cell_area
        cell = att["x"].to_numpy().astype(int) * m.layout.height + att["y"].to_numpy().astype(int)
        own = area[m.force.post_cell[unit]] == area[cell]
        wait = (att["t_dispatch"] - att["t_ready"]).to_numpy()
        assert (wait[~own] >= 4.0 - 1e-9).all()
