"""Shared pieces of the CLI: exit codes, error handling, JSON output."""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from geoplan._errors import GeoplanError

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
)
lang_option = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of messages, reports and maps.",
)
crs_option = click.option(
    "--crs",
    default=None,
    help="What the input coordinates really are when the files say nothing or are wrong: "
    "gcj02 (AMap, Tencent), bd09 (Baidu), or an EPSG code.",
)

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_BAD_INPUT = 2

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """Turn geoplan's input errors into a message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (GeoplanError, FileNotFoundError) as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(EXIT_BAD_INPUT)

    return wrapper  # type: ignore[return-value]


def echo_json(payload: Any) -> None:
    """Print JSON (UTF-8, Chinese kept readable) on stdout."""
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True, default=str))


def configure_logging(verbose: int) -> None:
    """Log to stderr; -v for info, -vv for debug."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


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


_SCOPE_LABELS_ZH = {"community": "社区合计", "facility": "每处设施"}
_SCOPE_LABELS_EN = {"community": "community total", "facility": "each facility"}


def print_result(result: Any, *, lang: str = "zh") -> None:
    """A planner-readable summary of an AuditResult on stdout."""
    zh = lang == "zh"
    verdict = (
        ("通过" if result.passed else "未通过") if zh else ("PASS" if result.passed else "FAIL")
    )
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
        desc = grp["description_zh" if zh else "description_en"].iloc[0]
        sm2 = grp["shortfall_m2"].astype(float).fillna(0).sum()
        extra = ""
        if sm2 > 0:
            extra = f"，共缺 {sm2:,.0f} m²" if zh else f", short {sm2:,.0f} m2 in all"
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
        for _, row in worst.head(3).iterrows():
            click.echo(f"      {_finding_text(row, zh=zh)}")
    not_measured = result.summary.get("not_measured") or {}
    if not_measured:
        label = "未测（缺列）" if zh else "not measured (missing columns)"
        click.echo(
            f"  {label}: " + ", ".join(f"{k} ({', '.join(v)})" for k, v in not_measured.items())
        )
    unassigned = result.summary.get("unassigned_facilities") or []
    if unassigned:
        label = "未归属任何社区的设施" if zh else "facilities in no community"
        click.echo(f"  {label}: {', '.join(unassigned[:10])}")


def _finding_text(row: Any, *, zh: bool) -> str:
    """One failing finding as a planner reads it."""
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
    thr = row["threshold"]
    if "share" in str(row["unit"]):
        value = f"{row['value']:.1%}"
        if isinstance(thr, str):  # walk time/distance: every household within it
            return (
                f"{who}: {value} 的住户在 {thr} 内（应为全部）"
                if zh
                else f"{who}: {value} of households within {thr} (all should be)"
            )
        thr_text = f"{float(thr):.0%}"
    else:
        value, thr_text = f"{row['value']:.3g}", str(thr)
    gap = ""
    if row["shortfall_m2"] == row["shortfall_m2"]:  # not NaN
        gap = (
            f"，缺 {row['shortfall_m2']:,.0f} m²"
            if zh
            else f", short {row['shortfall_m2']:,.0f} m2"
        )
    return f"{who}: {value} {row['comparator']} {thr_text}{gap}"
