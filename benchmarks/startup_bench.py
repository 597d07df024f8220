"""Start-up time of the command line: ``--help`` and argument errors (target < 0.5 s wall).

Usage::

    .venv/bin/python benchmarks/startup_bench.py [--repeat 5] [--json F]

Each command is run ``--repeat`` times as a fresh process (``python -m sim``, the same
command line as the ``grassroots`` script); the median wall time and the median CPU time
(user + system) are printed with the exit status and, for errors, the one line on stderr.
On a busy machine the wall time also measures the share of a core the command got; the CPU
time is close to what the wall time would be on a quiet one. ``--pythonpath DIR`` runs the
command line found in DIR instead, from DIR (e.g. ``git archive HEAD | tar -x -C /tmp/base`` for a
side-by-side comparison with the last commit). Timings on a shared machine are noisy:
compare figures taken in the same minute.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.5
COMMANDS = ["run", "show", "scenarios", "sweep", "optimize", "report", "audit", "viz",
            "validate", "calibrate"]
ERRORS = [
    ["run", "nosuchscenario"],
    ["run", "default", "--days", "-1"],
    ["run", "default", "--days", "abc"],
    ["run", "default", "--set", "police.officerz=3"],
    ["run", "default", "--set", "nonsense"],
    ["run", "default", "--bogus"],
    ["show", "nosuchscenario"],
    ["sweep", "nosuch.toml"],
    ["sweep", "experiments/strategy_comparison.toml", "--workers", "0"],
    ["optimize", "nosuch.toml"],
    ["audit", "nosuch.toml"],
    ["report", "nosuchstore"],
    ["viz", "--port", "0"],
    ["calibrate", "nosuchscenario"],
    ["nosuchcommand"],
]


def children_cpu() -> float:
    """User + system CPU seconds of every finished child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_once(args: list[str], pythonpath: Path | None) -> tuple[float, float, int, str]:
    """Wall time, CPU time, exit status and last stderr line of ``python -m sim ARGS``."""
    env = {**os.environ, "COLUMNS": "100"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    cpu, start = children_cpu(), time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "sim", *args], cwd=pythonpath or ROOT,
                          capture_output=True, text=True, check=False, env=env)
    wall, cpu = time.perf_counter() - start, children_cpu() - cpu
    lines = proc.stderr.strip().splitlines()
    return wall, cpu, proc.returncode, lines[-1] if lines else ""


def measure(args: list[str], repeat: int, pythonpath: Path | None) -> dict[str, object]:
    """Median wall and CPU time of ``grassroots ARGS`` over ``repeat`` runs."""
    walls, cpus, code, line = [], [], 0, ""
    for _ in range(repeat):
        wall, cpu, code, line = time_once(args, pythonpath)
        walls.append(wall)
        cpus.append(cpu)
    median, cpu = statistics.median(walls), statistics.median(cpus)
    print(f"{median:6.3f} s  cpu {cpu:6.3f} s  {'ok ' if median < TARGET_S else 'SLOW'}  "
          f"exit {code}  {' '.join(args):<54} {line[:60]}", flush=True)
    return {"args": args, "median_s": round(median, 3), "min_s": round(min(walls), 3),
            "cpu_s": round(cpu, 3), "exit": code, "stderr": line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pythonpath", type=Path, help="Run the command line found here.")
    parser.add_argument("--only", nargs="*", help="Only the commands whose words include "
                                                  "all of these (e.g. --only help).")
    parser.add_argument("--json", type=Path, help="Write the results here.")
    args = parser.parse_args()
    bytecode = "off (every start compiles the sources)" if os.environ.get(
        "PYTHONDONTWRITEBYTECODE") else "on"
    print(f"start-up benchmark: median of {args.repeat} runs, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.2f}, bytecode cache {bytecode}; "
          f"target < {TARGET_S} s wall", flush=True)
    cases = [["--help"], *([c, "--help"] for c in COMMANDS), *ERRORS]
    words = set(args.only or ())
    cases = [c for c in cases if words <= {w.lstrip("-") for w in c}]
    rows = [measure(c, args.repeat, args.pythonpath) for c in cases]
    slow = [r for r in rows if float(r["median_s"]) >= TARGET_S]  # type: ignore[arg-type]
    print(f"{len(rows) - len(slow)} of {len(rows)} commands under {TARGET_S} s (median wall); "
          f"slowest {max(float(r['median_s']) for r in rows):.3f} s wall, "  # type: ignore[arg-type]
          f"{max(float(r['cpu_s']) for r in rows):.3f} s cpu")  # type: ignore[arg-type]
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
