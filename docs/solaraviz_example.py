"""Compose a Mesa ``SolaraViz`` page of your own from grassroots' components.

Run it with ``solara run docs/solaraviz_example.py`` (from the repository root, in the
project's environment) and open the address it prints. The project's own app,
``grassroots viz``, stays the richer default (compare mode, every parameter, exports); this
page shows how the model and its views fit Mesa's tools:

* ``PoliceModel(**{"dotted.name": value})`` takes scenario overrides as keywords, so Mesa's
  Reset rebuilds it from ``model_params`` (here the strategy, the force and the seed);
* the components take the model, as ``SolaraViz(model, components=[...])`` expects, and are
  redrawn after every Step (one simulated hour) and while playing;
* ``model.datacollector`` holds the daily indicators the daily chart reads.
"""

from __future__ import annotations

from mesa.visualization import SolaraViz

from sim.model import PoliceModel
from viz.mesa_components import IndicatorTable, make_city_map, make_daily_chart

SETTINGS = {"run.days": 60, "city.width": 20, "city.height": 20, "residents.agents": 2_000}
"""Fixed scenario overrides of this example (a small city, two months)."""

model_params = {
    **SETTINGS,
    "rng": 20261128,  # a fixed seed: every Reset rebuilds the same run for the same controls
    "strategy.name": {"type": "Select", "value": "community", "label": "Strategy",
                      "values": ["centralized", "station", "community", "grid", "smart"]},
    "police.officers": {"type": "SliderInt", "value": 80, "min": 20, "max": 300, "step": 10,
                        "label": "Officers"},
}

model = PoliceModel(rng=20261128, **SETTINGS,
                    **{"strategy.name": "community", "police.officers": 80})

page = SolaraViz(
    model,
    components=[
        make_city_map("risk", overlays=("ids", "officers", "incidents")),
        make_daily_chart("response_time_mean"),
        make_daily_chart("satisfaction_mean", "trust_mean"),
        (make_city_map("response"), 1),
        (IndicatorTable, 1),
    ],
    model_params=model_params,
    name="grassroots in Mesa's SolaraViz",
    play_interval=50,
    render_interval=6,  # redraw every 6 simulated hours while playing
)
"""What ``solara run docs/solaraviz_example.py`` serves."""
