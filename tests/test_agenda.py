"""The agenda runs events in exactly the order, and at exactly the times, Mesa would."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mesa import Model

from sim.agenda import Agenda


class _Recorder(Model):
    """A Mesa model that logs what runs when; events go to Mesa or to the agenda."""

    def __init__(self, use_agenda: bool) -> None:
        super().__init__()
        self.use_agenda = use_agenda
        self.trace: list[tuple[str, float]] = []
        self._until = 0.0
        self.agenda = Agenda(self, lambda: self._until)

    def _advance_time(self, until: float) -> None:
        self._until = until
        super()._advance_time(until)

    def step(self) -> None:
        self.trace.append(("step", self.time))

    def at(self, name: str, t: float, then: list[tuple[str, float]] = ()) -> None:
        """Schedule event ``name`` at ``t``; when it runs it schedules ``then`` (delays)."""
        def fire() -> None:
            self.trace.append((name, self.time))
            for child, delay in then:
                self.at(child, self.time + delay)
        if self.use_agenda:
            self.agenda.at(fire, t)
        else:
            self._keep = [*getattr(self, "_keep", []), fire]  # Mesa holds weak references
            self.schedule_event(fire, at=t)


times = st.one_of(st.integers(0, 6).map(float), st.floats(0, 6, allow_nan=False))
delays = st.one_of(st.just(0.0), st.just(1.0), st.floats(0, 3, allow_nan=False))
events = st.lists(st.tuples(times, st.lists(delays, max_size=2)), max_size=25)
horizons = st.lists(st.one_of(st.integers(1, 7).map(float), st.floats(0.01, 7)), min_size=1,
                    max_size=6)


def _run(use_agenda: bool, spec, stops) -> list[tuple[str, float]]:
    model = _Recorder(use_agenda)
    for k, (t, children) in enumerate(spec):
        model.at(f"e{k}", t, [(f"e{k}.{j}", d) for j, d in enumerate(children)])
    for stop in sorted(stops):
        if stop > model.time:
            model.run_until(stop)
            model.trace.append(("stop", model.time))
    return model.trace


@settings(max_examples=150, deadline=None)
@given(events, horizons)
def test_same_order_and_times_as_mesa(spec, stops) -> None:
    """Ties (equal times, the hourly step), zero delays and fractional horizons included."""
    assert _run(True, spec, stops) == _run(False, spec, stops)


def test_never_runs_past_the_horizon() -> None:
    model = _Recorder(True)
    model.at("a", 0.25)
    model.at("b", 0.75)
    model.run_until(0.5)
    assert model.trace == [("step", 0.0), ("a", 0.25)] or model.trace == [("a", 0.25)]
    assert model.time == 0.5
    model.run_until(1.0)
    assert ("b", 0.75) in model.trace


def test_rejects_the_past() -> None:
    model = _Recorder(True)
    model.run_until(2.0)
    with pytest.raises(ValueError, match="past"):
        model.agenda.at(lambda: None, 1.0)
