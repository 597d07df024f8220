"""The incident process's parameters and the incident classes it draws.

Incident classes are data: any number of priorities or call types, each with its name, the
data codes that mean it, its share, on-scene time, how often it is caught in progress and
reported, its clearance base rate, what residents expect, and whether only sworn officers may
attend. The order of ``class_order`` is the priority order of the dispatch queue; the index of
a class in that order is its ``priority`` code in the incident log. Three classes by default
(emergency, urgent, routine).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sim.params import ScenarioError, echo, keyed_sections, param

DEFAULT_ORDER = ("emergency", "urgent", "routine")
NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class IncidentClass:
    """One class of incidents (a priority or call type): its share, work and expectations."""

    share: float = param(0.33, "-", "Share of true incidents.", lo=0, hi=1)
    on_scene_mean_min: float = param(40.0, "min", "Mean on-scene time (domain notes 2.1).",
        lo=0, hi=10_080)
    on_scene_cv: float = param(
        0.8, "-", "Coefficient of variation of on-scene time (lognormal); 1 with exponential.",
        lo=0, hi=10,
    )
    in_progress_share: float = param(
        0.3, "-", "Share caught in progress rather than discovered later (Kansas City RTA).",
        lo=0, hi=1,
    )
    report_prob: float = param(
        0.45, "-", "Probability the incident is reported at baseline trust (NCVS 40-50%).", lo=0,
        hi=1,
    )
    clearance_base: float = param(
        0.3, "-", "Clearance probability at the reference response time (FBI UCR 2019).", lo=0,
        hi=1,
    )
    expected_response_min: float = param(
        15.0, "min", "What residents expect (Percy 1980: expectations drive satisfaction).",
        lo=0, hi=1_440,
    )
    sworn_only: bool = param(False, "-", "Whether auxiliaries may not attend.")
    codes: tuple[str, ...] = param(
        (), "-", "Values of the data's priority column that mean this class (besides its "
        "name), e.g. [\"1\", \"P1\"].",
    )


def _emergency() -> IncidentClass:
    return IncidentClass(
        codes=("1",),
        share=0.1,
        on_scene_mean_min=60.0,
        in_progress_share=0.8,
        report_prob=0.9,
        clearance_base=0.45,
        expected_response_min=8.0,
        sworn_only=True,
    )


def _urgent() -> IncidentClass:
    return IncidentClass(
        codes=("2",),
        share=0.3,
        on_scene_mean_min=45.0,
        in_progress_share=0.4,
        report_prob=0.6,
        clearance_base=0.3,
        expected_response_min=15.0,
        sworn_only=True,
    )


def _routine() -> IncidentClass:
    return IncidentClass(
        codes=("3",),
        share=0.6,
        on_scene_mean_min=30.0,
        in_progress_share=0.1,
        report_prob=0.4,
        clearance_base=0.17,
        expected_response_min=40.0,
        sworn_only=False,
    )




def _default_classes() -> dict[str, IncidentClass]:
    return {"emergency": _emergency(), "urgent": _urgent(), "routine": _routine()}


@dataclass(frozen=True)
class IncidentConfig:
    """The incident process: rate, daily cycle, reporting delay, on-scene times."""

    rate_per_1000_day: float = param(
        3.0,
        "1/(1000 persons d)",
        "True incidents; with ~50% reported, ~0.55 calls per person per year, the order of "
        "US calls-for-service rates (assumption).",
        lo=0, hi=1_000, plausible=(2.0, 4.5),
    )
    daily_amplitude: float = param(
        0.5, "-", "Relative amplitude of the daily cycle (evening peak; assumption).", lo=0, hi=1,
        plausible=(0.3, 0.7),
    )
    peak_hour: float = param(20.0, "h", "Hour of the daily peak (evening; assumption).", lo=0,
                             hi=24, plausible=(18.0, 22.0))
    report_delay_in_progress_min: float = param(
        2.0, "min", "Median time to call for incidents in progress (Kansas City RTA).",
        lo=0, hi=525_600,
    )
    report_delay_discovered_min: float = param(
        60.0, "min", "Median time to call for incidents discovered later (Kansas City RTA).",
        lo=0, hi=525_600,
    )
    report_delay_sigma: float = param(
        1.0, "-", "Log-sd of reporting delays (lognormal; assumption).", lo=0, hi=5,
        plausible=(0.5, 1.5),
    )
    on_scene_distribution: str = param(
        "lognormal",
        "-",
        "Lognormal (right-skewed, realistic) or exponential (for M/M/c validation).",
        choices=("lognormal", "exponential"),
    )
    class_order: tuple[str, ...] = param(
        DEFAULT_ORDER, "-", "Incident classes from first served to last (a priority order); "
        "each has a table [incidents.classes.NAME]. New class tables are appended unless the "
        "order is given.",
    )
    classes: dict[str, IncidentClass] = keyed_sections(_default_classes, IncidentClass)

    def priority(self, name: str) -> IncidentClass:
        """Return one incident class by name."""
        return self.classes[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Class names, in priority order."""
        return tuple(self.classes)

    def by_index(self) -> list[IncidentClass]:
        """The classes in priority order (index = the ``priority`` code of the log)."""
        return list(self.classes.values())

    @staticmethod
    def compose(kwargs: dict[str, Any], data: dict[str, Any], prefix: str) -> dict[str, Any]:
        """Order the classes by ``class_order`` (given) or append new ones (not given)."""
        classes = kwargs.get("classes", _default_classes())
        given = data.get("classes", {})
        given = given if isinstance(given, dict) else {}
        if "class_order" in data:
            order = tuple(kwargs["class_order"])
        else:
            order = (*DEFAULT_ORDER, *[k for k in given if k not in DEFAULT_ORDER])
        if not order:
            raise ScenarioError(f"{prefix}class_order: needs at least one class")
        if len(set(order)) != len(order):
            raise ScenarioError(f"{prefix}class_order: a class is listed twice")
        for name in order:
            if not NAME.fullmatch(str(name)):
                raise ScenarioError(f"{prefix}class_order: {echo(name)} is not a class name "
                                    f"(a lower-case letter, then letters, digits and _; at "
                                    f"most 40)")
        extra = [k for k in given if k not in order]
        if extra:
            raise ScenarioError(f"{prefix}classes.{extra[0]}: not listed in {prefix}class_order")
        kwargs["class_order"] = tuple(order)
        kwargs["classes"] = {k: classes.get(k, IncidentClass()) for k in order}
        return kwargs


