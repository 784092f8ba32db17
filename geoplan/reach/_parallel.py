"""Independent passes on both cores: forked worker processes that share the graph.

scipy's ``dijkstra`` holds the GIL (measured: two threads run 0.9x as fast as one, two
processes 1.8x), so the per-category passes run in processes. The workers are forked:
they see the parent's graph and snapped points through copy-on-write pages, so nothing
city-sized is pickled. Each task's result comes back through a queue, and its large
numpy arrays (the distances aligned to the origins) through files in a private folder
in memory (/dev/shm), removed as they are read and with the folder at the end (at
200,000 origins, ten results pickled through the pipe cost 0.15-0.3 s).
A task computes exactly what it computes in the parent, so the results are the same bit
for bit whatever the number of jobs.

Where fork is unavailable or unsafe (not Linux, or inside a daemonic process such as a
``multiprocessing`` pool worker), or for one job or one task, the tasks run in the
calling process. A worker that dies (killed, out of memory) costs its unfinished tasks
a rerun in the calling process, not the run; an exception in a task is raised again by
rerunning that task in the calling process, so it carries its own type and traceback.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

import numpy as np

__all__ = ["available_cores", "can_fork", "resolve_jobs", "run_tasks"]

T = TypeVar("T")

#: Seconds between checks that the workers are still alive while waiting.
_POLL_S = 0.5


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS tells it)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_jobs(jobs: int | None) -> int:
    """``jobs`` as a count of processes: None or 0 means every available core.

    Examples
    --------
    >>> resolve_jobs(1)
    1
    >>> resolve_jobs(None) == available_cores()
    True
    """
    if jobs is None or jobs == 0:
        return available_cores()
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 0:
        from geoplan._errors import InputError

        raise InputError(f"jobs must be a whole number >= 0, got {jobs!r}", column="jobs")
    return jobs


def can_fork() -> bool:
    """Whether worker processes can be forked here (Linux, not in a daemonic process)."""
    return (
        sys.platform.startswith("linux")
        and "fork" in mp.get_all_start_methods()
        and not mp.current_process().daemon
    )


#: Arrays at least this large travel through a file in memory rather than the pipe.
_SPILL_MIN_BYTES = 1 << 16


@dataclass(frozen=True)
class _Spilled:
    """A worker's array, left in a file of the run's spill folder for the parent."""

    path: str
    shape: tuple[int, ...]
    dtype: str


def _spilled(value: object, folder: str, tag: str) -> object:
    """``value`` with its large numeric arrays (alone or in a tuple) written to files."""
    if isinstance(value, tuple):
        return tuple(_spilled(v, folder, f"{tag}-{k}") for k, v in enumerate(value))
    big = isinstance(value, np.ndarray) and value.nbytes >= _SPILL_MIN_BYTES
    if big and isinstance(value, np.ndarray) and value.dtype != object:
        path = os.path.join(folder, f"{tag}.bin")
        np.ascontiguousarray(value).tofile(path)
        return _Spilled(path, value.shape, value.dtype.str)
    return value


def _unspilled(value: object) -> object:
    """The arrays of :func:`_spilled` read back, their files removed."""
    if isinstance(value, tuple):
        return tuple(_unspilled(v) for v in value)
    if isinstance(value, _Spilled):
        out = np.fromfile(value.path, dtype=np.dtype(value.dtype)).reshape(value.shape)
        os.unlink(value.path)
        return out
    return value


def _spill_folder() -> str:
    """A private folder for the workers' arrays: in RAM (/dev/shm) where there is one."""
    shm = "/dev/shm"
    where = shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None
    return tempfile.mkdtemp(prefix="geoplan-jobs-", dir=where)


def _worker(
    work: Callable[[int], T],
    tasks: mp.SimpleQueue[int | None],
    results: mp.Queue[object],
    spill: str,
) -> None:
    while True:
        i = tasks.get()
        if i is None:
            return
        try:
            results.put((i, True, _spilled(work(i), spill, str(i))))
        except BaseException as exc:  # reported; the parent reruns the task itself
            results.put((i, False, repr(exc)))


def run_tasks(work: Callable[[int], T], n_tasks: int, *, jobs: int) -> list[T]:
    """``[work(0), ..., work(n_tasks - 1)]``, on up to ``jobs`` forked processes.

    ``work`` must be a pure function of its task number and of data that exists before
    the call (the forked workers see that data as it was at the call).

    Examples
    --------
    >>> run_tasks(lambda i: i * i, 4, jobs=2)
    [0, 1, 4, 9]
    """
    n_workers = min(jobs, n_tasks)
    if n_workers <= 1 or not can_fork():
        return [work(i) for i in range(n_tasks)]
    ctx = mp.get_context("fork")
    tasks: mp.SimpleQueue[int | None] = ctx.SimpleQueue()
    results: mp.Queue[object] = ctx.Queue()
    for i in range(n_tasks):
        tasks.put(i)
    for _ in range(n_workers):
        tasks.put(None)
    spill = _spill_folder()
    procs = [
        ctx.Process(target=_worker, args=(work, tasks, results, spill), daemon=True)
        for _ in range(n_workers)
    ]
    for p in procs:
        p.start()
    done: dict[int, T] = {}
    failed: set[int] = set()
    try:
        while len(done) + len(failed) < n_tasks:
            try:
                item = results.get(timeout=_POLL_S)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break  # every worker gone: what is left runs here
                continue
            i, ok, value = cast("tuple[int, bool, object]", item)
            if ok:
                done[i] = cast("T", _unspilled(value))
            else:
                failed.add(i)
    finally:
        for p in procs:
            p.join(timeout=5.0)
            if p.is_alive():
                p.kill()
                p.join()
        results.close()
        tasks.close()
        shutil.rmtree(spill, ignore_errors=True)  # a dead worker's files too
    # tasks a dead worker left unfinished, and failed ones (to raise their error here)
    for i in range(n_tasks):
        if i not in done:
            done[i] = work(i)
    return [done[i] for i in range(n_tasks)]
