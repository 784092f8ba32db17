"""``geoplan demo``: the whole audit on the embedded sample district."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import click

from geoplan.cli._common import Progress, echo_json, handle_errors, print_result


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
    default=("tianjin-2025", "ningxia-2025"),
    show_default=True,
    help="Profiles to audit against (repeat the option).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary on stdout.")
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@handle_errors
def demo(out_dir: Path, seed: int, profiles: tuple[str, ...], as_json: bool, lang: str) -> None:
    """Generate the sample district, write it as input files, read them back and
    audit them; writes results, reports and the gap map into --out.

    Exits 0 when it ran (the sample district is built to fail some checks)."""
    from geoplan._errors import DataQualityWarning
    from geoplan.audit import audit_floor_area, audit_organisations
    from geoplan.audit.results import save_result
    from geoplan.households import estimate_households
    from geoplan.io.readers import read_buildings, read_communities, read_facilities
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
    summary: dict[str, Any] = {
        "seed": seed,
        "out": str(out_dir),
        "inputs": str(gpkg),
        "communities": len(comm),
        "facilities": len(fac),
        "buildings": len(bld),
        "profiles": {},
    }
    for name in profiles:
        profile = load_profile(name)
        folder = out_dir / profile.name
        with progress.step(f"estimating missing households ({profile.name})"):
            bld_est = estimate_households(bld, params=profile)
        n_est = int(bld_est["households_estimated"].sum())
        with (
            progress.step(f"auditing floor area and organisations ({profile.name})"),
            warnings.catch_warnings(record=True) as caught,
        ):
            warnings.simplefilter("always", DataQualityWarning)
            results = [
                audit_floor_area(comm, fac, profile=profile),
                audit_organisations(comm, profile=profile, facilities=fac),
            ]
        notes += [str(w.message) for w in caught]
        with progress.step(f"writing {folder}"):
            for r in results:
                save_result(r, folder, protect=[gpkg])
        summary["profiles"][profile.name] = {
            "households_estimated_buildings": n_est,
            **{r.name: {"passed": r.passed, "checks": r.summary["checks"]} for r in results},
        }
        if not as_json:
            click.echo("")
            for r in results:
                print_result(r, lang=lang)
    summary["notes"] = sorted(set(notes))
    if as_json:
        echo_json(summary)
    else:
        click.echo(f"\n{'结果已写入' if lang == 'zh' else 'results written to'} {out_dir}/")
        for note in summary["notes"]:
            click.echo(f"  note: {note}", err=True)


COMMANDS = [demo]
