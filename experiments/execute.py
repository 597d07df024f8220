"""Execution backends: run a function over tasks and yield results as they finish.

Three backends share one interface, :meth:`Backend.map`:

* :class:`SerialBackend` runs in this process, in order (``--workers 1``).
* :class:`PoolBackend` runs a :class:`concurrent.futures.ProcessPoolExecutor` on this machine
  (the default: one worker per core; nothing to start). Workers are *spawned*, a start method
  set on the executor only, so the caller's global start method is never changed. A worker
  that dies (a crash, a signal, the out-of-memory killer) costs only the run it was running,
  and workers exit when the main process does, even when it is killed.
* :class:`DaskBackend` submits to a Dask ``distributed`` scheduler (``--dask ADDRESS``), or to
  a throw-away ``LocalCluster`` with ``--dask local``.

Results do not depend on the backend: every run draws its random numbers from its own seed,
and the store sorts runs by (point, replication) whatever the completion order.

Running on an HPC cluster (SLURM, PBS, SGE, LSF) with dask-jobqueue::

    # pip install dask-jobqueue   (on the login node, in the project's environment)
    from dask_jobqueue import SLURMCluster
    from distributed import Client
    from experiments.sweep import run_sweep

    cluster = SLURMCluster(cores=1, processes=1, memory="2GB", walltime="02:00:00",
                           job_extra_directives=["--partition=compute"])
    cluster.scale(jobs=32)               # 32 single-core workers, one batch job each
    result = run_sweep("experiments/strategy_comparison.toml", out="results/sc",
                       dask=Client(cluster))

or start a scheduler and workers by hand and pass ``--dask tcp://scheduler:8786`` to
``grassroots sweep``. Workers need the project installed (same versions); they return their
tables to the client, which alone writes the store, so no shared file system is needed.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

START_METHOD = "spawn"
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class Backend(Protocol):
    """Runs ``fn`` over tasks and yields ``(task, result)`` pairs as they complete."""

    name: str

    def map(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        """Run ``fn(task)`` for every task; yield each ``(task, result)`` as it finishes."""
        ...


def describe_error(exc: BaseException) -> str:
    """One line for an exception: its type and message."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


class SerialBackend:
    """Run tasks one after another in this process."""

    name = "serial"

    def map(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        """Run ``fn(task)`` for every task, in order."""
        for task in tasks:
            yield task, fn(task)


class WorkerDiedError(RuntimeError):
    """A worker process died (exit, signal, out-of-memory kill) while running a task."""


def _watch_parent(parent: int, interval: float = 1.0) -> None:
    """Exit this worker as soon as its parent (the sweep's main process) is gone."""
    while True:
        time.sleep(interval)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(parent: int) -> None:
    """Pool initializer: make this worker die with the process that started it.

    On Linux the kernel sends the worker ``SIGKILL`` when its parent dies
    (``prctl(PR_SET_PDEATHSIG)``); everywhere a daemon thread also polls ``os.getppid()``
    once a second and exits when the parent is gone (it is then re-parented). A parent that
    died before this ran is caught by comparing ``os.getppid()`` with ``parent``.

    Linux sends the death signal when the *thread* that started the worker ends, not only the
    process: :class:`PoolBackend` starts its workers from the thread that iterates
    :meth:`PoolBackend.map`, which lives at least as long as the pool.

    Args:
        parent: PID of the process that created the pool.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # no usable libc: the thread below still works
            pass
    if os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), name="grassroots-parent-watch",
                     daemon=True).start()


def _lost(fut: Future[Any]) -> bool:
    """Whether a finished future failed because its pool broke (a worker died)."""
    return isinstance(fut.exception(), BrokenProcessPool)


def _death_message(processes: list[Any]) -> str:
    """Why a single-worker pool broke, from the exit code of its process."""
    codes = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
    if not codes:
        how = "exit code unknown"
    elif codes[0] < 0:
        try:
            how = f"killed by signal {signal.Signals(-codes[0]).name}"
        except ValueError:
            how = f"killed by signal {-codes[0]}"
    else:
        how = f"exit code {codes[0]}"
    return f"the worker process died ({how}) while running this run"


class PoolBackend:
    """A local process pool (spawned workers).

    At most ``workers`` tasks are in flight, so when a worker dies (``os._exit``, a signal,
    the out-of-memory killer) and :class:`~concurrent.futures.ProcessPoolExecutor` breaks,
    only the tasks then running are suspects. Each suspect is run again alone, in a pool of
    its own (the suspects side by side); one that kills its worker there too is reported
    through ``on_error`` with a :class:`WorkerDiedError`, the others complete normally. Tasks
    not yet submitted go on in a fresh pool. Workers exit when the main process dies, even by
    ``SIGKILL`` (see :func:`_init_worker`).

    Args:
        workers: Number of worker processes.
        on_error: Called with ``(task, exception)`` when a worker could not return a result
            (e.g. it died); its return value is yielded as the task's result.
    """

    def __init__(self, workers: int, on_error: Callable[[Any, BaseException], Any]) -> None:
        self.workers = workers
        self.on_error = on_error
        self.name = f"process pool ({workers} workers)"

    def map(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        """Run ``fn`` over tasks, ``workers`` at a time; yield results in completion order."""
        todo: deque[Any] = deque(tasks)
        running: dict[Future[Any], Any] = {}
        pool: ProcessPoolExecutor | None = None
        try:
            while todo or running:
                if pool is None:
                    pool = self._pool(self.workers)
                broken = not self._fill(pool, fn, todo, running)
                done: set[Future[Any]] = set()
                if not broken:
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = any(_lost(f) for f in done)
                if broken:  # a broken pool fails every future still running: wait for them
                    done, _ = wait(running)
                results, suspects = [], []
                for fut in sorted(done, key=lambda f: str(running[f])):
                    task = running.pop(fut)
                    if _lost(fut):
                        suspects.append(task)
                    else:
                        results.append((task, self._result(fut, task)))
                if broken:
                    pool.shutdown(wait=True)
                    pool = None
                else:
                    self._fill(pool, fn, todo, running)  # keep the workers busy meanwhile
                yield from results
                if suspects:
                    yield from self._isolate(fn, suspects)
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _fill(self, pool: ProcessPoolExecutor, fn: Callable[[Any], Any], todo: deque[Any],
              running: dict[Future[Any], Any]) -> bool:
        """Submit tasks until ``workers`` are in flight.

        Returns:
            False if the pool refused a task because it broke (the task goes back to
            ``todo``: it never started, so it is not a suspect).
        """
        while todo and len(running) < self.workers:
            task = todo.popleft()
            try:
                running[pool.submit(fn, task)] = task
            except BrokenProcessPool:
                todo.appendleft(task)
                return False
        return True

    def _isolate(self, fn: Callable[[Any], Any],
                 suspects: list[Any]) -> Iterator[tuple[Any, Any]]:
        """Run each suspect alone in a one-worker pool; a worker that dies names its task."""
        queue = deque(sorted(suspects, key=str))
        alone: dict[Future[Any], tuple[ProcessPoolExecutor, list[Any], Any]] = {}
        try:
            while queue or alone:
                while queue and len(alone) < self.workers:
                    task = queue.popleft()
                    pool = self._pool(1)
                    fut = pool.submit(fn, task)
                    processes = list((getattr(pool, "_processes", None) or {}).values())
                    alone[fut] = (pool, processes, task)
                done, _ = wait(alone, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: str(alone[f][2])):
                    pool, processes, task = alone.pop(fut)
                    pool.shutdown(wait=True)
                    if _lost(fut):
                        exc = WorkerDiedError(_death_message(processes))
                        exc.__cause__ = fut.exception()
                        yield task, self.on_error(task, exc)
                    else:
                        yield task, self._result(fut, task)
        finally:
            for pool, _, _ in alone.values():
                pool.shutdown(wait=True, cancel_futures=True)

    @staticmethod
    def _pool(workers: int) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=workers,
                                   mp_context=multiprocessing.get_context(START_METHOD),
                                   initializer=_init_worker, initargs=(os.getpid(),))

    def _result(self, fut: Future[Any], task: Any) -> Any:
        try:
            return fut.result()
        except Exception as exc:  # a dead worker must not stop the sweep
            return self.on_error(task, exc)


class DaskBackend:
    """A Dask ``distributed`` cluster.

    Args:
        target: A scheduler address (``tcp://host:8786``), ``"local"`` for a temporary
            ``LocalCluster`` on this machine, or a ready ``distributed.Client``.
        on_error: As for :class:`PoolBackend` (e.g. a ``KilledWorker``).
        workers: Workers of a ``"local"`` cluster (default: one per core).
    """

    def __init__(self, target: Any, on_error: Callable[[Any, BaseException], Any],
                 workers: int | None = None) -> None:
        self.target = target
        self.on_error = on_error
        self.workers = workers
        self.name = f"dask ({target if isinstance(target, str) else 'client'})"

    def map(self, fn: Callable[[Any], Any], tasks: list[Any]) -> Iterator[tuple[Any, Any]]:
        """Submit every task to the cluster; yield results in completion order."""
        from distributed import as_completed

        client, owned = self._client()
        try:
            futures = client.map(fn, tasks, pure=False)
            by_key = {f.key: t for f, t in zip(futures, tasks, strict=True)}
            for fut in as_completed(futures):
                task = by_key[fut.key]
                try:
                    result = fut.result()
                except Exception as exc:
                    result = self.on_error(task, exc)
                fut.release()
                yield task, result
        finally:
            for item in reversed(owned):
                item.close()

    def _client(self) -> tuple[Any, list[Any]]:
        from distributed import Client, LocalCluster

        if isinstance(self.target, Client):
            return self.target, []
        if self.target == "local":
            cluster = LocalCluster(n_workers=self.workers or os.cpu_count() or 1,
                                   threads_per_worker=1, dashboard_address=None)
            client = Client(cluster)
            return client, [cluster, client]
        if hasattr(self.target, "scheduler_address"):  # a Cluster object
            client = Client(self.target)
            return client, [client]
        client = Client(str(self.target))
        return client, [client]


def make_backend(workers: int | None, dask: Any,
                 on_error: Callable[[Any, BaseException], Any], n_tasks: int) -> Backend:
    """Pick the backend for a sweep.

    Args:
        workers: Local worker processes (None: one per core; 1: serial in this process).
        dask: A Dask scheduler address, ``"local"``, a Client or a Cluster (None: local).
        on_error: Turns an exception raised outside the task into the task's result.
        n_tasks: Number of tasks (a pool is not started for fewer than two).

    Returns:
        The backend.
    """
    if dask is not None and dask is not False:
        return DaskBackend(dask, on_error, workers)
    n = (os.cpu_count() or 1) if workers is None else workers
    if n < 1:
        raise ValueError(f"workers: must be >= 1, got {n}")
    n = min(n, max(n_tasks, 1))
    return SerialBackend() if n == 1 else PoolBackend(n, on_error)

