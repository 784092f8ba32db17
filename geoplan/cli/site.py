"""``geoplan site``: recommend new facility sites where walking coverage falls short."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan._errors import InputError
from geoplan.cli._common import (
    EXIT_FAIL,
    EXIT_PASS,
    Progress,
    echo_json,
    handle_errors,
    lined_up_buildings,
)
from geoplan.cli._options import (
    InputFile,
    crs_option,
    households_options,
    input_label,
    json_option,
    lang_option,
    read_options,
)
from geoplan.cli._outputs import method_text, write_sites

if TYPE_CHECKING:
    import pandas as pd

    from geoplan._types import CRSLike
    from geoplan.areas.site import AreasSites
    from geoplan.cli._options import ReadOptions
    from geoplan.siting import SitingResult


#: an input: a file, or a PostGIS table URI (postgresql://...?table=T)
_FILE = InputFile()


@click.command("site")
@click.option(
    "--network",
    "network_path",
    required=True,
    type=_FILE,
    help="Walking network: OSM file, saved .npz or a street line layer.",
)
@click.option("--buildings", required=True, type=_FILE, help="Buildings with households.")
@click.option("--facilities", required=True, type=_FILE, help="Existing facilities (category).")
@click.option("--category", required=True, help="Category to site, e.g. wet_market.")
@click.option(
    "--candidates",
    "candidates_path",
    type=_FILE,
    default=None,
    help="Candidate sites or parcels (points/polygons); default: street junctions "
    "and vacant buildings.",
)
@click.option(
    "--compounds",
    type=_FILE,
    default=None,
    help="Gated compounds (polygons): residents walk out through the gates.",
)
@click.option("--gates", type=_FILE, default=None, help="Compound gates (points).")
@click.option(
    "--communities",
    type=_FILE,
    default=None,
    help="Communities with the central_district flag: a target scoped to central "
    "districts (Tianjin's wet markets) then counts only their households.",
)
@click.option(
    "--k",
    "k",
    type=click.IntRange(min=1),
    default=None,
    help="Choose the best K sites instead of the fewest reaching the target.",
)
@click.option(
    "--method",
    type=click.Choice(["auto", "exact", "greedy"]),
    default="auto",
    show_default=True,
    help="auto: the exact minimum (HiGHS MILP) when proven within --time-limit, "
    "else greedy; exact or greedy (city scale) by name.",
)
@click.option(
    "--time-limit",
    "time_limit",
    type=click.FloatRange(min=0.0),
    default=None,
    metavar="S",
    help="Seconds the exact solver may take. Default: the profile's "
    "siting_time_limit_s (10 s in the packaged profiles) with auto; no limit with exact.",
)
@click.option(
    "--profile",
    "profile_name",
    default="tianjin-2025",
    show_default=True,
    help="Profile with the category's coverage target (limit and share).",
)
@crs_option
@read_options
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for sites.gpkg, sites.csv and sites.json.",
)
@click.option(
    "--areas",
    "areas_path",
    type=_FILE,
    default=None,
    help="District or 街道 polygons: each area's demand and candidates are solved "
    "apart (a site serves its own area); sites_areas.csv adds one row per area.",
)
@click.option("--area-id", default=None, help="Id column of --areas (default: row numbers).")
@click.option(
    "--tiles",
    default=None,
    metavar="N|CxR",
    help="Not for site (a site would serve only its tile); use --areas.",
)
@click.option(
    "--planned-size",
    "planned_size",
    type=click.FloatRange(min=0.0, min_open=True),
    default=None,
    metavar="M2",
    help="For a category whose reach depends on its size (parks: >= 5,000 m2 serve "
    "500 m, 2,000-5,000 m2 serve 300 m, from the profile's catchment): the size new "
    "sites are planned at. Default: the largest size band. Existing facilities always "
    "count with their own size.",
)
@households_options
@json_option
@lang_option
@handle_errors
def site(
    network_path: Path | str,
    buildings: Path | str,
    facilities: Path | str,
    category: str,
    candidates_path: Path | str | None,
    compounds: Path | str | None,
    gates: Path | str | None,
    communities: Path | str | None,
    k: int | None,
    method: str,
    time_limit: float | None,
    profile_name: str,
    crs: str | None,
    reading: ReadOptions,
    out_dir: Path | None,
    areas_path: Path | str | None,
    area_id: str | None,
    tiles: str | None,
    planned_size: float | None,
    estimate_hh: bool,
    default_levels: float | None,
    as_json: bool,
    lang: str,
) -> None:
    """Fewest new sites lifting CATEGORY coverage to the profile's target (or the best
    K sites), on walking distances. Exit 0 when the target is reached, 1 when not."""

    from geoplan.io.readers import read_buildings, read_communities, read_facilities
    from geoplan.network import network_kind, read_network
    from geoplan.profiles import load_profile
    from geoplan.siting import default_candidates, suggest_sites

    if tiles is not None:
        raise InputError(
            "site does not run on --tiles: each site would serve only its tile, cut at an "
            "arbitrary line; give district or 街道 polygons with --areas"
        )
    if area_id is not None and areas_path is None:
        raise InputError("--area-id goes with --areas")
    progress = Progress(quiet=as_json)
    profile = load_profile(profile_name)
    with progress.step(f"reading {input_label(network_path)}"):
        # --crs describes a line layer; an OSM file or a saved network keeps its own CRS
        net = read_network(
            network_path, source_crs=crs if network_kind(network_path) == "lines" else None
        )
    with progress.step(f"reading {input_label(buildings)} and {input_label(facilities)}"):
        bld = read_buildings(buildings, source_crs=crs, metric_crs=net.crs, **reading.buildings)
        fac = read_facilities(facilities, source_crs=crs, metric_crs=net.crs, **reading.facilities)
    with progress.step("preparing candidates"):
        if candidates_path is not None:
            cands: Any = _read_candidates(candidates_path, net.crs)
        else:
            cands = default_candidates(net, bld)
    chosen_method: Any = method  # click has checked it is 'auto', 'exact' or 'greedy'
    poly = ("Polygon", "MultiPolygon")
    comp = (
        _read_any(compounds, net.crs, preferred=("compounds",), geom_types=poly)
        if compounds is not None
        else None
    )
    gate = (
        _read_any(gates, net.crs, preferred=("gates",), geom_types=("Point",))
        if gates is not None
        else None
    )
    comm = None
    if communities is not None:
        with progress.step(f"reading {input_label(communities)}"):
            comm = read_communities(
                communities, source_crs=crs, metric_crs=net.crs, **reading.communities
            )
    reading.check_used()
    bld = lined_up_buildings(
        net,
        profile=profile,
        buildings=bld,
        facilities=fac,
        communities=comm,
        stated=[bld, fac, comm],
        crs=crs,
        network_file=input_label(network_path),
        areas=[comp, comm],
        estimate=estimate_hh,
        default_levels=default_levels,
    )
    inputs = [
        p
        for p in (
            network_path,
            buildings,
            facilities,
            candidates_path,
            compounds,
            gates,
            communities,
            areas_path,
        )
        if isinstance(p, Path)  # a PostGIS table is never a file written over
    ]
    if areas_path is not None:
        from geoplan.areas import read_areas
        from geoplan.areas.site import sites_by_areas

        areas = read_areas(areas_path, id_column=area_id, source_crs=crs, metric_crs=net.crs)
        with progress.step(f"siting {category} ({method}) in {len(areas)} areas"):
            run = sites_by_areas(
                net,
                bld,
                fac,
                cands,
                areas,
                solve=suggest_sites,
                category=category,
                profile=profile,
                k=k,
                method=chosen_method,
                time_limit_s=time_limit,
                compounds=comp,
                gates=gate,
                communities=comm,
                check_layers=False,  # lined_up_buildings checked them, naming the files
                planned_size=planned_size,
            )
        if out_dir is not None:
            with progress.step(f"writing {out_dir}"):
                _write_area_sites(out_dir, run, protect=inputs)
        if as_json:
            echo_json(run.to_dict())
        else:
            _print(run.result, lang=lang)
            for row in run.areas.to_dict(orient="records"):
                cb, ca = row["coverage_before"], row["coverage_after"]
                shares = f", {cb:.1%} -> {ca:.1%}" if cb == cb and cb is not None else ""
                what = f"新增 {row['sites']} 处" if lang == "zh" else f"{row['sites']} sites"
                click.echo(f"  [{row['area_id']}] {what}{shares}")
        sys.exit(EXIT_PASS if run.result.reached is not False else EXIT_FAIL)
    with progress.step(f"siting {category} ({method})"):
        result = suggest_sites(
            net,
            bld,
            fac,
            cands,
            category=category,
            profile=profile,
            k=k,
            method=chosen_method,
            time_limit_s=time_limit,
            compounds=comp,
            gates=gate,
            communities=comm,
            check_layers=False,  # lined_up_buildings checked them, naming the files
            planned_size=planned_size,
        )
    if out_dir is not None:
        with progress.step(f"writing {out_dir}"):
            write_sites(out_dir / "sites", result, protect=inputs)
    if as_json:
        echo_json(result.to_dict())
    else:
        _print(result, lang=lang)
    ok = result.reached is not False
    sys.exit(EXIT_PASS if ok else EXIT_FAIL)


def _write_area_sites(out_dir: Path, run: AreasSites, *, protect: list[Path]) -> None:
    """A single run's sites files, with ``area_id``, plus the ``areas`` table."""
    from geoplan.cli._outputs import json_text
    from geoplan.io.write import write_csv, write_gpkg, write_text

    stem, sites = out_dir / "sites", run.result.sites
    table = run.areas.set_index("area_id")
    write_gpkg(stem.with_suffix(".gpkg"), {"sites": sites, "areas": table}, protect=protect)
    write_csv(stem.with_suffix(".csv"), sites, protect=protect)
    write_csv(out_dir / "sites_areas.csv", table, protect=protect)
    payload = run.to_dict()
    for entry in payload.get("sites", []):  # where to build, readable without a GIS
        for key in ("lon", "lat"):
            if key in sites.columns:
                entry[key] = float(sites.loc[entry["site_id"], key])
    write_text(stem.with_suffix(".json"), json_text(payload), protect=protect)


def _read_any(
    path: Path | str,
    metric_crs: CRSLike,
    *,
    preferred: tuple[str, ...],
    geom_types: tuple[str, ...],
) -> Any:
    """A layer as given (any columns), projected onto the network's CRS."""
    from geoplan.io.readers import read_aux_layer

    gdf = read_aux_layer(path, preferred=preferred, geom_types=geom_types, metric_crs=metric_crs)
    for col in ("compound_id", "gate_id"):
        if col in gdf.columns:
            gdf = gdf.set_index(col)
    return gdf


def _read_candidates(path: Path | str, metric_crs: CRSLike) -> Any:
    """Candidate sites as given (any columns), projected onto the network's CRS."""
    gdf = _read_any(
        path,
        metric_crs,
        preferred=("candidates", "sites"),
        geom_types=("Point", "Polygon", "MultiPolygon"),
    )
    id_col = next((c for c in ("candidate_id", "site_id", "id") if c in gdf.columns), None)
    if id_col is not None:
        gdf = gdf.set_index(id_col)
    gdf.index = _str_index(gdf.index)
    return gdf


def _str_index(index: pd.Index) -> pd.Index:
    """String ids (internal helper)."""
    import pandas as pd

    return pd.Index([str(i) for i in index], name="candidate_id", dtype=object)


def _print(result: SitingResult, *, lang: str) -> None:
    zh = lang == "zh"
    cat = result.category
    before, after = result.coverage_before, result.coverage_after
    if zh:
        click.echo(
            f"{cat}：现状覆盖 {before:.1%}，新增 {result.n_sites} 处后 {after:.1%}"
            f"（{result.method}，步行 {result.limit_m:.0f} m）"
        )
    else:
        click.echo(
            f"{cat}: coverage {before:.1%} now, {after:.1%} with {result.n_sites} new "
            f"sites ({result.method}, walk {result.limit_m:.0f} m)"
        )
    if "households_estimated_share" in result.parameters:
        from geoplan.households import describe_households

        click.echo(f"  {describe_households(result.parameters, lang=lang)}")
    scope = result.parameters.get("scope", "all")
    if scope == "central_district":
        n = result.parameters.get("buildings_counted", 0)
        what = (
            f"范围：中心城区社区的住户（{n:,} 栋建筑）"
            if zh
            else f"scope: households of central-district communities ({n:,} buildings)"
        )
        click.echo(f"  {what}")
    elif scope != "all":
        click.echo(
            f"  {'范围：全部住户（未提供 central_district 标记）' if zh else 'scope: ' + scope}"
        )
    if result.target_share is not None:
        verdict = (
            ("达到" if result.reached else "无法达到")
            if zh
            else ("reached" if result.reached else "cannot be reached")
        )
        click.echo(f"  {'目标' if zh else 'target'} {result.target_share:.0%}: {verdict}")
    click.echo(f"  {method_text(result, lang=lang)}")
    for sid, row in result.sites.iterrows():
        label = "新增户数" if zh else "adds households"
        where = f" ({row['lon']:.6f}, {row['lat']:.6f})" if "lon" in row.index else ""
        click.echo(
            f"  {int(row['order']):>3}. {sid}{where}: {label} {row['added_households']:,.0f}"
            f" -> {row['coverage_share']:.1%}"
        )
    if result.note:
        click.echo(f"  {result.note}")


COMMANDS = [site]
