"""Execution backends: run a function over tasks and yield results as they finish.

Three backends share one interface, :meth:`Backend.map`:

* :class:`SerialBackend` runs in this process, in order (``--workers 1``).
* :class:`PoolBackend` runs a :class:`concurrent.futures.ProcessPoolExecutor` on this machine
  (the default: one worker per core; nothing to start). Workers are *spawned*, a start method
  set on the executor only, so the caller's global start method is never changed.
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

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol

START_METHOD = "spawn"


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


class PoolBackend:
    """A local process pool (spawned workers).

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
        """Submit every task; yield results in completion order."""
        ctx = multiprocessing.get_context(START_METHOD)
        pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        try:
            pending: dict[Future[Any], Any] = {pool.submit(fn, t): t for t in tasks}
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in sorted(done, key=lambda f: str(pending[f])):
                    task = pending.pop(fut)
                    yield task, self._result(fut, task)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

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

