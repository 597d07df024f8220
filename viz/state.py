"""The browser app's state, without UI code: one import path for what the page computes.

Everything the page shows is computed from the model's own arrays, so it can be tested without
a browser. The code lives in one module per concern; this module re-exports their public names
so that ``from viz.state import X`` keeps working:

* :mod:`viz.controls`: :class:`Controls` (what the user sets) and their checks.
* :mod:`viz.live`: the live indicators (:func:`live_stats`, :data:`INDICATORS`).
* :mod:`viz.run`: :class:`Sim`, one model and its hourly history.
* :mod:`viz.session`: :class:`Session`, one run or runs A and B in compare mode.
* :mod:`viz.results`: the sweep folders below the results root (:func:`scan_results`).
* :mod:`viz.formatting`: how values, errors and times are written in the page.
"""

from __future__ import annotations

from sim.metrics import TIERS
from sim.scenario import PRIORITIES, ScenarioError
from viz.controls import (
    INPUT_ERRORS,
    LAYERS,
    OFFICERS_RANGE,
    RATE_RANGE,
    SEED_RANGE,
    SINK_PARAMS,
    STEP_CHOICES,
    Controls,
    ParamSpec,
    check_number,
    check_preset,
    controls_from_preset,
    preset_names,
    strategy_names,
    strategy_params,
)
from viz.formatting import clock_text, error_message, format_value, shown_value
from viz.live import (
    HISTORY_KEYS,
    INDICATOR_BY_KEY,
    INDICATORS,
    WINDOW_MIN,
    Indicator,
    live_stats,
    resident_mean,
    resident_means,
    state_time_now,
)
from viz.results import (
    DEFAULT_RESULTS_DIR,
    MANIFEST,
    MAX_IMAGE_BYTES,
    MAX_NAME_BYTES,
    MAX_PATH_CHARS,
    RESULTS_ENV,
    OutsideResultsError,
    ResultsFolder,
    inline_images,
    list_stores,
    read_image,
    resolve_in_root,
    results_root,
    scan_results,
)
from viz.run import Sim
from viz.session import Session

__all__ = [
    "DEFAULT_RESULTS_DIR",
    "HISTORY_KEYS",
    "INDICATORS",
    "INDICATOR_BY_KEY",
    "INPUT_ERRORS",
    "LAYERS",
    "MANIFEST",
    "MAX_IMAGE_BYTES",
    "MAX_NAME_BYTES",
    "MAX_PATH_CHARS",
    "OFFICERS_RANGE",
    "PRIORITIES",
    "RATE_RANGE",
    "RESULTS_ENV",
    "SEED_RANGE",
    "SINK_PARAMS",
    "STEP_CHOICES",
    "TIERS",
    "WINDOW_MIN",
    "Controls",
    "Indicator",
    "OutsideResultsError",
    "ParamSpec",
    "ResultsFolder",
    "ScenarioError",
    "Session",
    "Sim",
    "check_number",
    "check_preset",
    "clock_text",
    "controls_from_preset",
    "error_message",
    "format_value",
    "inline_images",
    "list_stores",
    "live_stats",
    "preset_names",
    "read_image",
    "resident_mean",
    "resident_means",
    "resolve_in_root",
    "results_root",
    "scan_results",
    "shown_value",
    "state_time_now",
    "strategy_names",
    "strategy_params",
]
