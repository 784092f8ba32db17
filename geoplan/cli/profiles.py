"""``geoplan profiles list|show``."""

from __future__ import annotations

import click

from geoplan.cli._common import echo_json, handle_errors
from geoplan.cli._options import json_option, lang_option


@click.group("profiles")
def profiles() -> None:
    """List and show standards profiles (thresholds with their sources)."""


@profiles.command("list")
@json_option
@handle_errors
def list_cmd(as_json: bool) -> None:
    """List the packaged profiles."""
    from geoplan.profiles import list_profiles, load_profile

    rows = []
    for name in list_profiles():
        p = load_profile(name)
        rows.append(
            {
                "name": name,
                "title_zh": p.title_zh,
                "title_en": p.title_en,
                "targets": len(p.targets),
            }
        )
    if as_json:
        echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['name']:<16} {r['targets']:>3} targets  {r['title_zh']}")


@profiles.command("show")
@click.argument("name")
@json_option
@click.option("--toml", "as_toml", is_flag=True, help="Print the profile file (copy it to edit).")
@lang_option
@handle_errors
def show_cmd(name: str, as_json: bool, as_toml: bool, lang: str) -> None:
    """Show one profile's targets: NAME or a path to a .toml file."""
    from geoplan.profiles import load_profile

    p = load_profile(name)
    if as_toml:
        click.echo(p.to_toml(), nl=False)
        return
    if as_json:
        echo_json(
            {
                "name": p.name,
                "title_zh": p.title_zh,
                "title_en": p.title_en,
                "targets": [
                    {
                        "id": t.id,
                        "description_zh": t.description_zh,
                        "description_en": t.description_en,
                        "audit": t.audit,
                        "measure": t.measure,
                        "comparator": t.comparator,
                        "threshold": t.threshold,
                        "unit": t.unit,
                        "scope": t.scope,
                        "source": t.source,
                        "clause": t.clause,
                        "confirmed": t.confirmed,
                        "category": t.category,
                        "group": t.group,
                        "within_min": t.within_min,
                        "within_m": t.within_m,
                        "catchment": t.catchment,
                        "supply_column": t.supply_column,
                        "decay": t.decay,
                    }
                    for t in p.targets
                ],
                "catchments": [
                    {
                        "id": c.id,
                        "category": c.category,
                        "size_column": c.size_column,
                        "unit": c.unit,
                        "description_zh": c.description_zh,
                        "description_en": c.description_en,
                        "rules": [
                            {
                                "min": r.min,
                                "max": r.max,
                                "within_m": r.within_m,
                                "within_min": r.within_min,
                            }
                            for r in c.rules
                        ],
                        "source": c.source,
                        "clause": c.clause,
                        "confirmed": c.confirmed,
                    }
                    for c in p.catchments
                ],
                "sources": [
                    {
                        "key": src.key,
                        "title_zh": src.title_zh,
                        "title_en": src.title_en,
                        "number": src.number,
                        "issuer": src.issuer,
                        "year": src.year,
                        "kind": src.kind,
                        "secondary": src.secondary,
                        "form": src.form,
                        "via": src.via,
                        "via_url": src.via_url,
                        "url": src.url,
                    }
                    for src in p.sources.values()
                ],
            }
        )
        return
    click.echo(f"{p.name}: {p.title_zh if lang == 'zh' else p.title_en}")
    for t in p.targets:
        thr = t.threshold
        thr_text = f"{thr[0]:g}-{thr[1]:g}" if isinstance(thr, list | tuple) else f"{thr:g}"
        desc = t.description_zh if lang == "zh" else t.description_en
        mark = "" if t.confirmed else "  (unconfirmed)"
        reach = f"  {{catchment {t.catchment}}}" if t.catchment else ""
        click.echo(
            f"  {t.id:<34} {t.comparator} {thr_text} {t.unit}  [{t.scope}]  {desc}{reach}"
            f"  <{t.source}, {t.clause}>{mark}"
        )
    if p.catchments:
        click.echo("服务半径规则:" if lang == "zh" else "catchments:")
    for c in p.catchments:
        desc = c.description_zh if lang == "zh" else c.description_en
        mark = "" if c.confirmed else "  (unconfirmed)"
        click.echo(f"  {c.id:<34} [{c.category}, {c.size_column}]  {desc}")
        for r in c.rules:
            click.echo(f"  {'':<34}   {r.band_text(c.unit)} -> {r.limit_text()}")
        click.echo(f"  {'':<34}   <{c.source}, {c.clause}>{mark}")
    click.echo("来源:" if lang == "zh" else "sources:")
    kind_zh = {"primary": "原文", "secondary": "二手来源", "project": "geoplan 取值"}
    for key, src in p.sources.items():
        kind = src.kind or ("未注明" if lang == "zh" else "kind not stated")
        kind = kind_zh.get(kind, kind) if lang == "zh" else kind
        title = src.title_zh if lang == "zh" else f"{src.title_zh} ({src.title_en})"
        number = f" {src.number}" if src.number and src.number not in src.title_zh else ""
        click.echo(f"  {key:<26} [{kind}] 《{title}》{number}")
        if src.secondary:
            via = "经由" if lang == "zh" else "read in"
            click.echo(f"  {'':<26} {via} {src.form}: {src.via}")


COMMANDS = [profiles]
