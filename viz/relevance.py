"""Which quick controls of the page have no effect for the chosen strategy and data (no UI).

A control that silently does nothing misleads: the user moves it, presses Reset and sees the
same run. :func:`idle_controls` tells, for a scenario, which of the page's quick controls the
run ignores, with a one-line reason the page shows in place of the control:

* ``sink_fraction`` when the strategy moves nobody by it (``centralized`` and ``smart`` sink
  nobody; ``plan`` posts its plan whole). Found by asking the strategy itself what share it
  would sink at two different settings (:meth:`current_fraction`), so plug-ins are judged the
  same way.
* ``tech`` when the strategy fixes it (``smart`` always runs the platform), found from the
  strategy's own :meth:`resolve`.
* ``incident_rate`` when the incidents come from a calls file: replayed as recorded, or a
  process fitted to them, whose rate is the recorded one.
"""

from __future__ import annotations

from typing import Any

from sim.scenario import Scenario

CONTROLS = ("sink_fraction", "tech", "incident_rate")
"""Quick controls whose effect depends on the strategy or the data."""

_PROBE = (0.25, 0.75)
_FAR_DAY = 10**6  # a gradual schedule has reached its full fraction by then


def _strategy_class(name: str) -> Any:
    from sim.strategies import available_strategies

    return available_strategies().get(name)


def sink_fraction_reason(scenario: Scenario) -> str | None:
    """Why ``strategy.sink_fraction`` changes nothing under the scenario's strategy, or None."""
    name = scenario.strategy.name
    cls = _strategy_class(name)
    if cls is None or not hasattr(cls, "current_fraction") or \
            not hasattr(scenario.strategy, "sink_fraction"):
        return None
    shares = []
    for value in _PROBE:
        try:
            strategy: Any = cls(scenario.with_overrides({"strategy.sink_fraction": value}))
            shares.append(float(strategy.current_fraction(_FAR_DAY)))
        except Exception:  # a plug-in that cannot be probed: assume the control works
            return None
    if shares[0] != shares[1]:
        return None
    if shares[0] == 0.0:
        return f"{name} moves no HQ officers down: the sink fraction is not used."
    return f"{name} posts officers by its own plan: the sink fraction is not used."


def tech_reason(scenario: Scenario) -> str | None:
    """Why ``strategy.tech`` changes nothing under the scenario's strategy, or None."""
    name = scenario.strategy.name
    cls = _strategy_class(name)
    if cls is None or not hasattr(scenario.strategy, "tech"):
        return None
    try:
        fixed = {bool(cls.resolve(scenario.with_overrides({"strategy.tech": v})).strategy.tech)
                 for v in (False, True)}
    except Exception:  # a plug-in that cannot be probed: assume the control works
        return None
    if len(fixed) > 1:
        return None
    state = "on" if fixed.pop() else "off"
    return f"{name} always runs with the technology layer {state}: the switch is not used."


def incident_rate_reason(scenario: Scenario) -> str | None:
    """Why ``incidents.rate_per_1000_day`` changes nothing with the scenario's data, or None."""
    data = scenario.data
    if not data.calls_file:
        return None
    if getattr(data, "background", "none") == "synthetic":
        return None  # synthetic background incidents on top of the calls use the rate
    if data.mode == "replay":
        return ("the recorded calls (data.calls_file, replay) are the incident stream: the "
                "incident rate is not used.")
    return ("the incident rate is fitted to the recorded calls (data.calls_file, fit): the "
            "control is not used.")


def idle_controls(scenario: Scenario) -> dict[str, str]:
    """The quick controls the run of ``scenario`` ignores, each with a one-line reason.

    Args:
        scenario: The scenario with the chosen strategy.

    Returns:
        ``{control: reason}`` for the keys of :data:`CONTROLS` that have no effect.
    """
    reasons = {"sink_fraction": sink_fraction_reason(scenario), "tech": tech_reason(scenario),
               "incident_rate": incident_rate_reason(scenario)}
    return {k: v for k, v in reasons.items() if v}


def idle_for(base: Scenario, strategies: tuple[str, ...]) -> dict[str, str]:
    """Controls idle under every strategy shown (A, or A and B), from the base scenario.

    Args:
        base: The preset's or uploaded scenario.
        strategies: The strategies chosen in the page.

    Returns:
        ``{control: reason}``; a control idle for only one of A and B is not listed.
    """
    found: list[dict[str, str]] = []
    for name in strategies:
        try:
            sc = base.with_overrides({"strategy.name": name})
        except Exception:  # an unknown strategy: Reset will say so
            return {}
        found.append(idle_controls(sc))
    if not found:
        return {}
    common = set.intersection(*(set(f) for f in found))
    return {k: " / ".join(dict.fromkeys(f[k] for f in found)) for k in CONTROLS if k in common}
