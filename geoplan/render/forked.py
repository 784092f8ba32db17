"""One piece of work in a forked process while the caller does another: the PNG of a
gap map drawn beside its HTML page, on the second core.

Both are Python bound (matplotlib's drawing and import, folium's page), so threads
would take turns on the GIL; a forked child sees the layers through copy-on-write
pages, so nothing is pickled but the result. Where fork is unavailable or unsafe
(not Linux, inside a daemonic process, one core), the work runs in the caller when
its result is asked for, as it always did. A child that fails or dies costs a rerun
in the caller, which then raises the error with its own type and traceback; the
warnings the work raised in the child are raised again in the caller.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
import warnings
from collections.abc import Callable
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Generic, TypeVar, cast

__all__ = ["Forked", "can_fork_here"]

T = TypeVar("T")

#: Seconds between checks that the child is still alive while waiting for its result.
_POLL_S = 0.2


def can_fork_here() -> bool:
    """Whether work may go to a forked child: Linux, two cores or more for this
    process, no other Python thread running (a fork copies none of them, and a lock
    one holds stays held) and not itself a daemonic process (a ``multiprocessing``
    pool worker).

    Examples
    --------
    >>> isinstance(can_fork_here(), bool)
    True
    """
    if not sys.platform.startswith("linux") or "fork" not in mp.get_all_start_methods():
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= 2 and threading.active_count() == 1 and not mp.current_process().daemon


def _child(work: Callable[[], object], conn: Connection) -> None:
    try:
        with warnings.catch_warnings(record=True) as caught:
            value = work()
        said = [(w.category, str(w.message)) for w in caught]
        conn.send((True, value, said))
    except BaseException as exc:  # reported; the caller reruns the work itself
        conn.send((False, repr(exc), []))
    finally:
        conn.close()


class Forked(Generic[T]):
    """``work()`` started in a forked child (see the module); :meth:`result` waits for
    it. Used as a context manager, a child still running when the block is left by an
    error is stopped.

    Examples
    --------
    >>> with Forked(lambda: 6 * 7) as job:
    ...     job.result()
    42
    """

    def __init__(self, work: Callable[[], T], *, fork: bool | None = None) -> None:
        self._work = work
        self._proc: mp.process.BaseProcess | None = None
        self._conn: Connection | None = None
        if can_fork_here() if fork is None else fork:
            ctx = mp.get_context("fork")
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(work, send), daemon=True)
            try:
                proc.start()
            except OSError:  # no process to be had (limits, memory): the work runs here
                recv.close()
                return
            finally:
                send.close()
            self._proc, self._conn = proc, recv

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()

    def _stop(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join()

    def _received(self) -> tuple[bool, object, list[tuple[type[Warning], str]]] | None:
        proc, conn = self._proc, self._conn
        if proc is None or conn is None:
            return None
        try:
            while not conn.poll(_POLL_S):
                if not proc.is_alive() and not conn.poll(0):
                    return None  # died without a word (killed, out of memory)
            return cast("tuple[bool, object, list[tuple[type[Warning], str]]]", conn.recv())
        except (EOFError, OSError):
            return None
        finally:
            self._stop()

    def result(self) -> T:
        """The work's result: the child's, else the work run here (raising its error)."""
        got = self._received()
        if got is None or not got[0]:
            return self._work()
        for category, message in got[2]:
            warnings.warn(message, category, stacklevel=2)
        return cast("T", got[1])
