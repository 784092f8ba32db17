"""The engine: areas' tasks on a dask.distributed cluster.

:func:`dask_client` opens a client: on a :class:`distributed.LocalCluster` of
``workers`` processes with one thread each (the embedded default), or on a running
cluster (``dask scheduler`` / ``dask worker``, dask-jobqueue, dask-kubernetes) at
``scheduler``. :func:`run_areas` submits one task per area and collects the
answers as they come, with a progress bar on stderr:

- a task is submitted with ``retries``: one that raises is run again, up to that
  many times; a worker that dies mid-task (killed, out of memory) loses only its
  tasks, which the scheduler gives to another worker (up to dask's
  ``distributed.scheduler.allowed-failures``);
- a task that still fails is reported (``status="error"``, the exception's text),
  and the other areas are kept; bad input inside a task (``status="bad_input"``)
  is not retried: it would fail again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from geoplan._errors import InputError
from geoplan.areas.task import AreaAnswer, AreaTask, area_reach

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["dask_client", "default_workers", "run_areas"]

#: Seconds to wait for a scheduler given by address before calling it unreachable.
CONNECT_TIMEOUT_S = 30
#: The environment of a LocalCluster's workers. pyarrow's default allocator
#: (mimalloc) keeps what a task frees and grows a worker's peak by tens of MB over
#: the tasks (at 1M nodes, about 20 MB of a worker's ~300); the system allocator
#: gives it back. Workers started by hand (``dask worker``) may set it too.
WORKER_ENV = {"ARROW_DEFAULT_MEMORY_POOL": "system"}


def default_workers(n_areas: int) -> int:
    """Workers of a LocalCluster when none is asked for: the cores this process may
    use, at most one per area."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, n_areas))


@contextlib.contextmanager
def dask_client(*, workers: int | None = None, scheduler: str | None = None) -> Iterator[Client]:
    """A dask client for a run: on a new LocalCluster, or on the cluster at ``scheduler``.

    Parameters
    ----------
    workers
        Worker processes of the LocalCluster (one thread each); default one per
        core this process may use.
    scheduler
        ``tcp://HOST:PORT`` of a running scheduler; its workers must import
        geoplan and see the run's files at the same paths.

    The cluster (when started here) and the client are closed on leaving.
    """
    import distributed  # noqa: F401  (its import sets up its loggers: first, then quieten)

    with _distributed_logs(logging.WARNING):
        yield from _client(workers=workers, scheduler=scheduler)


@contextlib.contextmanager
def _distributed_logs(level: int) -> Iterator[None]:
    """dask's own loggers (``distributed``: INFO on stderr by default) at ``level`` for
    the run: a scheduler started here would log every worker's coming and going."""
    log = logging.getLogger("distributed")
    before = log.level
    log.setLevel(max(level, before))
    try:
        yield
    finally:
        log.setLevel(before)


def _client(*, workers: int | None, scheduler: str | None) -> Iterator[Client]:
    from distributed import Client, LocalCluster

    if scheduler is not None and workers is not None:
        raise InputError("give --workers (a local cluster) or --scheduler, not both")
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InputError(f"cannot reach the dask scheduler {scheduler}: {exc}") from exc
        try:
            yield client
        finally:
            client.close()
        return
    n = workers if workers is not None else default_workers(sys.maxsize)
    if n < 1:
        raise InputError(f"--workers must be >= 1, not {n}")
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: never a warning about 8787 in use
        silence_logs=logging.ERROR,
        env=dict(WORKER_ENV),  # set before the worker imports pyarrow
    )
    try:
        client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
    finally:
        cluster.close()


def run_areas(
    client: Client,
    tasks: Sequence[AreaTask],
    *,
    retries: int = 2,
    progress: bool = False,
    on_area: Callable[[AreaAnswer], None] | None = None,
) -> list[AreaAnswer]:
    """Run every area's task on the cluster; the answers in the tasks' order.

    ``on_area`` is called with each answer as it arrives (a failed one too);
    ``progress`` shows a bar on stderr.
    """
    from distributed import as_completed
    from tqdm import tqdm

    futures = [
        client.submit(
            area_reach, t, retries=retries, pure=False, key=f"geoplan-area-{k}-{_token()}"
        )
        for k, t in enumerate(tasks)
    ]
    where = {f.key: k for k, f in enumerate(futures)}
    answers: list[AreaAnswer | None] = [None] * len(tasks)
    bar = tqdm(total=len(tasks), desc="areas", unit="area", file=sys.stderr, disable=not progress)
    try:
        for fut in as_completed(futures):
            k = where[fut.key]
            try:
                answer = fut.result()
            except Exception as exc:  # the task raised (after its retries) or its workers died
                answer = AreaAnswer(
                    area_id=tasks[k].area_id,
                    status="error",
                    error=f"{type(exc).__name__}: {exc}",
                )
            answers[k] = answer
            fut.release()
            bar.update(1)
            if on_area is not None:
                on_area(answer)
    finally:
        bar.close()
    return [a for a in answers if a is not None]


def _token() -> str:
    return os.urandom(6).hex()
