"""Grassroots as a well-behaved Mesa model: keyword overrides and ``rng``, ``running`` False at
the horizon, a Mesa ``DataCollector`` of the daily indicators, and ``mesa.batch_run``."""

from __future__ import annotations

import multiprocessing

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.api import run
from sim.metrics import DAILY_COLLECTED
from sim.model import PoliceModel
from sim.scenario import ScenarioError, load_scenario

SMALL = {"city.width": 16, "city.height": 16, "city.community_cells": 4,
         "city.population": 20_000, "police.officers": 30, "residents.agents": 500}


@pytest.fixture
def keep_start_method():
    """mesa.batch_run sets the start method to spawn for the whole process; restore it."""
    method = multiprocessing.get_start_method(allow_none=True)
    yield
    multiprocessing.set_start_method(method, force=True)


def test_keyword_overrides_and_rng():
    m = PoliceModel(**{**SMALL, "police.officers": 17}, rng=3)
    assert m.config.police.officers == 17 and m.force.n == 17
    assert m.streams.entropy == 3
    with pytest.raises(ScenarioError, match=r"^police.oficers: unknown key"):
        PoliceModel(**{"police.oficers": 3})
    with pytest.raises(ScenarioError, match=r"^rng: expected an integer seed"):
        PoliceModel(rng="abc")
    # A Generator is accepted (a seed is drawn from it), reproducibly.
    a = PoliceModel(**SMALL, rng=np.random.default_rng(1)).streams.entropy
    assert a == PoliceModel(**SMALL, rng=np.random.default_rng(1)).streams.entropy


def test_running_turns_false_at_the_horizon():
    m = PoliceModel(**{**SMALL, "run.days": 2}, rng=1)
    assert m.running
    steps = 0
    while m.running and steps < 1000:
        m.step()
        steps += 1
    assert steps == 48 and m.time == 48.0


def test_datacollector_holds_the_daily_indicators_of_the_daily_table():
    sc = load_scenario("default", [f"{k}={v}" for k, v in SMALL.items()])
    m = PoliceModel(sc, rng=2)
    m.run_days(5)
    df = m.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == list(DAILY_COLLECTED) and len(df) == 5
    daily = run(sc, seed=2, days=5).daily.set_index("day")
    for col in ("incidents_true", "incidents_reported", "responses", "response_time_mean",
                "closed", "cleared", "utilization", "satisfaction_mean"):
        np.testing.assert_allclose(df[col].to_numpy(dtype=float),
                                   daily[col].to_numpy(dtype=float), err_msg=col)


def test_batch_run_returns_the_indicators(keep_start_method):
    rows = mesa.batch_run(
        PoliceModel,
        parameters={**{k: [v] for k, v in SMALL.items()},
                    "strategy.name": ["centralized", "community"], "police.officers": [20, 40],
                    "run.days": [2]},
        rng=[1, 2], max_steps=1000, number_processes=1, data_collection_period=-1,
        display_progress=False)
    df = pd.DataFrame(rows)
    assert len(df) == 2 * 2 * 2
    assert df["Step"].eq(48.0).all()
    assert np.isfinite(df["response_time_mean"]).all()
    assert set(df["strategy.name"]) == {"centralized", "community"}
    # Same parameters and rng, same indicators (common random numbers across strategies).
    again = pd.DataFrame(mesa.batch_run(
        PoliceModel, parameters={**{k: [v] for k, v in SMALL.items()},
                                 "strategy.name": ["community"], "police.officers": [40],
                                 "run.days": [2]},
        rng=[2], max_steps=1000, number_processes=1, data_collection_period=-1,
        display_progress=False))
    first = df[(df["strategy.name"] == "community") & (df["police.officers"] == 40)]
    assert again["response_time_mean"].iloc[0] in set(first["response_time_mean"])
