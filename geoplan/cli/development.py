"""``geoplan audit development PLAN... --context CONTEXT --profile NAME --out DIR``.

One plan: the audit, the report (HTML with the map, Markdown, JSON) and the audit
tables. A renovation (a plan with ``existing_*`` layers, or ``--before``): the same
audit before and after, side by side; the exit code follows the proposal.
Several plans (or a folder of plans): one report folder per plan plus
``summary.csv`` / ``summary.<lang>.html``; the exit code is 2 if any plan is bad
input, else 1 if any fails, else 0.

The command attaches itself to the ``audit`` group (``cli/_groups.py``) when this
module is imported (``COMMANDS`` is empty); ``geoplan.cli._main._register`` must import it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan._errors import GeoplanError, InputError
from geoplan.cli._common import (
    EXIT_BAD_INPUT,
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    require_targets,
)
from geoplan.cli._groups import audit
from geoplan.cli._ledger import echo_ledger, ledger_option, save_ledger
from geoplan.cli._options import crs_option, json_option

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult

__all__ = ["COMMANDS", "development_cmd"]

DEFAULT_PROFILES = ("ningxia-2025", "tianjin-2025", "mofcom-15min", "gb50180-2018")


def _plans(paths: tuple[Path, ...]) -> list[Path]:
    """Expand folders that hold plans (not a plan folder of GeoJSON) into their plans."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir() and not (p / "site.geojson").exists():
            found = sorted(
                q
                for q in p.iterdir()
                if (q.suffix == ".gpkg" and q.name not in ("context.gpkg", "template.gpkg"))
                or (q.is_dir() and (q / "site.geojson").exists())
            )
            if not found:
                raise InputError(
                    "the folder holds no plans (.gpkg or GeoJSON folders)", file=str(p)
                )
            out += found
        else:
            out.append(p)
    return out


def _audit_one(
    plan_path: Path,
    before_path: Path | None,
    context_path: Path,
    profiles: list[str],
    crs: str | None,
    progress: Progress,
) -> tuple[Any, Any | None]:
    from geoplan.audit.development import (
        audit_development,
        has_existing_layers,
        read_context,
        read_plan,
    )

    with progress.step(f"reading {plan_path}"):
        plan = read_plan(plan_path, crs=crs)
        before = None
        if before_path is not None:
            before = read_plan(before_path, crs=crs, metric_crs=plan.site.crs)
        elif has_existing_layers(plan_path):
            before = read_plan(plan_path, stage="existing", crs=crs, metric_crs=plan.site.crs)
    with progress.step(f"reading {context_path}"):
        ctx = read_context(context_path, metric_crs=plan.site.crs)
    with progress.step("auditing" + (" (after)" if before is not None else "")):
        result = audit_development(plan, ctx, profiles=profiles)
    before_result = None
    if before is not None:
        with progress.step("auditing (before)"):
            before_result = audit_development(before, ctx, profiles=profiles)
    return result, before_result


def _write(
    result: AuditResult,
    before: AuditResult | None,
    out: Path,
    langs: tuple[str, ...],
    inputs: list[Path],
    static_map: bool,
) -> None:
    from geoplan.audit.results import save_result
    from geoplan.report import write_report

    protect = [str(p) for p in inputs]
    write_report(result, out, langs=langs, before=before, static_map=static_map, protect=protect)
    import pyogrio

    # GeoPackages record the time of writing; pin it so reruns give the same bytes
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00Z"})
    try:
        save_result(_slim(result), out, protect=protect)
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": None})


def _slim(result: AuditResult) -> Any:
    """The result without list-valued cells (CSV-friendly) for ``save_result``."""
    from dataclasses import replace

    findings = result.findings.copy()
    findings["cited"] = [
        "; ".join(f"{c['profile']}:{c['source']}" for c in v) for v in findings["cited"]
    ]
    extra = {k: v for k, v in result.extra.items() if k in ("buildings", "site")}
    return replace(result, findings=findings, extra=extra)


def _print(result: AuditResult, before: AuditResult | None, lang: str) -> None:
    zh = lang == "zh"
    d = result.summary["development"]
    verdict = (
        ("通过" if result.passed else "未通过") if zh else ("PASS" if result.passed else "FAIL")
    )
    click.echo(f"{d['name']} ({d['id']}): {verdict}")
    row: Any  # a check row: its columns as attributes, any dtype
    for row in result.extra["checks"].itertuples():
        mark = {True: "✓", False: "✗"}.get(row.passed, "·")
        desc = row.description_zh if zh else row.description_en
        click.echo(f"  {mark} {row.check_id}: {desc}")
        remedy = row.remedy_zh if zh else row.remedy_en
        if row.passed is False and remedy:
            click.echo(f"      -> {remedy}")
    if before is not None:
        b = "通过" if before.passed else "未通过"
        if not zh:
            b = "PASS" if before.passed else "FAIL"
        label = "改造前" if zh else "before"
        click.echo(
            f"  {label}: {b}, {before.summary['checks_failed']} "
            + ("项不达标" if zh else "checks failing")
        )


@click.command("development")
@click.argument("plans", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--context",
    "context_path",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Surroundings: an OSM file (.osm, .osm.bz2, .pbf) or a GeoPackage with "
    "'streets' and 'facilities' layers.",
)
@click.option(
    "--profile",
    "profile_names",
    multiple=True,
    help=f"Profile name or .toml file; repeat for several (default: {' '.join(DEFAULT_PROFILES)}).",
)
@click.option(
    "--before",
    "before_path",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="Renovation: the plan of the estate as it is today.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the report and tables; nothing is written without it.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en", "both"]),
    default="zh",
    show_default=True,
    help="Report language(s).",
)
@crs_option
@click.option("--no-static-map", is_flag=True, help="Skip the PNG map of the Markdown report.")
@ledger_option
@json_option
@handle_errors
def development_cmd(
    plans: tuple[Path, ...],
    context_path: Path,
    profile_names: tuple[str, ...],
    before_path: Path | None,
    out_dir: Path | None,
    lang: str,
    crs: str | None,
    no_static_map: bool,
    ledger_path: Path | None,
    as_json: bool,
) -> None:
    """Audit new developments (or estate renovations) against standards profiles.

    PLANS: GeoPackages (or folders of GeoJSON) with layers site, buildings,
    service_rooms, commercial and facilities (docs/development-audit.md); a folder
    of such plans runs them all and writes one summary table.
    """
    from geoplan.report import batch_summary, report_dict, write_batch_summary

    progress = Progress(quiet=as_json)
    profiles = list(profile_names) or list(DEFAULT_PROFILES)
    from geoplan.profiles import load_profile

    for name in profiles:  # a profile with nothing to check here is bad input, not a pass
        require_targets(
            load_profile(name),
            ("floor_area", "development", "coverage"),
            command="audit development",
        )
    langs: tuple[str, ...] = ("zh", "en") if lang == "both" else (lang,)
    plan_paths = _plans(plans)
    is_batch = len(plan_paths) > 1 or any(
        p.is_dir() and not (p / "site.geojson").exists() for p in plans
    )
    if not is_batch:
        result, before = _audit_one(
            plan_paths[0], before_path, context_path, profiles, crs, progress
        )
        inputs = [plan_paths[0], context_path] + ([before_path] if before_path else [])
        if out_dir is not None:
            with progress.step(f"writing {out_dir}"):
                _write(result, before, out_dir, langs, inputs, not no_static_map)
        ledger = None
        if ledger_path is not None:  # the proposal's failing checks
            ledger = save_ledger(
                [result], ledger_path, progress=progress, inputs=inputs, lang=langs[0]
            )
        if as_json:
            echo_json(report_dict(result, before=before))
        else:
            _print(result, before, langs[0])
            if ledger is not None:
                echo_ledger(ledger, lang=langs[0])
        sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)
    if before_path is not None:
        raise InputError("--before takes one plan, not a batch", file=str(before_path))
    items: list[dict[str, Any]] = []
    for path in plan_paths:
        try:
            result, before = _audit_one(path, None, context_path, profiles, crs, progress)
        except GeoplanError as exc:
            click.echo(f"error: {exc}", err=True)
            items.append({"plan": path.name, "error": str(exc)})
            continue
        items.append({"plan": path.name, "result": result})
        if not as_json:
            _print(result, before, langs[0])
        if out_dir is not None:
            with progress.step(f"writing {out_dir / path.stem}"):
                _write(
                    result,
                    before,
                    out_dir / path.stem,
                    langs,
                    [path, context_path],
                    not no_static_map,
                )
    table = batch_summary(items)
    if ledger_path is not None:  # one ledger of every plan that ran
        ran = [i["result"] for i in items if "result" in i]
        ledger = save_ledger(
            ran, ledger_path, progress=progress, inputs=[*plan_paths, context_path], lang=langs[0]
        )
        if not as_json:
            echo_ledger(ledger, lang=langs[0])
    if out_dir is not None:
        for lg in langs:
            write_batch_summary(table, out_dir, lang=lg, protect=[str(p) for p in plan_paths])
    if as_json:
        echo_json(table.reset_index().to_dict(orient="records"))
    verdicts = set(table["verdict"])
    sys.exit(
        EXIT_BAD_INPUT if "error" in verdicts else EXIT_FAIL if "fail" in verdicts else EXIT_PASS
    )


audit.add_command(development_cmd)

COMMANDS: list[click.Command] = []
