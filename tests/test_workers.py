"""Process-pool workers: a dead worker costs only its own run; workers die with the sweep."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import _worker_tasks as wt
import pytest

from experiments import sweep
from experiments.execute import PoolBackend, WorkerDiedError, describe_error

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and /proc")


def run_pool(fn, tasks, workers=2):
    errors: list[tuple[object, BaseException]] = []

    def on_error(task, exc):
        errors.append((task, exc))
        return "lost"

    results = list(PoolBackend(workers, on_error).map(fn, tasks))
    return results, errors


def test_only_the_task_whose_worker_died_fails():
    results, errors = run_pool(wt.square_or_exit, list(range(12)))
    assert [task for task, _ in errors] == [5]
    exc = errors[0][1]
    assert isinstance(exc, WorkerDiedError)
    assert describe_error(exc) == ("WorkerDiedError: the worker process died (exit code 3) "
                                   "while running this run")
    assert sorted(task for task, _ in results) == list(range(12))  # each exactly once
    assert {t: r for t, r in results if t != 5} == {n: n * n for n in range(12) if n != 5}
    assert dict(results)[5] == "lost"


def test_a_task_that_always_kills_its_worker_is_reported_once(tmp_path):
    tasks = [(n, str(tmp_path)) for n in range(8)]
    results, errors = run_pool(wt.count_and_die, tasks)
    assert sorted(t[0] for t, _ in errors) == [1, 3, 5, 7]  # once each
    messages = {t[0]: str(e) for t, e in errors}
    assert "killed by signal SIGKILL" in messages[1]
    assert "exit code 4" in messages[3]
    assert sorted(t[0] for t, _ in results) == list(range(8))
    assert {t[0]: r for t, r in results if t[0] % 2 == 0} == {0: 0, 2: 2, 4: 4, 6: 6}
    attempts = {n: len((tmp_path / f"{n}.attempts").read_text().split()) for n in range(8)}
    # At most twice: in the pool (unless a worker died before it started), then alone.
    assert all(attempts[n] in (1, 2) for n in range(8))


def test_a_worker_that_died_once_is_retried_without_a_failure(tmp_path):
    results, errors = run_pool(wt.die_once, [(n, str(tmp_path)) for n in range(6)])
    assert errors == []
    assert sorted(r for _, r in results) == list(range(6))
    assert (tmp_path / "died").exists()


def test_sweep_records_only_the_run_whose_worker_died(tmp_path, monkeypatch):
    monkeypatch.setattr(sweep, "run_one", wt.dying_run_one)  # pickled by name for workers
    spec = {"name": "dying", "replications": 2, "days": 1,
            "set": {"city.width": 12, "city.height": 12, "city.community_cells": 4,
                    "police.officers": 20, "residents.agents": 300},
            "factors": {"police.officers": [10, 20], "dispatch.hops": [1, 3]}}
    result = sweep.run_sweep(spec, out=tmp_path / "s", workers=2, progress=False)
    assert len(result.runs) == 8
    assert list(result.failed["run_id"]) == [wt.DEATH_RUN]
    assert result.failed["error"].iloc[0] == ("WorkerDiedError: the worker process died "
                                              "(exit code 7) while running this run")
    ok = result.runs[result.runs["status"] == "ok"]
    assert ok["response_time_mean"].notna().all()
    assert set(result.daily["run_id"]) == set(ok["run_id"])


# -- workers die with the main process ----------------------------------------------------
def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for a reaper counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def read_pids(proc: subprocess.Popen, n: int, timeout: float = 60.0) -> list[int]:
    """The first ``n`` PIDs ``proc``'s workers print as ``pid <PID>`` lines.

    Other lines (a library's notice, say) are ignored. Fails after ``timeout`` seconds.
    """
    pids: list[int] = []
    other: list[str] = []
    buffer = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        while len(pids) < n:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(proc.stdout.fileno(), 4096)
            if not chunk:
                break
            buffer += chunk
            *done, buffer = buffer.split(b"\n")
            for line in (d.decode() for d in done):
                if line.startswith("pid ") and line[4:].isdigit():
                    pids.append(int(line[4:]))
                else:
                    other.append(line)
    if len(pids) < n:
        proc.kill()  # stderr reaches its end only once the process has gone
        proc.wait()
        raise AssertionError(f"got {pids!r}, other output {other!r}; "
                             f"stderr: {proc.stderr.read().decode()[-2000:]}")
    return pids[:n]


def kill_and_check(script: str, n_children: int) -> None:
    code = f"import sys\nsys.path[:0] = [{str(ROOT)!r}, {str(TESTS)!r}]\n" + script
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, cwd=ROOT)
    pids: list[int] = []
    try:
        pids = read_pids(proc, n_children)
        assert len(set(pids)) == n_children and all(alive(p) for p in pids)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in pids if alive(p)], "orphaned workers"
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
        proc.stderr.close()
        for pid in pids:  # do not leave anything behind if the test failed
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_killing_the_main_process_kills_the_pool_workers():
    kill_and_check(textwrap.dedent("""
        from _worker_tasks import print_pid_and_sleep
        from experiments.execute import PoolBackend

        if __name__ == "__main__":
            list(PoolBackend(2, lambda task, exc: None).map(print_pid_and_sleep, [300, 300]))
    """), 2)


def test_the_parent_watch_alone_ends_an_orphan():
    # The portable fallback without prctl: a spawned child that only runs the watch loop.
    kill_and_check(textwrap.dedent("""
        import multiprocessing, os
        from experiments.execute import _watch_parent

        if __name__ == "__main__":
            ctx = multiprocessing.get_context("spawn")
            child = ctx.Process(target=_watch_parent, args=(os.getpid(), 0.2))
            child.start()
            print(f"pid {child.pid}", flush=True)
            child.join()
    """), 1)
