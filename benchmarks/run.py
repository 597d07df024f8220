"""Benchmark suite: named cases, each printing wall time, events/s, peak RSS and a JSON record.

Run with ``make bench`` or ``python benchmarks/run.py [CASE ...] [--json FILE]`` (the cases run
replace their records in FILE; the other records stay, each with its date). Cases:

* ``default_year`` — the default city, all mechanisms on, 365 days;
* ``default_5years`` — the same for 1,825 days (peak memory should match ``default_year``'s:
  old incidents stream to disk and the tables are computed part by part);
* ``residents_10k_60d`` / ``residents_100k_60d`` — the default city for 60 days with 10k and
  100k residents (scaling of the vectorised resident updates), and ``residents_100k_30d``;
* ``base_60d`` / ``officers_incidents_10x_60d`` — the default city for 60 days, and with ten
  times the officers and ten times the incidents (scaling of the event-driven core);
* ``city_200x200`` — a 200 x 200 city, 100,000 residents, 2,000 officers, 30 days;
* ``city_1m_year`` — the issue's scale: a 200 x 200 city of 1,000,000 residents (one agent
  each), 5,000 officers and about 1.36 million incidents, 365 days;
* ``bare_queue`` — a bare SimPy M/M/c queue with the same number of calls as ``default_year``
  (the reference cost per call); the model's cost per incident is reported relative to it.

Each case runs in a fresh subprocess so that peak RSS is the case's own.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CASES = {
    "default_year": {"days": 365, "overrides": {}},
    "default_5years": {"days": 1825, "overrides": {}},
    "residents_10k_60d": {"days": 60, "overrides": {}},
    "residents_100k_60d": {"days": 60, "overrides": {"residents.agents": 100_000}},
    "residents_100k_30d": {"days": 30, "overrides": {"residents.agents": 100_000}},
    "base_60d": {"days": 60, "overrides": {}},
    "officers_incidents_10x_60d": {"days": 60, "overrides": {
        "police.officers": 1200, "incidents.rate_per_1000_day": 30.0}},
    "city_1m_year": {"days": 365, "overrides": {
        "city.width": 200, "city.height": 200, "city.community_cells": 20,
        "city.population": 1_000_000, "residents.agents": 1_000_000, "police.officers": 5000,
        "city.precincts_x": 5, "city.precincts_y": 5}},
    "city_200x200": {"days": 30, "overrides": {
        "city.width": 200, "city.height": 200, "city.community_cells": 20,
        "city.population": 1_000_000, "residents.agents": 100_000, "police.officers": 2000,
        "city.precincts_x": 5, "city.precincts_y": 5}},
}


def run_case(name: str) -> dict:
    """Run one model case in this process and measure it."""
    sys.path.insert(0, str(ROOT))
    from sim.api import build_model, collect
    from sim.scenario import load_scenario

    spec = CASES[name]
    sc = load_scenario("default", {**spec["overrides"]})
    t0 = time.perf_counter()
    model = build_model(sc, days=spec["days"])
    t_build = time.perf_counter() - t0
    events = _count_events(model)
    model.run_days(spec["days"])
    t_run = time.perf_counter() - t0 - t_build
    result = collect(model)
    t_total = time.perf_counter() - t0
    n_events = events()
    return {
        "case": name, "days": spec["days"], "wall_s": round(t_total, 3),
        "build_s": round(t_build, 3), "run_s": round(t_run, 3),
        "incidents_true": result.summary["incidents_true"],
        "incidents_reported": result.summary["incidents_reported"],
        "events": n_events, "events_per_s": round(n_events / max(t_run, 1e-9)),
        "us_per_reported_incident": round(1e6 * t_run /
                                          max(result.summary["incidents_reported"], 1), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _count_events(model) -> object:
    """Count executed events: Mesa's (by wrapping its event-list pop) plus the agenda's."""
    counter = {"n": 0}
    ev = model._event_list  # measurement only: Mesa exposes no event counter
    original = ev.pop_event

    def pop_event():
        counter["n"] += 1
        return original()

    ev.pop_event = pop_event
    agenda = getattr(model, "agenda", None)
    start = agenda.executed if agenda is not None else 0
    return lambda: counter["n"] + (agenda.executed - start if agenda is not None else 0)


def bare_queue(n_calls: int, c: int = 15, seed: int = 1) -> dict:
    """A bare SimPy M/M/c queue processing ``n_calls`` calls (the reference per-call cost)."""
    import numpy as np
    import simpy

    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    units = simpy.Resource(env, capacity=c)
    waits: list[float] = []

    def call(env, arrival):
        with units.request() as req:
            yield req
            waits.append(env.now - arrival)
            yield env.timeout(rng.exponential(40.0))

    def source(env):
        for _ in range(n_calls):
            yield env.timeout(rng.exponential(1440.0 / 150))
            env.process(call(env, env.now))

    env.process(source(env))
    t0 = time.perf_counter()
    env.run()
    dt = time.perf_counter() - t0
    return {"case": "bare_queue", "calls": n_calls, "wall_s": round(dt, 3),
            "us_per_call": round(1e6 * dt / n_calls, 2)}


def main() -> None:
    """Run the chosen cases (each in a subprocess) and print a table and JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("cases", nargs="*", default=list(CASES))
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_case(args.one)))
        return
    records = []
    for name in args.cases:
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, __file__, "--one", name], check=True,
                             capture_output=True, text=True, cwd=ROOT)
        rec = json.loads(out.stdout.strip().splitlines()[-1])
        rec["process_s"] = round(time.perf_counter() - t0, 3)  # start-up and imports included
        records.append(rec)
        print(json.dumps(rec))
    year = next((r for r in records if r["case"] == "default_year"), None)
    if year:
        ref = bare_queue(year["incidents_reported"])
        ref["model_us_per_incident"] = year["us_per_reported_incident"]
        ref["ratio_to_bare_queue"] = round(year["us_per_reported_incident"] /
                                           ref["us_per_call"], 1)
        # The measure: the whole process (Python start-up, imports, build, run,
        # tables) against the bare queue's run on the same number of calls.
        ref["model_process_s"] = year["process_s"]
        ref["ratio_with_startup"] = round(year["process_s"] / max(ref["wall_s"], 1e-9), 1)
        records.append(ref)
        print(json.dumps(ref))
    meta = {"machine": platform.machine(), "python": platform.python_version(),
            "processor": platform.processor(), "date": time.strftime("%Y-%m-%d")}
    for rec in records:
        rec["date"] = meta["date"]
    args.json.write_text(json.dumps(merged(args.json, meta, records), indent=2) + "\n")
    print(f"wrote {args.json}")


def merged(path: Path, meta: dict, records: list[dict]) -> dict:
    """The results file with ``records`` replacing those of the same cases.

    Records of cases not run now are kept, each with the date it was measured (the file's date
    for records written before records carried their own), so running one case does not drop
    the figures the README quotes for the others.
    """
    try:
        old = json.loads(path.read_text())
        kept = [{"date": old.get("meta", {}).get("date"), **r} for r in old["records"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        kept = []
    now = {r["case"] for r in records}
    return {"meta": meta, "records": [r for r in kept if r.get("case") not in now] + records}


if __name__ == "__main__":
    main()
