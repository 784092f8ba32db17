"""``--ledger PATH``: the problem ledger (问题台账) every audit command can write, and the
one writer they (and ``geoplan demo``) share."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pandas as pd

    from geoplan.audit.results import AuditResult
    from geoplan.cli._common import Progress
    from geoplan.profiles import Profile

__all__ = ["LEDGER_NAME", "echo_ledger", "ledger_option", "save_ledger"]

#: What ``geoplan demo`` names its ledger in --out (alias in docs/ledger.md: ledger.xlsx).
LEDGER_NAME = "问题台账.xlsx"


def _check_suffix(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Refuse a ledger path that is neither .xlsx nor .csv before any work is done."""
    if value is not None and value.suffix.lower() not in (".xlsx", ".csv"):
        raise click.BadParameter(f"{value}: a ledger is written as .xlsx or .csv", ctx, param)
    return value


ledger_option = click.option(
    "--ledger",
    "ledger_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    callback=_check_suffix,
    help="Write the problem ledger (问题台账), one row per community and failing check: "
    "a .xlsx path writes the workbook and the same tables as CSV beside it, a .csv path "
    "the CSVs only (docs/ledger.md).",
)


def save_ledger(
    results: Sequence[AuditResult],
    path: Path,
    *,
    progress: Progress,
    communities: pd.DataFrame | None = None,
    inputs: Iterable[str | os.PathLike[str]] = (),
    profiles: Iterable[Profile] = (),
    lang: str = "zh",
) -> dict[str, Any]:
    """Build and write the ledger of ``results`` (a step of ``progress``, phase
    ``ledger``); what a command reports about it (rows, checks not measurable, files),
    JSON-ready.

    Inputs that are files are named on the sheet 说明 and are never overwritten.
    """
    from geoplan._timing import phase
    from geoplan.report.ledger import problem_ledger, write_ledger

    with progress.step(f"writing the problem ledger {path}"), phase("ledger"):
        ledger = problem_ledger(results, communities=communities, lang=lang, profiles=profiles)
        files = [Path(p) for p in inputs if isinstance(p, str | os.PathLike) and Path(p).exists()]
        paths = write_ledger(ledger, path, inputs=[str(p) for p in files], protect=files)
    unmeasured = ledger.attrs.get("unmeasured")
    return {
        "rows": len(ledger),
        "not_measurable": 0 if unmeasured is None else len(unmeasured),
        "files": [str(p) for p in paths],
    }


def echo_ledger(info: Mapping[str, object], *, lang: str) -> None:
    """One line: how many rows the ledger has and where it is."""
    files = info.get("files")
    first = files[0] if isinstance(files, list) and files else ""
    if lang == "zh":
        click.echo(f"问题台账：{info['rows']} 行，无法判定 {info['not_measurable']} 项 -> {first}")
    else:
        click.echo(
            f"problem ledger: {info['rows']} rows, {info['not_measurable']} checks not "
            f"measurable -> {first}"
        )
