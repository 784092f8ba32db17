"""Shared pieces of the CLI: exit codes, error handling, JSON output."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import click

from geoplan._errors import GeoplanError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geoplan.audit.results import AuditResult
    from geoplan.households import Areas
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile


EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2
#: A bug in geoplan (an exception nobody meant to raise): neither a verdict nor bad input.
EXIT_INTERNAL = 3

#: Set to 1 to let errors propagate with their Python traceback (for developers).
DEBUG_ENV = "GEOPLAN_DEBUG"

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")

_log = logging.getLogger("geoplan.cli")

# keyword arguments named in library messages, and the CLI flags a user types instead
# (``source_crs=`` is ``--crs``; a message that names both, "--crs gcj02 (source_crs= in
# Python)", is left alone)
_FLAG_WITH_VALUE = re.compile(r"(?<![\w-])(?:source_)?(crs|columns)=('?)([\w:.-]+)\2(?! in Python)")
_FLAG_BARE = re.compile(r"(?<![\w-])(?:source_)?(crs|columns)=(?! in Python)")
# warnings meant for developers of code that uses geoplan, not for planners
_DEVELOPER_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def cli_text(text: str) -> str:
    """A library message as the CLI shows it: ``crs=`` becomes ``--crs``.

    Examples
    --------
    >>> cli_text("say what the coordinates are with crs= (e.g. crs=4326, crs='gcj02')")
    'say what the coordinates are with --crs (e.g. --crs 4326, --crs gcj02)'
    >>> cli_text("give it with source_crs=4326")
    'give it with --crs 4326'
    >>> cli_text("map yours with columns=); metric_crs= stays; (columns= in Python)")
    'map yours with --columns); metric_crs= stays; (columns= in Python)'
    """
    text = _FLAG_WITH_VALUE.sub(lambda m: f"--{m[1]} {m[3]}", text)
    return _FLAG_BARE.sub(lambda m: f"--{m[1]}", text)


def echo_warning(text: str, *, lang: str = "zh") -> None:
    """One warning line on stderr: ``警告: ...`` (``--lang zh``) or ``warning: ...``."""
    click.echo(f"{'警告' if lang == 'zh' else 'warning'}: {cli_text(text)}", err=True)


def _error_text(exc: BaseException, lang: str) -> str:
    localized = getattr(exc, "localized", None)
    text = localized(lang) if callable(localized) else str(exc)
    return cli_text(str(text))


def _verbosity() -> int:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return 0
    return int(ctx.find_root().params.get("verbose") or 0)


def _is_bad_input(exc: Exception) -> bool:
    """Errors a user's input causes: geoplan's own, CRS strings PROJ refuses, values
    a reader or pandas cannot parse, files that cannot be read (truncated, not the
    format their name says) or written."""
    import zipfile

    if isinstance(exc, GeoplanError | ValueError | OSError | EOFError | zipfile.BadZipFile):
        return True
    import pyproj.exceptions

    if isinstance(exc, pyproj.exceptions.CRSError | pyproj.exceptions.ProjError):
        return True
    try:  # GDAL could not open or read a file: not a GeoPackage, a truncated layer
        from pyogrio.errors import DataLayerError, DataSourceError
    except ImportError:
        return False
    return isinstance(exc, DataSourceError | DataLayerError)


def _is_crs_error(exc: Exception) -> bool:
    import pyproj.exceptions

    return isinstance(exc, pyproj.exceptions.CRSError)


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Run a command with errors and warnings as planners should see them.

    - geoplan's input errors, pyproj CRS errors, ``ValueError`` and ``OSError``:
      one ``错误:`` / ``error:`` line on stderr (``crs=`` in a message reads
      ``--crs``), exit code 2.
    - any other exception is a bug in geoplan: one line saying so, exit code 3.
    - warnings print as ``警告:`` / ``warning:`` lines (each text once), never
      as Python's ``file.py:123: Warning`` lines; deprecation warnings go to the
      debug log (``-vv``).

    Developers see tracebacks with ``-v`` (logged under the message) or with
    ``GEOPLAN_DEBUG=1`` (the exception propagates unchanged): a user never sees
    one by accident, and a real bug stays one flag away.
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        lang = str(kwargs.get("lang") or "zh")
        debug = os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")
        shown: set[str] = set()

        def show(message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
            text = str(message)
            if issubclass(category, _DEVELOPER_WARNINGS):
                _log.debug("%s: %s", category.__name__, text)
            elif text not in shown:
                shown.add(text)
                echo_warning(text, lang=lang)

        from geoplan._errors import DataQualityWarning

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always", DataQualityWarning)
                warnings.showwarning = show
                return func(*args, **kwargs)
        except click.exceptions.ClickException:
            raise
        except Exception as exc:
            if debug:
                raise
            bad = _is_bad_input(exc)
            text = _error_text(exc, lang) or type(exc).__name__
            given = kwargs.get("crs")
            if given and _is_crs_error(exc) and "--crs" not in text:
                text = f"--crs {given}: {text}"  # PROJ refused what --crs says
            if bad:
                click.echo(f"{'错误' if lang == 'zh' else 'error'}: {text}", err=True)
            else:
                click.echo(
                    f"内部错误（geoplan 的缺陷，请报告）: {type(exc).__name__}: {text}"
                    if lang == "zh"
                    else f"internal error (a bug in geoplan, please report it): "
                    f"{type(exc).__name__}: {text}",
                    err=True,
                )
            if _verbosity() > 0:
                _log.error("traceback", exc_info=exc)
            elif not isinstance(exc, GeoplanError):
                click.echo(
                    f"  (加 -v 显示 Python 回溯，或设 {DEBUG_ENV}=1)"
                    if lang == "zh"
                    else f"  (add -v for the Python traceback, or set {DEBUG_ENV}=1)",
                    err=True,
                )
            sys.exit(EXIT_BAD_INPUT if bad else EXIT_INTERNAL)

    return wrapper


def require_targets(profile: Profile, audits: tuple[str, ...], *, command: str) -> None:
    """InputError unless ``profile`` has a target of one of ``audits``.

    An audit with nothing to check would report "pass"; the message names the
    packaged profiles that do have such targets.
    """
    from geoplan._errors import InputError
    from geoplan.profiles import list_profiles, load_profile

    if any(t.audit in audits for t in profile.targets):
        return
    others = [n for n in list_profiles() if any(t.audit in audits for t in load_profile(n).targets)]
    raise InputError(
        f"profile {profile.name!r} has no {' or '.join(audits)} target, so `geoplan {command}` "
        f"has nothing to check; profiles with such targets: {', '.join(others) or 'none'} "
        "(pass one with --profile)",
        file=str(getattr(profile, "path", None) or profile.name),
    )


def echo_json(payload: object) -> None:
    """Print JSON (UTF-8, Chinese kept readable) on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True, default=str))


def configure_logging(verbose: int) -> None:
    """Log to stderr; -v for info, -vv for debug."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


#: Set to a file name to append the phases of each command to it (one JSON line each).
PHASES_ENV = "GEOPLAN_PHASES"


def _command_name() -> str:
    """The command being run, as typed after ``geoplan`` (``"network build"``)."""
    ctx = click.get_current_context(silent=True)
    names: list[str] = []
    while ctx is not None and ctx.parent is not None:
        names.append(str(ctx.info_name))
        ctx = ctx.parent
    return " ".join(reversed(names))


def record_phases(ctx: click.Context) -> None:
    """With ``GEOPLAN_PHASES=FILE``: append every phase of this run to FILE.

    Each phase (:func:`geoplan._timing.phase`) becomes one JSON line
    ``{"phase": ..., "seconds": ..., "command": ...}``. The phases then go to the
    file only (not to the -vv log), and everything is undone when ``ctx``
    closes. Without the variable nothing happens.
    """
    path = os.environ.get(PHASES_ENV, "").strip()
    if not path:
        return
    from geoplan._timing import LOGGER, PhaseFileHandler

    log = logging.getLogger(LOGGER)
    handler = PhaseFileHandler(path, command=_command_name)
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    log.propagate = False

    def detach() -> None:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate

    ctx.call_on_close(detach)


class Progress:
    """Step messages with timings on stderr (silent with --json)."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet

    @contextlib.contextmanager
    def step(self, text: str) -> Iterator[None]:
        start = time.perf_counter()
        if not self.quiet:
            click.echo(f"... {text}", err=True)
        yield
        if not self.quiet:
            click.echo(f"    done in {time.perf_counter() - start:.1f} s", err=True)


_SCOPE_LABELS_ZH = {"community": "各社区", "facility": "每处设施", "district": "全区"}
_SCOPE_LABELS_EN = {
    "community": "each community",
    "facility": "each facility",
    "district": "whole area",
}


#: Failing entities listed per check before "N more, see <file>.csv".
LIST_MAX = 20


def print_result(
    result: AuditResult, *, lang: str = "zh", findings_csv: str | None = None, limit: int = LIST_MAX
) -> None:
    """A planner-readable summary of an AuditResult on stdout.

    Every failing entity of each check is listed, as a sentence of facts (the
    findings' ``text_zh`` / ``text_en``), up to ``limit``; beyond it one line
    says how many more there are and where the full list is (``findings_csv``,
    the ``<audit>_findings.csv`` written by ``--out``).
    """
    zh = lang == "zh"
    verdict = (
        ("通过" if result.passed else "未通过") if zh else ("PASS" if result.passed else "FAIL")
    )
    unmeasured = int(getattr(result, "unmeasured", 0) or 0)
    if unmeasured:  # a check that could not run is never a pass
        verdict += f"（{unmeasured} 项未测）" if zh else f" ({unmeasured} not measured)"
    click.echo(f"{result.name} [{result.profile}]: {verdict}")
    f = result.findings
    if f.empty:
        click.echo("  (没有适用的检查)" if zh else "  (no applicable checks)")
        return
    scopes = f.groupby("check_id", sort=False)["scope"].nunique()
    groups = [
        (cid, scope, grp)
        for cid, rows in f.groupby("check_id", sort=False)
        for scope, grp in rows.groupby("scope", sort=False)
    ]
    for check_id, scope, grp in groups:
        passed = grp["passed"]
        n_ok = int((passed == True).sum())  # noqa: E712
        n_bad = int((passed == False).sum())  # noqa: E712
        n_nm = len(grp) - n_ok - n_bad
        desc = grp["description_zh" if zh else "description_en"].iloc[0]
        sm2 = grp["shortfall_m2"].astype(float).fillna(0).sum()
        extra = ""
        if sm2 > 0:
            extra = f"，共缺 {sm2:,.0f} m²" if zh else f", short {sm2:,.0f} m² in all"
        if n_nm:
            extra += f"，{n_nm} 未测" if zh else f", {n_nm} not measured"
        label = str(check_id)
        if scopes[check_id] > 1:  # e.g. each facility, and each community's facilities together
            names = _SCOPE_LABELS_ZH if zh else _SCOPE_LABELS_EN
            label += f" [{names.get(str(scope), str(scope))}]"
        head = (
            f"  {label}: {n_ok} 达标 / {n_bad} 未达标{extra}  ({desc})"
            if zh
            else f"  {label}: {n_ok} pass / {n_bad} fail{extra}  ({desc})"
        )
        click.echo(head)
        worst = grp[grp["passed"] == False].sort_values("shortfall", ascending=False)  # noqa: E712
        for _, row in worst.head(limit).iterrows():
            text = _finding_text(row, zh=zh)
            lacking = row.get("missing_zh" if zh else "missing_en")
            if isinstance(lacking, str) and lacking:  # which categories, and why
                text += f"（{lacking}）" if zh else f" ({lacking})"
            click.echo(f"      {text}")
        if len(worst) > limit:
            more = len(worst) - limit
            csv = f"{result.name}_findings.csv"
            if findings_csv:
                where = f"全部见 {findings_csv}" if zh else f"all in {findings_csv}"
            else:
                where = f"加 --out DIR 写出 {csv}" if zh else f"add --out DIR to write {csv}"
            click.echo(
                f"      …还有 {more} 个未达标，{where}"
                if zh
                else f"      … {more} more failing, {where}"
            )
        if n_nm:
            click.echo(f"      {_unmeasured_line(grp[grp['passed'].isna()], zh=zh, limit=limit)}")
    not_measured = result.summary.get("not_measured") or {}
    if not_measured:
        click.echo("  未测：" if zh else "  not measured:")
        for tid, cols in not_measured.items():
            layer = _missing_layer(result.profile, str(tid))
            from geoplan.audit.results import missing_text

            what = "；".join(missing_text(str(c), layer, zh=zh) for c in cols)
            click.echo(f"      {tid}: {what}")
    unassigned = result.summary.get("unassigned_facilities") or []
    if unassigned:
        label = "未归属任何社区的设施" if zh else "facilities in no community"
        click.echo(f"  {label}: {', '.join(unassigned[:10])}")


def _unmeasured_line(rows: pd.DataFrame, *, zh: bool, limit: int) -> str:
    """Why a check's rows are unmeasured and which they are: "未测：functions 列为空
    （设施表，服务功能），请填写：F0006 鹊桥社区党群服务中心、F0008 …" (one line per reason)."""
    col = "text_zh" if zh else "text_en"
    texts = rows[col] if col in rows.columns else pd.Series("", index=rows.index)
    lines = []
    for text, grp in rows.groupby(texts.fillna("").astype(str), sort=False):
        who = [_who(r, zh=zh) for _, r in grp.head(limit).iterrows()]
        more = len(grp) - len(who)
        names = ("、" if zh else ", ").join(who)
        if more:
            names += f" 等 {len(grp)} 个" if zh else f" and {more} more"
        lines.append(f"{text}：{names}" if zh else f"{text}: {names}")
    return "\n      ".join(lines)


def _missing_layer(profile: str, target_id: str) -> str:
    """The input table a target's missing column belongs in (communities unless the
    target is measured on facilities)."""
    from geoplan.profiles import load_profile

    try:
        t = load_profile(str(profile)).target(target_id)
    except Exception:  # a profile file no longer at hand: communities is the usual place
        return "communities"
    return "facilities" if t.measure == "share_of_facilities" else "communities"


def _who(row: pd.Series, *, zh: bool) -> str:
    """Whom a finding is about: "C001 甲", or 全区 / 中心城区 for an area-wide one."""
    who = (
        row["entity_id"]
        if row["entity_id"] == row["entity_name"]
        else (f"{row['entity_id']} {row['entity_name']}")
    )
    if who in {"all", "central_district"}:
        who = {
            "all": "全区" if zh else "whole area",
            "central_district": "中心城区" if zh else "central district",
        }[who]
    return str(who)


def _finding_text(row: pd.Series, *, zh: bool) -> str:
    """One finding as a planner reads it: who, then the facts (``text_zh``/``text_en``)."""
    who = _who(row, zh=zh)
    text = row.get("text_zh" if zh else "text_en")
    if not isinstance(text, str) or not text:
        from geoplan.audit.results import fact_text

        # a findings row (a Series) is read by label, as a mapping
        text = fact_text(cast("Mapping[str, object]", row), lang="zh" if zh else "en")
    return f"{who}: {text}"


def lined_up_buildings(
    net: WalkNetwork,
    *,
    profile: Profile,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame | None,
    stated: list[gpd.GeoDataFrame | None],
    crs: str | None,
    network_file: str,
    areas: Areas | None,
    estimate: bool,
    default_levels: float | None,
) -> gpd.GeoDataFrame:
    """The buildings with households, once every layer is known to line up with the
    network (bad input otherwise, naming the file and ``--crs gcj02`` where it fits).

    ``stated`` are the layers read from files under ``--crs``: ``--crs wgs84`` says
    they really are WGS84, which the GCJ-02 check then believes.
    """
    from geoplan.alignment import check_alignment
    from geoplan.households import estimate_households

    for layer in stated:
        if layer is not None and crs is not None:
            layer.attrs["crs_stated"] = crs
    check_alignment(
        net,
        profile=profile,
        buildings=buildings,
        facilities=facilities,
        communities=communities,
        network_file=network_file,
    )
    return estimate_households(
        buildings,
        params=profile,
        areas=areas,
        estimate=estimate,
        default_levels=default_levels,
    )
