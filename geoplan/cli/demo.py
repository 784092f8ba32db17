"""``geoplan demo``: the whole audit on the embedded sample district."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geoplan.cli._common import Progress, echo_json, echo_warning, handle_errors, print_result
from geoplan.cli._ledger import LEDGER_NAME, echo_ledger, save_ledger
from geoplan.cli._options import households_options, json_option, lang_option

if TYPE_CHECKING:
    import geopandas as gpd

    from geoplan.audit.results import AuditResult
    from geoplan.network import WalkNetwork
    from geoplan.profiles import Profile, Target
    from geoplan.siting import SitingResult


@click.command("demo")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-output"),
    show_default=True,
    help="Folder for all outputs.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the sample district (same seed, same district).",
)
@click.option(
    "--profile",
    "profiles",
    multiple=True,
    default=(
        "tianjin-2025",
        "ningxia-2025",
        "gb50180-2018",
        "mofcom-15min",
        "city-health-check",
        "embedded-services-2024",
    ),
    show_default=True,
    help="Profiles to audit against (repeat the option).",
)
@json_option
@lang_option
@click.option(
    "--map/--no-map",
    "make_map",
    default=True,
    show_default=True,
    help="Write the offline HTML gap map and a PNG for each profile.",
)
@households_options
@handle_errors
def demo(
    out_dir: Path,
    seed: int,
    profiles: tuple[str, ...],
    as_json: bool,
    lang: str,
    make_map: bool,
    estimate_hh: bool,
    default_levels: float | None,
) -> None:
    """Generate the sample district, write it as input files, read them back and
    audit them against each profile (floor area, organisations, walking coverage);
    writes results and gap maps into --out, and one problem ledger of every profile's
    failing checks (问题台账.xlsx and .csv).

    Exits 0 when it ran (the sample district is built to fail some checks)."""
    from geoplan._errors import DataQualityWarning
    from geoplan.audit import audit_floor_area, audit_organisations
    from geoplan.audit.coverage import audit_coverage, coverage_targets
    from geoplan.audit.results import save_result
    from geoplan.cli._outputs import print_grids, write_access, write_grids, write_sites
    from geoplan.households import describe_households, estimate_households, households_summary
    from geoplan.io.readers import read_buildings, read_communities, read_facilities
    from geoplan.network import network_from_lines
    from geoplan.profiles import load_profile
    from geoplan.sample import make_sample_district

    progress = Progress(quiet=as_json)
    with progress.step(f"generating the sample district (seed {seed})"):
        district = make_sample_district(seed=seed)
        gpkg = district.to_files(out_dir / "inputs")[0]
    notes: list[str] = []
    with progress.step(f"reading {gpkg}"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataQualityWarning)
        comm = read_communities(gpkg, layer="communities")
        fac = read_facilities(gpkg, layer="facilities", metric_crs=comm.crs)
        bld = read_buildings(gpkg, layer="buildings", metric_crs=comm.crs)
    notes += [str(w.message) for w in caught]
    with progress.step("building the walking network from the streets"):
        # one network serves every profile, the siting and the map: built up front
        net = network_from_lines(district.streets.to_crs(comm.crs)).prepare()
    compounds = district.compounds.to_crs(comm.crs)
    gates = district.gates.to_crs(comm.crs)
    summary: dict[str, Any] = {
        "seed": seed,
        "out": str(out_dir),
        "inputs": str(gpkg),
        "communities": len(comm),
        "facilities": len(fac),
        "buildings": len(bld),
        "network": {"nodes": net.n_nodes, "edges": net.n_edges},
        "profiles": {},
    }
    every: list[AuditResult] = []  # every profile's results, for the one ledger of the district
    loaded: list[Profile] = []
    for name in profiles:
        profile = load_profile(name)
        loaded.append(profile)
        folder = out_dir / profile.name
        entry: dict[str, Any] = {}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataQualityWarning)
            bld_est = estimate_households(
                bld,
                params=profile,
                areas=[compounds, comm],
                estimate=estimate_hh,
                default_levels=default_levels,
            )
            entry["households_estimated_buildings"] = int(bld_est["households_estimated"].sum())
            entry["households"] = float(bld_est["households"].fillna(0.0).sum())
            entry.update(households_summary(bld_est))
            results = []
            with progress.step(f"{profile.name}: floor area and organisations"):
                if profile.targets_for("floor_area") or profile.targets_for("development"):
                    results.append(audit_floor_area(comm, fac, profile=profile))
                if profile.targets_for("organisations"):
                    results.append(audit_organisations(comm, profile=profile, facilities=fac))
            coverage = None
            if coverage_targets(profile):
                with progress.step(
                    f"{profile.name}: walking coverage ({len(bld_est):,} buildings)"
                ):
                    coverage = audit_coverage(
                        bld_est,
                        fac,
                        net,
                        profile=profile,
                        communities=comm,
                        compounds=compounds,
                        gates=gates,
                    )
                results.append(coverage)
            accesses = _accesses(profile, net, bld_est, fac, comm, compounds, gates, progress)
            sitings = _sitings(profile, net, bld_est, fac, comm, compounds, gates, progress)
            grids = None
            if any(t.measure == "households_range" for t in profile.targets_for("grids")):
                # household-range grids (Ningxia); GB 50180's grids targets are life-circle
                # population ranges, which the grid delineation does not measure
                from geoplan.grids import delineate_grids

                with progress.step(f"{profile.name}: management grids"):
                    grids = delineate_grids(
                        bld_est,
                        comm,
                        profile=profile,
                        streets=district.streets.to_crs(comm.crs),
                        compounds=compounds,
                    )
        notes += [str(w.message) for w in caught]
        with progress.step(f"writing {folder}"):
            for r in results:
                save_result(r, folder, protect=[gpkg])
            for a in accesses:  # one folder per category: each is its own access.* files
                where = folder / f"access_{a.summary['category']}"
                write_access(
                    where, a, communities=comm, lang=lang, make_map=make_map, protect=[gpkg]
                )
            for s in sitings:
                write_sites(folder / f"sites_{s.category}", s, protect=[gpkg])
            if grids is not None:
                write_grids(folder / "grids", grids, bld_est, protect=[gpkg])
            if make_map:
                from geoplan.report.maps import write_gap_maps

                floor = next((r for r in results if r.name == "floor_area"), None)
                if coverage is not None or floor is not None:
                    write_gap_maps(
                        folder,
                        coverage=coverage,
                        floor_area=floor,
                        facilities=fac,
                        lang=lang,
                        sites=sitings[0].sites if sitings else None,
                        grids=grids.grids if grids is not None else None,
                        network=net,
                    )
        every += results + accesses
        if accesses:
            entry["access"] = {
                a.summary["category"]: {
                    "passed": a.passed,
                    "checks": a.summary["checks"],
                    "value": a.summary["value"],
                    "within_m": a.summary["within_m"],
                }
                for a in accesses
            }
        for r in results:
            entry[r.name] = {"passed": r.passed, "checks": r.summary["checks"]}
            if r.name == "coverage":
                entry[r.name]["targets"] = r.summary["targets"]
        if sitings:
            entry["sites"] = {s.category: _siting_summary(s) for s in sitings}
        if grids is not None:
            entry["grids"] = dict(grids.summary)
        summary["profiles"][profile.name] = entry
        if not as_json:
            click.echo("")
            click.echo(f"{profile.name}: {describe_households(entry, lang=lang)}")
            for r in results:
                print_result(r, lang=lang, findings_csv=str(folder / f"{r.name}_findings.csv"))
            for a in accesses:
                where = folder / f"access_{a.summary['category']}" / "access_findings.csv"
                print_result(a, lang=lang, findings_csv=str(where))
            for s in sitings:
                _echo_siting(s, lang=lang)
            if grids is not None:
                print_grids(grids, lang=lang)
    summary["ledger"] = save_ledger(
        every,
        out_dir / LEDGER_NAME,
        progress=progress,
        communities=comm,
        inputs=[gpkg],
        profiles=loaded,
        lang=lang,
    )
    summary["notes"] = sorted(set(notes))
    if as_json:
        echo_json(summary)
    else:
        click.echo("")
        echo_ledger(summary["ledger"], lang=lang)
        click.echo(f"\n{'结果已写入' if lang == 'zh' else 'results written to'} {out_dir}/")
        for note in summary["notes"]:
            echo_warning(note, lang=lang)


def _accesses(
    profile: Profile,
    net: WalkNetwork,
    bld: gpd.GeoDataFrame,
    fac: gpd.GeoDataFrame,
    comm: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame,
    gates: gpd.GeoDataFrame,
    progress: Progress,
) -> list[AuditResult]:
    """Capacity-aware access (2SFCA) for each category the profile's access targets name,
    walked as far as its first target's limit (each target is judged at its own)."""
    from geoplan.audit.access import access_targets, audit_access

    firsts: dict[str, Target] = {}
    for t in access_targets(profile):
        firsts.setdefault(str(t.category), t)
    out = []
    for cat, t in firsts.items():
        with progress.step(f"{profile.name}: {cat} within walking reach (2SFCA)"):
            result = audit_access(
                bld, fac, net, category=cat, supply_column=str(t.supply_column),
                profile=profile, communities=comm, compounds=compounds, gates=gates,
                check_layers=False,
                within_m=None if t.catchment else t.walk_limit_m(profile),
            )  # fmt: skip
            out.append(result)
    return out


def _sitings(
    profile: Profile,
    net: WalkNetwork,
    buildings: gpd.GeoDataFrame,
    facilities: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    compounds: gpd.GeoDataFrame | None,
    gates: gpd.GeoDataFrame | None,
    progress: Progress,
) -> list[SitingResult]:
    """Sites for every category with a coverage-share target short of it, by the
    default method (the exact minimum when proven within the profile's
    ``siting_time_limit_s``, else greedy)."""
    from geoplan.siting import default_candidates, suggest_sites

    cats = [
        t.category
        for t in profile.targets_for("coverage")
        if t.measure == "coverage_share" and t.category
    ]
    if not cats:
        return []
    candidates = default_candidates(net, buildings)
    out = []
    for cat in dict.fromkeys(cats):
        with progress.step(f"{profile.name}: sites for {cat}"):
            out.append(
                suggest_sites(
                    net,
                    buildings,
                    facilities,
                    candidates,
                    category=cat,
                    profile=profile,
                    compounds=compounds,
                    gates=gates,
                    communities=communities,
                )
            )
    return out


def _siting_summary(s: SitingResult) -> dict[str, Any]:
    return {
        "coverage_before": round(float(s.coverage_before), 4),
        "coverage_after": round(float(s.coverage_after), 4),
        "target_share": s.target_share,
        "sites": [str(i) for i in s.sites.index],
        "scope": s.parameters.get("scope"),
        "method": s.method,
        "method_reason": s.method_reason,
        "time_limit_s": s.time_limit_s,
        "solve_time_s": s.solve_time_s,
        "optimal": s.optimal,
        "gap": s.gap,
    }


def _echo_siting(s: SitingResult, *, lang: str) -> None:
    from geoplan.cli._outputs import method_text
    from geoplan.report.maps import category_name

    ids = ", ".join(str(i) for i in s.sites.index) or "-"
    name = category_name(str(s.category), lang)
    if lang == "zh":
        click.echo(
            f"选址 {name}：覆盖 {s.coverage_before:.1%} -> {s.coverage_after:.1%}，"
            f"新增 {s.n_sites} 处（{ids}），目标 {s.target_share:.0%}"
        )
    else:
        click.echo(
            f"sites {s.category}: coverage {s.coverage_before:.1%} -> {s.coverage_after:.1%} "
            f"with {s.n_sites} new site(s) ({ids}), target {s.target_share:.0%}"
        )
    click.echo(f"  {method_text(s, lang=lang)}")


COMMANDS = [demo]
