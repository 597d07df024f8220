"""The two worked extensions of docs/EXTENDING.md, and the properties that make them small.

1. Officers who may refuse non-emergency calls (``docs/extensions/refusing_officers.py``): a
   plug-in strategy with its own parameters and its own named random streams.
2. A fourth call type (``docs/extensions/traffic.toml``): a scenario file declaring a class.

And: adding a random draw to one mechanism changes no other draw (named streams).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import indicators
from sim.api import run
from sim.incidents import IncidentProcess
from sim.scenario import Scenario, ScenarioError, load_scenario
from sim.strategies import registry as registry_module

ROOT = Path(__file__).resolve().parents[1]
REFUSAL = ROOT / "docs" / "extensions" / "refusing_officers.py"
TRAFFIC = ROOT / "docs" / "extensions" / "traffic.toml"
SMALL = ["city.width=16", "city.height=16", "city.community_cells=4", "city.population=20000",
         "police.officers=40", "residents.agents=1000"]
NO_FEEDBACK = ["hazard.deterrence=false", "hazard.near_repeat=false",
               "outcomes.reporting_trust_elasticity=0.0"]


@pytest.fixture
def refusal(monkeypatch):
    """Import the extension by path into a private copy of the strategy registry."""
    registry_module.available_strategies()  # the built-ins are in the registry we copy
    monkeypatch.setattr(registry_module, "_REGISTRY", dict(registry_module._REGISTRY))
    spec = importlib.util.spec_from_file_location("grassroots_refusal_example", REFUSAL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.StationRefusal


def refusal_run(days: int = 20, *extra: str):
    sc = load_scenario("station", [*SMALL, *NO_FEEDBACK, "strategy.name=station_refusal",
                                   *extra])
    return run(sc, days=days)


# -- extension 1: refusing officers ---------------------------------------------------------
def test_refusal_parameters_are_scenario_parameters(refusal):
    names = {name for name, _v, _i in Scenario().params()}
    assert {"strategy.refusing_share", "strategy.refusal_prob",
            "strategy.never_refused"} <= names
    sc = load_scenario("station", ["strategy.name=station_refusal",
                                   "strategy.refusal_prob=0.8"])
    assert sc.strategy.refusal_prob == 0.8
    with pytest.raises(ScenarioError, match=r"^strategy.refusal_prob: must be <= 1"):
        load_scenario("station", ["strategy.refusal_prob=2"])
    assert "refusing_share" in Scenario().to_toml()


def test_refusal_off_is_exactly_station(refusal):
    """With refusal_prob = 0 the extension's draws change nothing: identical tables."""
    base = run(load_scenario("station", [*SMALL, *NO_FEEDBACK]), days=15)
    ext = refusal_run(15, "strategy.refusal_prob=0.0", "strategy.refusing_share=1.0")
    for stem in ("incidents", "daily", "officers"):
        pd.testing.assert_frame_equal(base.tables()[stem], ext.tables()[stem])


def test_reluctant_officers_take_no_refusable_call(refusal):
    res = refusal_run(20, "strategy.refusal_prob=1.0", "strategy.refusing_share=0.5")
    # Who is reluctant is the extension's own draw; recover it from the strategy.
    from sim.api import build_model

    sc = load_scenario("station", [*SMALL, *NO_FEEDBACK, "strategy.name=station_refusal",
                                   "strategy.refusal_prob=1.0", "strategy.refusing_share=0.5"])
    model = build_model(sc, days=20)
    model.run_days(20)
    reluctant_ids = set(model.force.ids()[model.strategy.reluctant].tolist())
    assert 0 < len(reluctant_ids) < model.force.n
    inc = res.incidents.dropna(subset=["t_dispatch"])
    taken_by_reluctant = inc["officer_id"].isin(reluctant_ids)
    assert not taken_by_reluctant[inc["priority"] != "emergency"].any()
    assert taken_by_reluctant[inc["priority"] == "emergency"].any()  # emergencies: never refused
    assert model.strategy.describe()["refusals"] > 0


def test_refusal_keeps_the_incidents(refusal):
    """Refusals change who responds, not which incidents occur or their luck."""
    keep = ["t_occur", "x", "y", "priority", "in_progress", "victim", "t_report"]
    a = refusal_run(10, "strategy.refusal_prob=0.0").incidents[keep]
    b = refusal_run(10, "strategy.refusal_prob=1.0").incidents[keep]
    pd.testing.assert_frame_equal(a, b)


def test_refusal_rejects_unknown_classes(refusal):
    with pytest.raises(ValueError, match=r"^strategy.never_refused: unknown incident class"):
        refusal_run(1, 'strategy.never_refused=["fire"]')


# -- extension 2: a fourth call type --------------------------------------------------------
def test_traffic_class_is_declared_and_ordered():
    sc = load_scenario(TRAFFIC)
    assert sc.incidents.names == ("emergency", "urgent", "traffic", "routine")
    assert sc.incidents.classes["traffic"].sworn_only
    # The default classes keep their other defaults.
    assert (sc.incidents.classes["routine"].on_scene_mean_min
            == Scenario().incidents.classes["routine"].on_scene_mean_min)
    assert load_scenario(TRAFFIC.parent / "traffic.toml").to_toml() == sc.to_toml()


def test_traffic_calls_are_drawn_served_and_reported():
    res = run(load_scenario(TRAFFIC, SMALL), days=30)
    inc = res.incidents
    assert list(inc["priority"].cat.categories) == ["emergency", "urgent", "traffic", "routine"]
    n_traffic = int((inc["priority"] == "traffic").sum())
    assert stats.binomtest(n_traffic, len(inc), 0.15).pvalue > 1e-3
    assert np.isfinite(res.summary["response_time_mean_traffic"])
    assert indicators.find("response_time_mean_traffic") is not None
    served = inc.dropna(subset=["t_dispatch"])
    assert (served["priority"] == "traffic").any()


def test_traffic_is_served_before_routine_in_the_queue():
    """class_order is the queue order: traffic waits less than routine when queues form.

    A stable queue (six officers always on duty, utilisation about 0.7), so every call is
    served and the mean waits compare like with like.
    """
    res = run(load_scenario(TRAFFIC, [*SMALL, "police.officers=6", "police.auxiliary_share=0",
                                      "police.hq_civilian_share=0", "police.shifts_per_day=1",
                                      "police.rest_groups=0", "police.admin_share_hq=0",
                                      "police.admin_share_station=0",
                                      "incidents.rate_per_1000_day=6"]), days=20)
    inc = res.incidents[res.incidents["reported"]]
    assert inc["t_dispatch"].notna().mean() > 0.97  # (nearly) every call served
    waits = inc.groupby("priority", observed=True)["queue_wait"].mean()
    assert waits["traffic"] < waits["routine"]
    assert waits["urgent"] < waits["traffic"]


def test_grid_officers_can_take_the_new_class():
    sc = load_scenario(TRAFFIC, [*SMALL, "strategy.name=grid",
                                 'strategy.grid_classes=["routine", "traffic"]'])
    res = run(sc, days=15)
    inc = res.incidents.dropna(subset=["t_dispatch"])
    assert (inc.loc[inc["priority"] == "traffic", "officer_tier"] == "community").any()
    with pytest.raises(ValueError, match=r"^strategy.grid_classes: unknown incident class"):
        run(load_scenario("grid", [*SMALL, 'strategy.grid_classes=["traffic"]']), days=1)


def test_recorded_calls_map_codes_to_the_new_class(tmp_path):
    calls = pd.read_csv(ROOT / "scenarios" / "data" / "synthetic_calls.csv")
    calls.loc[calls.index % 10 == 0, "priority"] = "TC"
    calls.to_csv(tmp_path / "calls.csv", index=False)
    preset = (ROOT / "scenarios" / "replay_synthetic.toml").read_text()
    data = (ROOT / "scenarios" / "data").as_posix()
    text = preset.replace("data/synthetic_calls.csv", (tmp_path / "calls.csv").as_posix())
    text = text.replace('"data/', f'"{data}/')
    body = TRAFFIC.read_text().split("[incidents]", 1)[1]
    (tmp_path / "s.toml").write_text(text + "\n[incidents]" + body)
    res = run(load_scenario(tmp_path / "s.toml"), days=5)
    assert res.summary["calls_dropped"] == 0
    assert (res.incidents["priority"] == "traffic").sum() > 0


def test_class_order_errors_name_the_field(tmp_path):
    cases = {
        '[incidents]\nclass_order = ["emergency", "emergency"]\n': "incidents.class_order",
        '[incidents]\nclass_order = []\n': "incidents.class_order",
        '[incidents]\nclass_order = ["emergency", "urgent", "routine"]\n'
        "[incidents.classes.fire]\nshare = 0.0\n": "incidents.classes.fire",
        "[incidents.classes.Bad-Name]\nshare = 0.0\n": "incidents.class_order",
        "[incidents.classes.fire]\nshare = 0.2\n": "incidents.classes.emergency.share",
    }
    for text, field in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(text)
        with pytest.raises(ScenarioError) as err:
            load_scenario(path)
        assert str(err.value).startswith(field + ":"), (text, str(err.value))


def test_moved_keys_name_their_new_place():
    for old, new in (("residents.deterrence", "hazard.deterrence"),
                     ("incidents.emergency.share", "incidents.classes.emergency.share"),
                     ("residents.skill_gain_per_case", "police.skill_gain_per_case"),
                     ("incidents.clearance_rt_effect", "outcomes.clearance_rt_effect")):
        with pytest.raises(ScenarioError, match=rf"^{old}: moved to {new}$"):
            load_scenario("default", [f"{old}=1"])


# -- named streams ---------------------------------------------------------------------------
def test_a_new_pre_drawn_column_changes_no_other(monkeypatch):
    cfg = Scenario().incidents
    risk = np.full(100, 0.01)

    def day(seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        return IncidentProcess(cfg, 50_000.0, risk, rng).draw_day(3, np.full(100, 0.9),
                                                                  np.full(100, 0.01))

    before = day(5)
    import sim.incidents as incidents_module

    monkeypatch.setattr(incidents_module, "PREDRAWN", (*incidents_module.PREDRAWN, "u_new"))
    after = day(5)
    assert set(after) - set(before) == {"u_new"}
    for key, values in before.items():
        np.testing.assert_array_equal(values, after[key], err_msg=key)


def test_named_streams_are_independent_of_other_draws():
    from sim.rng import make_streams

    a = make_streams(9)
    first = a.named("officers", "refusal").random(5)
    b = make_streams(9)
    b.officers.random(1000)  # another mechanism draws a lot first
    b.named("strategy", "other").random(10)
    np.testing.assert_array_equal(first, b.named("officers", "refusal").random(5))
    assert not np.array_equal(first, b.named("officers", "refusals").random(5))
    with pytest.raises(ValueError, match="unknown random stream"):
        a.named("nope", "x")
