"""The Mesa side of the model: lazy resident agents and ``model.scenario`` / ``agent.scenario``."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_model, tiny_scenario
from mesa.experimental.scenarios import Scenario as MesaBaseScenario

from agents.incident import Incident
from agents.officer import Officer
from agents.post import Post
from agents.resident import Resident, ResidentViews
from sim.api import collect
from sim.mesa_scenario import MesaScenario
from sim.model import PoliceModel
from sim.scenario import Scenario


# -- lazy resident views ----------------------------------------------------------------------
def test_resident_agents_are_created_only_when_read():
    m = make_model(tiny_scenario())
    views = m.resident_agents
    assert isinstance(views, ResidentViews)
    assert len(views) == m.residents.n == 30
    assert views.created == 0
    assert Resident not in m.agents_by_type
    n_before = len(m.agents)
    r = views[3]
    assert views.created == 1 and len(m.agents) == n_before + 1
    assert views[3] is r  # cached
    assert list(m.agents_by_type[Resident]) == [r]
    assert r in m.agents


def test_a_resident_view_reads_its_row():
    m = make_model(tiny_scenario())
    m.run_days(2)
    res = m.residents
    for i in (0, 7, res.n - 1):
        r = m.resident_agents[i]
        assert r.index == i
        assert r.cell is m.cells[int(res.home[i])]
        assert r in r.cell.agents
        assert r.trust == res.trust[i] and r.satisfaction == res.satisfaction[i]
        assert r.familiarity == res.familiarity[i] and r.community == res.community[i]
    res.trust[0] = 0.123  # a view, not a copy
    assert m.resident_agents[0].trust == 0.123


def test_resident_ids_are_those_of_eager_creation_in_any_order():
    m = make_model(tiny_scenario())
    views = m.resident_agents
    first = views.first_id
    assert first == max(o.unique_id for o in m.officers) + 1
    assert views[-1].unique_id == first + len(views) - 1
    assert views[5].unique_id == first + 5
    assert [r.unique_id for r in views[2:5]] == [first + 2, first + 3, first + 4]
    ids = [r.unique_id for r in views]
    assert ids == list(range(first, first + len(views)))
    # Agents created after the residents (incidents) come after every reserved id.
    m.run_days(2)
    incidents = m.agents_by_type.get(Incident)
    if incidents:
        assert min(inc.unique_id for inc in incidents) >= first + len(views)
    assert m.agent_id_counter > first + len(views) - 1


def test_resident_views_index_errors_and_the_agent_set():
    m = make_model(tiny_scenario())
    views = m.resident_agents
    with pytest.raises(IndexError):
        views[len(views)]
    with pytest.raises(IndexError):
        views[-len(views) - 1]
    agents = views.agent_set()
    assert len(agents) == len(views) == views.created
    assert [r.index for r in agents] == list(range(len(views)))
    assert agents.agg("trust", np.mean) == pytest.approx(float(m.residents.trust.mean()))
    assert len(m.agents_by_type[Resident]) == len(views)


def test_no_residents_no_views():
    m = make_model(tiny_scenario({"residents.agents": 0}))
    assert len(m.resident_agents) == 0 and list(m.resident_agents) == []
    assert len(m.resident_agents.agent_set()) == 0


def test_reading_residents_changes_no_result():
    sc = tiny_scenario()
    plain = make_model(sc, seed=3, days=4)
    plain.run_days(4)
    looked = make_model(sc, seed=3, days=4)
    looked.resident_agents.agent_set()
    looked.run_days(2)
    _ = [r.trust for r in looked.resident_agents[::3]]
    looked.run_days(2)
    a, b = collect(plain), collect(looked)
    for name, table in a.tables().items():
        assert table.equals(b.tables()[name]), name
    assert a.summary.keys() == b.summary.keys()
    for k, v in a.summary.items():
        assert v == b.summary[k] or (v != v and b.summary[k] != b.summary[k]), k


def test_posts_and_officers_are_mesa_agents():
    m = make_model(tiny_scenario())
    assert set(m.agents_by_type[Post]) == set(m.posts)
    assert set(m.agents_by_type[Officer]) == set(m.officers)


# -- model.scenario ---------------------------------------------------------------------------
def test_model_and_agent_scenario_hold_the_grassroots_scenario():
    sc = tiny_scenario()
    m = make_model(sc)
    assert isinstance(m.scenario, MesaBaseScenario)  # what Mesa (and its app) expect
    assert isinstance(m.scenario, MesaScenario)
    assert m.scenario.config is m.config
    assert m.config == sc.with_overrides({"run.seed": 7})
    assert m.scenario.model is m
    assert m.scenario.police is m.config.police
    assert m.scenario.police.officers == 4
    assert m.scenario.residents.agents == 30
    for agent in (m.officers[0], m.posts[0], m.resident_agents[0]):
        assert agent.scenario is m.scenario
        assert agent.scenario.config is m.config


def test_mesa_scenario_is_read_only_while_the_model_runs():
    m = make_model(tiny_scenario())
    with pytest.raises(ValueError, match="during model run"):
        m.scenario.police = None


def test_a_model_built_from_a_mesa_scenario_is_the_same_model():
    sc = tiny_scenario()
    a = PoliceModel(sc)
    b = PoliceModel(MesaScenario(sc))
    assert b.config is sc
    a.run_days(2)
    b.run_days(2)
    for name, table in collect(a).tables().items():
        assert table.equals(collect(b).tables()[name]), name
    # Mesa's app rebuilds a model from an empty scenario of the same class: the defaults.
    assert MesaScenario().config == Scenario()


def test_mesa_generators_are_seeded_from_the_mesa_scenario():
    m1 = make_model(tiny_scenario(), seed=11)
    m2 = make_model(tiny_scenario(), seed=11)
    assert m1.scenario.rng == m2.scenario.rng
    assert m1.random.random() == m2.random.random()
    assert m1.rng.random() == m2.rng.random()
    m3 = make_model(tiny_scenario(), seed=12)
    assert m3.scenario.rng != m1.scenario.rng


# -- incidents and officers on the Mesa grid ------------------------------------------------
def _check_views(m: PoliceModel) -> None:
    """Incident agents are exactly the open cases, on their cells; officers on theirs."""
    agents = list(m.agents_by_type.get(Incident, []))
    assert sorted(a.row for a in agents) == sorted(m.dispatcher.open)
    for a in agents:
        assert a.case is m.dispatcher.open[a.row]
        assert a.cell is m.cells[a.cell_index]
        assert a in a.cell.agents
        assert a.waiting == (a.officer is None)
    for o in m.officers:
        assert o.cell is m.cells[int(m.force.pos[o.index])]


def test_mesa_views_match_the_state_whenever_the_model_can_be_observed():
    sc = tiny_scenario().with_overrides({"police.officers": 4, "incidents.rate_per_1000_day":
                                         40.0})
    m = make_model(sc)
    seen_open = 0
    for stop in (0.5, 1.0, 3.25, 7.0, 7.5, 30.0, 48.0):
        m.run_until(stop)
        _check_views(m)
        seen_open += len(m.dispatcher.open)
    for _ in range(5):
        m.step()
        _check_views(m)
        seen_open += len(m.dispatcher.open)
    assert seen_open > 0  # the check saw open incidents (a busy force), not only empty sets
    closed = [a for a in m.agents if isinstance(a, Incident) and a.row not in m.dispatcher.open]
    assert closed == []
