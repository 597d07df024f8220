"""Task functions for tests/test_workers.py: importable by name in spawned workers."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the sweep (pandas, the model) is imported only by the workers that run it
    from experiments.sweep import RunOutcome, RunTask

DEATH_RUN = "p0001-r000"  # point 1, replication 0


def square_or_exit(n: int) -> int:
    """``n * n``; task 5 kills its worker with ``os._exit(3)``."""
    if n == 5:
        os._exit(3)
    return n * n


def count_and_die(task: tuple[int, str]) -> int:
    """Log one attempt in a file; odd tasks then die (SIGKILL for 1, ``os._exit(4)`` else)."""
    n, folder = task
    with (Path(folder) / f"{n}.attempts").open("a") as log:
        log.write(f"{os.getpid()}\n")
    if n == 1:
        os.kill(os.getpid(), signal.SIGKILL)
    if n % 2:
        os._exit(4)
    time.sleep(0.05)
    return n


def die_once(task: tuple[int, str]) -> int:
    """Task 3 kills its worker the first time only (a marker file remembers)."""
    n, folder = task
    marker = Path(folder) / "died"
    if n == 3 and not marker.exists():
        marker.touch()
        os._exit(5)
    return n


def print_pid_and_sleep(seconds: float) -> int:
    """Print ``pid <PID>`` on stdout in one write, then sleep."""
    os.write(1, f"pid {os.getpid()}\n".encode())
    time.sleep(seconds)
    return os.getpid()


def dying_run_one(task: RunTask) -> RunOutcome:
    """:func:`experiments.sweep.run_one`, except that run ``p0001-r000`` kills its worker."""
    from experiments.sweep import run_one

    if task.run_id == DEATH_RUN:
        os._exit(7)
    return run_one(task)
