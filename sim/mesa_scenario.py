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

from mesa.experimental.scenarios import Scenario as _MesaBase

from sim.scenario import Scenario


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
