"""Many cities (``geoplan batch MANIFEST.toml``): every city's coverage audit, one task each.

A manifest (TOML) lists the cities, paths relative to the manifest::

    [defaults]                     # optional: keys every city takes unless it sets its own
    profile = "mofcom-15min"
    map = false

    [[city]]
    name = "银川"                  # the folder OUT/银川/ and the summary's row
    network = "yinchuan/walk.npz"
    buildings = "yinchuan/buildings.gpkg"
    facilities = "yinchuan/facilities.gpkg"
    communities = "yinchuan/communities.gpkg"   # optional
    crs = "gcj02"                                # optional, as --crs
    columns = { "户数" = "households" }          # optional, as --columns

:func:`read_manifest` checks the manifest (a problem is bad input naming the file,
the entry and the key; an input file that does not exist is one) and makes each
city's ``geoplan coverage`` command line (:class:`City`). :func:`run_batch` runs the
cities not finished yet on a dask cluster (:func:`geoplan.areas.engine.dask_client`),
one task per city (:func:`run_city`: the coverage command in its own process on a
worker, writing ``OUT/<city>/``, so each city's files are its single run's), and
writes the summary across cities after every city (:func:`write_summary`:
``batch_summary.csv`` and ``batch_summary.xlsx``, Chinese headers).

A city is finished when its folder holds ``batch_done.json``, written last and
atomically by its task once the command gave a verdict (exit 0 or 1), and its key
(the command line but ``--lang`` and ``--jobs``, and the sizes and times of its input
files) is the city's current one: a finished city is skipped unless ``force``; a
changed input runs it again; a failed city (bad input, an error) has no marker and
runs again next time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from geoplan._errors import InputError
from geoplan.areas.batch_summary import SUMMARY_CSV, SUMMARY_XLSX, summary_table, write_summary
from geoplan.areas.manifest import ENTRY_KEYS, City, read_manifest

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "ENTRY_KEYS",
    "MARKER",
    "SUMMARY_CSV",
    "SUMMARY_XLSX",
    "BatchResult",
    "City",
    "CityAnswer",
    "read_manifest",
    "run_batch",
    "run_city",
    "summary_table",
    "write_summary",
]

#: The marker of a finished city, in its folder: written last, atomically.
MARKER = "batch_done.json"
#: What the coverage command printed, in the city's folder.
STDOUT_FILE = "coverage_stdout.txt"
STDERR_FILE = "coverage_stderr.txt"

_EXIT_STATUS = {0: "pass", 1: "fail", 2: "bad_input"}

#: What a city's process runs: ``geoplan`` itself, first asking Linux to kill it when
#: the worker that started it dies (a worker killed mid-city costs a retry elsewhere,
#: never a second copy of the city still writing).
_CHILD = """\
import sys
try:
    import ctypes, signal
    ctypes.CDLL(None).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
except Exception:
    pass
from geoplan.cli import main
main(args=sys.argv[1:], prog_name="geoplan")
"""


@dataclass(frozen=True)
class CityAnswer:
    """How one city went: the coverage command's exit code (0 pass, 1 fail, 2 bad
    input, 3 an error), the error's text, its seconds and peak memory (the command's
    process, ``ru_maxrss``); ``skipped`` when it was finished before."""

    name: str
    exit_code: int
    error: str | None = None
    seconds: float | None = None
    peak_rss_mb: float | None = None
    skipped: bool = False

    @property
    def status(self) -> str:
        """``pass``, ``fail``, ``bad_input`` or ``error``."""
        return _EXIT_STATUS.get(self.exit_code, "error")


@dataclass(frozen=True, eq=False)
class BatchResult:
    """A batch run: every city of the manifest, how each went, the summary written."""

    cities: list[City]
    answers: dict[str, CityAnswer]
    summary: pd.DataFrame
    paths: list[Path]
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """The worst exit code of the cities that ran or were finished before (a city
        left out with ``only`` counts for nothing)."""
        return max([0, *(a.exit_code for a in self.answers.values())])


# --------------------------------------------------------------------------- one city


def run_city(city: City) -> CityAnswer:
    """Run one city's coverage command in its own process (what a worker runs).

    The command writes the city's folder; what it printed goes to
    ``coverage_stdout.txt`` and ``coverage_stderr.txt`` there. Once it gave a verdict
    (exit 0 or 1) the marker :data:`MARKER` is written, atomically, last. A command
    that exits with an error is answered with its code and the error's text; one
    killed by a signal (out of memory, a worker gone) raises, so the engine runs it
    again.
    """
    from geoplan.io.write import write_text

    folder = Path(city.folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).unlink(missing_ok=True)
    argv = [sys.executable, "-c", _CHILD, *city.argv]
    start = time.perf_counter()
    with (
        (folder / STDOUT_FILE).open("wb") as out,
        (folder / STDERR_FILE).open("wb") as err,
    ):
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        peak: float | None = None
        if hasattr(os, "wait4"):
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            scale = 1.0 if sys.platform == "darwin" else 1024.0
            peak = round(float(usage.ru_maxrss) * scale / 2**20, 1)
        else:  # pragma: no cover - not POSIX
            proc.wait()
    seconds = round(time.perf_counter() - start, 3)
    code = int(proc.returncode)
    if code < 0:
        raise RuntimeError(f"{city.name}: the coverage process was killed by signal {-code}")
    stderr = (folder / STDERR_FILE).read_text(encoding="utf-8", errors="replace")
    if code in (0, 1) and (folder / "coverage.json").is_file():
        from importlib import metadata

        marker = {
            "city": city.name,
            "exit_code": code,
            "status": _EXIT_STATUS[code],
            "key": city.key,
            "command": ["geoplan", *_masked(city.argv)],
            "seconds": seconds,
            "peak_rss_mb": peak,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "geoplan": metadata.version("geoplan"),
        }
        write_text(folder / MARKER, json.dumps(marker, ensure_ascii=False, indent=2) + "\n")
        return CityAnswer(city.name, code, None, seconds, peak)
    if code in (0, 1):
        code, error = 3, "the coverage command wrote no coverage.json"
    else:
        error = _error_text(stderr, code)
    return CityAnswer(city.name, code, error, seconds, peak)


def _masked(argv: Sequence[str]) -> list[str]:
    from geoplan.io.postgis import is_postgis_uri, mask_uri

    return [mask_uri(a) if is_postgis_uri(a) else a for a in argv]


def _error_text(stderr: str, code: int) -> str:
    """The error lines the command printed (``错误:`` / ``error:`` ...), else its last line."""
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    prefixes = ("错误:", "error:", "Error:", "内部错误", "internal error")
    picked = [x for x in lines if x.startswith(prefixes)]
    if picked:
        text = " | ".join(picked)
        for p in ("错误: ", "error: ", "Error: "):
            text = text.removeprefix(p)
        return text
    return lines[-1] if lines else f"exit code {code}"


def finished(city: City) -> dict[str, Any] | None:
    """The marker of a city finished with its current key (None when it must run)."""
    folder = Path(city.folder)
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("key") != city.key:
        return None
    if marker.get("exit_code") not in (0, 1) or not (folder / "coverage.json").is_file():
        return None
    return marker


# --------------------------------------------------------------------------- the batch


def run_batch(
    cities: Sequence[City],
    *,
    out_dir: str | os.PathLike[str],
    workers: int | None = None,
    scheduler: str | None = None,
    client: Client | None = None,
    force: bool = False,
    only: Sequence[str] = (),
    retries: int = 2,
    progress: bool = False,
    on_city: Callable[[CityAnswer], None] | None = None,
) -> BatchResult:
    """Run the cities not finished yet on a dask cluster; write the summary after each.

    Parameters
    ----------
    cities
        From :func:`read_manifest`.
    out_dir
        The output folder (the cities' folders and the summary).
    workers, scheduler, client
        A LocalCluster of ``workers`` processes (default: one per core, at most one
        per city to run), the running cluster at ``scheduler``, or an open client
        (:func:`geoplan.areas.engine.dask_client`). No cluster is started when every
        city is finished.
    force
        Run the finished cities again.
    only
        Run only these cities (names); the summary still has a row for every city.
    retries
        Runs again of a city whose process was killed (its worker died, out of
        memory) before it is reported as an error.
    progress, on_city
        A progress bar on stderr; a callback with each city's answer (skipped ones
        too) as it comes.
    """
    names = {c.name for c in cities}
    missing = [n for n in only if n not in names]
    if missing:
        raise InputError(f"--city {missing[0]!r}: no city of the manifest has that name")
    out = Path(out_dir)
    answers: dict[str, CityAnswer] = {}
    todo: list[City] = []
    for c in cities:
        marker = None if force else finished(c)
        if marker is not None:
            answers[c.name] = CityAnswer(
                c.name,
                int(marker["exit_code"]),
                None,
                marker.get("seconds"),
                marker.get("peak_rss_mb"),
                skipped=True,
            )
        elif not only or c.name in only:
            todo.append(c)
    notes: list[str] = []
    paths = write_summary(cities, answers, out, notes=notes)
    for c in cities:
        if c.name in answers and on_city is not None:
            on_city(answers[c.name])

    def done(answer: CityAnswer) -> None:
        answers[answer.name] = answer
        write_summary(cities, answers, out, notes=[])
        if on_city is not None:
            on_city(answer)

    if todo:
        if client is not None:
            _run_cities(client, todo, retries=retries, progress=progress, on_city=done)
        else:
            from geoplan.areas.engine import dask_client, default_workers

            n = workers if workers is not None or scheduler else default_workers(len(todo))
            with dask_client(workers=n, scheduler=scheduler) as opened:
                _run_cities(opened, todo, retries=retries, progress=progress, on_city=done)
        paths = write_summary(cities, answers, out, notes=notes)
    return BatchResult(
        cities=list(cities),
        answers=answers,
        summary=summary_table(cities, answers),
        paths=paths,
        notes=notes,
    )


def _run_cities(
    client: Client,
    cities: Sequence[City],
    *,
    retries: int,
    progress: bool,
    on_city: Callable[[CityAnswer], None],
) -> None:
    """One task per city; each answer (a task that failed too) to ``on_city`` as it comes."""
    from distributed import as_completed
    from tqdm import tqdm

    token = os.urandom(6).hex()
    futures = [
        client.submit(run_city, c, retries=retries, pure=False, key=f"geoplan-city-{k}-{token}")
        for k, c in enumerate(cities)
    ]
    where = {f.key: c for f, c in zip(futures, cities, strict=True)}
    bar = tqdm(total=len(cities), desc="cities", unit="city", file=sys.stderr, disable=not progress)
    try:
        for fut in as_completed(futures):
            city = where[fut.key]
            try:
                answer = fut.result()
            except Exception as exc:  # raised after its retries, or its workers died
                answer = CityAnswer(city.name, 3, f"{type(exc).__name__}: {exc}")
            fut.release()
            bar.update(1)
            on_city(answer)
    finally:
        bar.close()
