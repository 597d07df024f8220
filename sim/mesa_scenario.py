"""Mesa's ``model.scenario`` for a Grassroots model: the Grassroots scenario, seen by Mesa.

Mesa 3.5 gives every model a ``scenario`` property, reached from any agent as
``agent.scenario``, and expects it to be a :class:`mesa.experimental.scenarios.Scenario`: its
setter writes ``scenario.model = model`` (impossible on the frozen
:class:`sim.scenario.Scenario`) and Mesa's Solara app refuses any other class. The Grassroots
scenario therefore cannot be installed there as it is; :class:`MesaScenario` is a Mesa
scenario that holds it. Its parameters are the Grassroots sections, so
``agent.scenario.police.officers`` is ``model.config.police.officers``, and
``agent.scenario.config`` is the Grassroots scenario itself (the one ``model.config`` holds).
Its ``rng`` is the seed of Mesa's own generators (``model.random``, ``model.rng``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from mesa.experimental.scenarios import Scenario as _MesaBase

from sim.params import echo
from sim.scenario import Scenario, ScenarioError


class MesaScenario(_MesaBase):
    """A Mesa scenario holding a Grassroots :class:`~sim.scenario.Scenario`.

    Args:
        config: The Grassroots scenario (the defaults if None).
        rng: Seed of Mesa's generators, as for any Mesa scenario.
        **kwargs: Further Mesa scenario parameters.

    Attributes:
        config: The Grassroots scenario; each of its sections (``run``, ``city``, ``police``,
            ...) is also a parameter of this scenario under its own name.
    """

    config: Scenario

    def __init__(self, config: Scenario | None = None, *, rng: Any = None,
                 **kwargs: Any) -> None:
        config = Scenario() if config is None else config
        sections = {f.name: getattr(config, f.name) for f in dataclasses.fields(config)}
        super().__init__(rng=rng, **sections, **kwargs, config=config)


def model_arguments(scenario: Scenario | MesaScenario | None,
                    seed: int | np.random.SeedSequence | None, rng: Any,
                    overrides: dict[str, Any]) -> tuple[Scenario, int | np.random.SeedSequence]:
    """Resolve a model's arguments as Mesa users pass them: the scenario and the root seed.

    Args:
        scenario: A Grassroots scenario, a :class:`MesaScenario` holding one, or None
            (the defaults).
        seed: The root seed (Grassroots spelling); wins over ``rng``.
        rng: Mesa's spelling of the seed (``mesa.batch_run`` passes ``rng=``): an integer,
            a SeedSequence, a numpy Generator (a seed is drawn from it) or None.
        overrides: Dotted scenario keys, e.g. ``{"police.officers": 150}`` (``batch_run``
            passes its parameters so).

    Returns:
        The validated scenario with the overrides applied, and the root seed.

    Raises:
        sim.scenario.ScenarioError: If an override is not a parameter or not valid.
    """
    if isinstance(scenario, MesaScenario):
        scenario = scenario.config
    scenario = Scenario() if scenario is None else scenario
    if overrides:
        scenario = scenario.with_overrides(overrides)
    if seed is None and rng is not None:
        if isinstance(rng, np.random.Generator):
            seed = int(rng.integers(2**63 - 1))
        elif isinstance(rng, np.random.SeedSequence):
            seed = rng
        else:
            try:
                seed = int(rng)
            except (TypeError, ValueError):
                raise ScenarioError(f"rng: expected an integer seed, got {echo(rng)}") from None
            if not 0 <= seed <= 2**63 - 1:
                raise ScenarioError(f"rng: must be between 0 and 2^63 - 1, got {seed}")
    return scenario, (scenario.run.seed if seed is None else seed)
