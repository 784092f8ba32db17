"""``geoplan access``: supply within walking reach per 100 households (2SFCA / E2SFCA)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    echo_warning,
    handle_errors,
    print_result,
)
from geoplan.cli._ledger import echo_ledger, ledger_option, save_ledger
from geoplan.cli._options import (
    InputFile,
    crs_option,
    households_options,
    input_label,
    json_option,
    lang_option,
    read_options,
)
from geoplan.cli._walk_layers import read_walk_layers

if TYPE_CHECKING:
    from geoplan.audit.results import AuditResult
    from geoplan.cli._options import ReadOptions


@click.command("access")
@click.option(
    "--network",
    "network_path",
    required=True,
    type=InputFile(),
    help="Walking network: OSM file (.osm/.osm.bz2/.pbf), a saved .npz or a line layer. "
    "An OSM file alone also gives the buildings and facilities.",
)
@click.option("--buildings", type=InputFile(), default=None, help="Buildings (households).")
@click.option(
    "--facilities",
    type=InputFile(),
    default=None,
    help="Facilities with a category and the supply column; default: POIs of the OSM file.",
)
@click.option(
    "--communities",
    type=InputFile(),
    default=None,
    help="Community polygons: per-community mean and minimum (access_communities.csv).",
)
@click.option("--category", required=True, help="The category that supplies, e.g. wet_market.")
@click.option(
    "--supply-column",
    default="floor_area_m2",
    show_default=True,
    help="The facilities' column with the supply (floor area, places, ...).",
)
@click.option(
    "--within-m",
    type=click.FloatRange(min=0),
    default=None,
    help="Walking limit in metres (else --within-min, else the profile's catchment).",
)
@click.option(
    "--within-min",
    type=click.FloatRange(min=0),
    default=None,
    help="Walking limit in minutes at the profile's walking speed.",
)
@click.option(
    "--decay",
    type=click.Choice(["none", "linear", "gaussian"]),
    default="none",
    show_default=True,
    help="Distance decay in both steps: none (2SFCA), linear 1-d/D, gaussian "
    "exp(-d²/(2σ²)) with σ = D/2 (E2SFCA); see docs/access.md.",
)
@click.option(
    "--population",
    type=click.Choice(["households", "residents"]),
    default=None,
    help="Per 100 households or per 1,000 residents. Default: the unit of the "
    "profile's access target for the category (else households).",
)
@click.option(
    "--missing-supply",
    type=click.Choice(["error", "exclude"]),
    default="error",
    show_default=True,
    help="A facility without a supply value: bad input (exit 2), or left out with a warning.",
)
@click.option(
    "--profile",
    "profile_name",
    default="mofcom-15min",
    show_default=True,
    help="Profile: walking speed, snapping, household parameters, access targets, catchments.",
)
@click.option("--elderly", is_flag=True, help="Use the profile's elderly walking speed.")
@crs_option
@read_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder for access.json, access_findings.csv, access_communities.csv and the "
    "per-building table (access.gpkg / .parquet / .csv).",
)
@click.option(
    "--format",
    "formats",
    type=click.Choice(["gpkg", "parquet", "csv"]),
    multiple=True,
    help="Formats of the per-building table (repeatable; default gpkg).",
)
@click.option("--map/--no-map", "make_map", default=False, help="Also write access_map.html/.png.")
@ledger_option
@households_options
@json_option
@lang_option
@handle_errors
def access(
    network_path: Path | str,
    buildings: Path | str | None,
    facilities: Path | str | None,
    communities: Path | str | None,
    category: str,
    supply_column: str,
    within_m: float | None,
    within_min: float | None,
    decay: str,
    population: str | None,
    missing_supply: str,
    profile_name: str,
    elderly: bool,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path,
    formats: tuple[str, ...],
    make_map: bool,
    ledger_path: Path | None,
    estimate_hh: bool,
    default_levels: float | None,
    as_json: bool,
    lang: str,
) -> None:
    """Floor area (or any supply) of a category within walking reach, per 100 households:
    the two-step floating catchment over the real street network.

    Exit 0 when every access target of the profile for the category passes (or it
    has none), 1 when one fails, 2 on bad input."""
    from geoplan._errors import DataQualityWarning, InputError
    from geoplan._timing import phase
    from geoplan.audit.access import audit_access, check_category
    from geoplan.cli._outputs import write_access
    from geoplan.network import describe_network
    from geoplan.profiles import load_profile

    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    check_category(category, column="--category")  # before any file is read
    inputs = [p for p in (network_path, buildings, facilities, communities) if p is not None]
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        layers = read_walk_layers(
            network_path, buildings, facilities, communities,
            crs=crs, reading=reading, progress=progress, facility_columns=(supply_column,),
        )  # fmt: skip
        net, bld, fac, comm = layers.net, layers.buildings, layers.facilities, layers.communities
        compounds, gates = layers.compounds, layers.gates
        fac_file = str(fac.attrs["source_file"])
        if supply_column not in fac.columns:
            raise InputError(
                f"facilities have no supply column {supply_column!r} "
                "(name yours with --supply-column, or map it with --columns)",
                file=fac_file,
                column=supply_column,
            )
        with progress.step("checking the layers line up; households"), phase("prepare"):
            bld = layers.lined_up(
                profile=profile,
                crs=crs,
                network_file=input_label(network_path),
                estimate=estimate_hh,
                default_levels=default_levels,
            )
        with progress.step(f"floating catchment ({len(bld):,} buildings, {category})"):
            result = audit_access(
                bld,
                fac,
                net,
                category=category,
                supply_column=supply_column,
                profile=profile,
                within_m=within_m,
                within_min=within_min,
                decay=decay,
                population=population,
                communities=comm,
                compounds=compounds,
                gates=gates,
                elderly=elderly,
                missing_supply=missing_supply,
                check_layers=False,  # lined_up_buildings checked them, naming the files
            )
    notes += sorted({str(w.message) for w in caught})
    with progress.step(f"writing {out_dir}"):
        write_access(
            out_dir,
            result,
            communities=comm,
            formats=formats or ("gpkg",),
            lang=lang,
            make_map=make_map,
            protect=inputs,
        )
    has_targets = bool(result.summary["targets"])  # the profile's access targets for it
    ledger = None
    if ledger_path is not None:
        ledger = save_ledger(
            [result], ledger_path, progress=progress, communities=comm, inputs=inputs,
            profiles=[profile], lang=lang,
        )  # fmt: skip
    with phase("print"):
        if as_json:
            payload: dict[str, Any] = result.to_dict()
            payload["network"] = describe_network(net)
            payload["notes"] = notes
            echo_json(payload)
        else:
            _print_access(result, lang=lang, has_targets=has_targets)
            if has_targets:
                print_result(result, lang=lang, findings_csv=str(out_dir / "access_findings.csv"))
            if ledger is not None:
                echo_ledger(ledger, lang=lang)
            for note in notes:
                echo_warning(note, lang=lang)
    sys.exit(EXIT_PASS if result.passed else EXIT_FAIL)


def _print_access(result: AuditResult, *, lang: str, has_targets: bool) -> None:
    """The figures a planner reads first: demand, supply served and not, the spread."""
    from geoplan.households import describe_households

    zh = lang == "zh"
    s = result.summary
    unit = "户" if zh else "households"
    per = "每百户" if s["population"] == "households" else "每千人"
    per_en = "per 100 households" if s["population"] == "households" else "per 1,000 residents"
    v = s["value"]
    limit = f"{s['within_m']:g} m" if s["within_m"] is not None else "-"
    how, _, rule = str(s.get("limit", "")).partition(":")
    if how == "catchment":  # each facility its own radius
        limit = (
            f"按规模分级的服务半径（{rule}，至多 {limit}）"
            if zh
            else f"each facility's size-graded radius ({rule}, up to {limit})"
        )
    click.echo(
        f"{s['category']}：{s['facilities']} 处设施，{describe_households(s, lang=lang)}；"
        f"步行 {limit}，衰减 {s['decay']}"
        if zh
        else f"{s['category']}: {s['facilities']} facilities, "
        f"{describe_households(s, lang=lang)}; walk {limit}, decay {s['decay']}"
    )
    if v["mean"] is not None:
        click.echo(
            f"  {s['supply_column']} {per}：加权平均 {v['mean']:,.2f}，最小 {v['min']:,.2f}，"
            f"中位 {v['median']:,.2f}，最大 {v['max']:,.2f}"
            if zh
            else f"  {s['supply_column']} {per_en}: weighted mean {v['mean']:,.2f}, "
            f"min {v['min']:,.2f}, median {v['median']:,.2f}, max {v['max']:,.2f}"
        )
    who = unit if s["population"] == "households" else ("人" if zh else "residents")
    n_bad = s["facilities_not_reaching_demand_count"]
    click.echo(
        f"  供给 {s['supply_total']:,.0f}，服务到住户 {s['supply_served']:,.0f}，"
        f"未服务任何住户 {s['supply_not_reached']:,.0f}（{n_bad} 处设施）；"
        f"步行范围内无此设施的 {s['demand_without_access']:,.0f} {who}"
        if zh
        else f"  supply {s['supply_total']:,.0f}, serving households {s['supply_served']:,.0f}, "
        f"serving nobody {s['supply_not_reached']:,.0f} ({n_bad} facilities); "
        f"{s['demand_without_access']:,.0f} {who} with none within reach"
    )
    if not has_targets:
        click.echo(
            f"  （配置 {result.profile} 没有 {s['category']} 的 access 指标：只报告数值）"
            if zh
            else f"  (profile {result.profile} has no access target for {s['category']}: "
            "figures only)"
        )


COMMANDS = [access]
