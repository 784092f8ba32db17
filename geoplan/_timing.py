"""Phase timings: ``with phase("read.network"): ...`` reports its wall time to logging.

A phase is a named block of work (reading a file, snapping, the Dijkstra passes,
writing). :func:`phase` measures it with :func:`time.perf_counter` and logs one
DEBUG record to the logger ``geoplan.phases`` (:data:`LOGGER`) carrying the phase
name and its seconds as the record attributes ``phase`` and ``seconds``. Nothing is
kept here: whoever wants the figures attaches a handler (the CLI does, to
:class:`PhaseFileHandler`, when ``GEOPLAN_PHASES=FILE`` is set; see
``benchmarks/bench_cli.py``). Without a handler and at the default log level a
phase costs two clock reads and a level check.

The markers on one code path do not nest, so the phases of a command add up to
its measured work (the rest is start-up, imports and printing).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import time
from collections.abc import Callable, Iterator

__all__ = ["LOGGER", "PhaseFileHandler", "phase"]

#: Name of the logger the phases are reported to.
LOGGER = "geoplan.phases"


@contextlib.contextmanager
def phase(name: str) -> Iterator[None]:
    """Time the block and log it as phase ``name`` (also when the block raises).

    Examples
    --------
    >>> import logging
    >>> seen = []
    >>> class Keep(logging.Handler):
    ...     def emit(self, record):
    ...         seen.append((record.phase, record.seconds >= 0))
    >>> log = logging.getLogger(LOGGER)
    >>> keep, level = Keep(), log.level
    >>> log.addHandler(keep); log.setLevel(logging.DEBUG)
    >>> with phase("read.network"):
    ...     pass
    >>> log.removeHandler(keep); log.setLevel(level)
    >>> seen
    [('read.network', True)]
    """
    start = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - start
        log = logging.getLogger(LOGGER)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%s: %.3f s", name, seconds, extra={"phase": name, "seconds": seconds})


class PhaseFileHandler(logging.Handler):
    """Append one JSON line per phase record to ``path``.

    Each line is ``{"phase": ..., "seconds": ..., "command": ...}``; ``command`` is
    what ``command()`` returns when the record is written (the CLI passes the
    command being run, e.g. ``"coverage"``). The file is opened for each record
    and appended to, so several processes may share it. Records without a
    ``phase`` attribute are ignored.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, command: Callable[[], str] | None = None
    ) -> None:
        super().__init__(level=logging.DEBUG)
        self.path = os.fspath(path)
        self.command = command

    def emit(self, record: logging.LogRecord) -> None:
        name = getattr(record, "phase", None)
        if name is None:
            return
        try:
            line = json.dumps(
                {
                    "phase": str(name),
                    "seconds": float(getattr(record, "seconds", float("nan"))),
                    "command": self.command() if self.command is not None else None,
                },
                ensure_ascii=False,
            )
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        except Exception:  # a timing file must never break a command
            self.handleError(record)
