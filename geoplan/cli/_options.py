"""The options commands share: inputs (files or PostGIS URIs), reading, households,
the tables written, languages, CRSs and jobs (click decorators and their parsed values)."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

F = TypeVar("F", bound=Callable[..., Any])
R = TypeVar("R")

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the result as JSON on stdout."
)
jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default="0: every core",
    help="Processes for the walking passes (the results do not depend on it).",
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
    help="What the coordinates of the input files really are when the files say nothing "
    "or are wrong: gcj02 (AMap, Tencent), bd09 (Baidu), wgs84 (also: 'these really are "
    "WGS84, skip the GCJ-02 check'), or an EPSG code. An OSM --network is WGS84 by "
    "definition and is never converted.",
)


class InputFile(click.ParamType):
    """An existing file, or a PostGIS table URI (``postgresql://user@host:port/db?table=T``).

    A file is checked as ``click.Path(exists=True, dir_okay=False)`` checks it and
    comes back as a Path; a URI comes back as the string given (the readers take
    both, see :mod:`geoplan.io.postgis`).

    Examples
    --------
    >>> InputFile().convert("postgresql://me@db/city?table=b", None, None)
    'postgresql://me@db/city?table=b'
    """

    name = "file"

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str:
        return "FILE|URI"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path | str:
        from geoplan.io.postgis import is_postgis_uri

        if is_postgis_uri(value):
            return str(value).strip()
        checked = click.Path(exists=True, dir_okay=False, path_type=Path)
        return cast("Path", checked.convert(cast("str | os.PathLike[str]", value), param, ctx))


def input_label(value: object) -> str:
    """How messages name an input: a file's path, or a PostGIS URI, password masked.

    Examples
    --------
    >>> input_label("postgresql://me:pw@db/city?table=b"), input_label(Path("a.gpkg"))
    ('postgresql://me:***@db/city?table=b', 'a.gpkg')
    """
    from geoplan.io.postgis import is_postgis_uri, mask_uri

    return mask_uri(str(value)) if is_postgis_uri(value) else str(value)


def postgis_target(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """The callback of an option naming a PostGIS table to write (``--to-postgis``)."""
    if value is None:
        return None
    from geoplan._errors import InputError
    from geoplan.io.postgis import is_postgis_uri, parse_postgis_uri

    if not is_postgis_uri(value):
        raise click.BadParameter(f"{value!r} is not a postgresql://...?table=NAME URI")
    try:
        table = parse_postgis_uri(value).table
    except InputError as exc:
        raise click.BadParameter(str(exc)) from None
    if table is None:
        raise click.BadParameter(f"{input_label(value)}: name the table with ?table=NAME")
    return value.strip()


def households_options(func: F) -> F:
    """``--estimate-households/--no-estimate-households`` and ``--default-levels``.

    The command receives ``estimate_hh`` (bool) and ``default_levels``
    (float or None), to pass to :func:`geoplan.households.estimate_households`
    as ``estimate=`` and ``default_levels=``.
    """
    func = click.option(
        "--default-levels",
        "default_levels",
        type=click.FloatRange(min=0, min_open=True),
        default=None,
        metavar="N",
        help="Floors assumed for every residential building whose building:levels and "
        "height are unknown, instead of the profile's default_levels per building type.",
    )(func)
    return click.option(
        "--estimate-households/--no-estimate-households",
        "estimate_hh",
        default=True,
        show_default=True,
        help="Estimate missing household counts: footprint x floors (building:levels, "
        "else height, else default levels) x net_to_gross / dwelling_floor_area_m2.",
    )(func)


class ReadOptions:
    """What ``--columns``, ``--strict`` and ``--row-ids`` ask of the readers.

    ``--columns`` goes to every input file (a header absent from one file is
    fine, one absent from all is bad input); ``--strict`` to facilities;
    ``--row-ids`` to buildings and facilities (community ids are referenced by
    facilities, so they are never renumbered).
    """

    def __init__(self, columns: dict[str, str], strict: bool, row_ids: bool) -> None:
        from geoplan.io.columns import ColumnMap

        self.columns = ColumnMap(columns)
        self.strict = strict
        self.row_ids = row_ids

    @property
    def communities(self) -> dict[str, Any]:
        return {"columns": self.columns}

    @property
    def facilities(self) -> dict[str, Any]:
        return {"columns": self.columns, "strict": self.strict, "row_ids": self.row_ids}

    @property
    def buildings(self) -> dict[str, Any]:
        return {"columns": self.columns, "row_ids": self.row_ids}

    def check_used(self) -> None:
        """Bad input when a ``--columns`` header is in none of the files read."""
        from geoplan._errors import InputError

        unused = self.columns.unused()
        if unused:
            raise InputError(
                "--columns: no input file has a column "
                + ", ".join(f"{h!r} (-> {self.columns[h]})" for h in unused),
                column=unused[0],
            )


#: What ``--format`` accepts (``geoplan.audit.results.TABLE_FORMATS``) and its default:
#: one GeoPackage, the file every GIS opens (see docs/outputs.md for the figures).
TABLE_FORMATS = ("gpkg", "parquet", "csv")
DEFAULT_FORMATS = ("gpkg",)


class TableOptions:
    """What ``--format``, ``--long`` and ``--all-categories`` ask of the written tables.

    ``save`` holds the keywords of :func:`geoplan.audit.results.save_result`.

    Examples
    --------
    >>> TableOptions(("parquet", "csv"), long=True, all_categories=False).save
    {'formats': ('parquet', 'csv'), 'lean': True, 'long': True}
    """

    def __init__(self, formats: tuple[str, ...], *, long: bool, all_categories: bool) -> None:
        self.formats = formats or DEFAULT_FORMATS
        self.long = long
        self.lean = not all_categories

    @property
    def save(self) -> dict[str, Any]:
        return {"formats": self.formats, "lean": self.lean, "long": self.long}


def _parse_formats(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        for part in re.split(r"[,，;；\s]+", value):
            name = part.strip().lower().lstrip(".")
            if not name:
                continue
            name = {"geopackage": "gpkg", "geoparquet": "parquet"}.get(name, name)
            if name not in TABLE_FORMATS:
                raise click.BadParameter(
                    f"{part!r} is not a table format; choose from {', '.join(TABLE_FORMATS)}"
                )
            if name not in names:
                names.append(name)
    return tuple(names)


def table_options(func: Callable[..., R]) -> Callable[..., R]:
    """``--format``, ``--long`` and ``--all-categories``; the command receives ``tables``."""

    @functools.wraps(func)
    def wrapper(
        *args: object,
        formats: tuple[str, ...],
        long_table: bool,
        all_categories: bool,
        **kwargs: object,
    ) -> R:
        tables = TableOptions(formats, long=long_table, all_categories=all_categories)
        return func(*args, tables=tables, **kwargs)

    wrapper = click.option(
        "--all-categories",
        "all_categories",
        is_flag=True,
        help="Per-building columns for every category of the facilities, not only for "
        "those the profile's targets name.",
    )(wrapper)
    wrapper = click.option(
        "--long",
        "long_table",
        is_flag=True,
        help="Also write the long table (one row per building and category: walk_m, "
        "facility_id, covered) in each --format: coverage_long.parquet / .csv, or the "
        "layer long of coverage.gpkg.",
    )(wrapper)
    return click.option(
        "--format",
        "formats",
        multiple=True,
        callback=_parse_formats,
        metavar="gpkg|parquet|csv",
        help="Formats of the tables in --out: gpkg (GeoPackage, layers), parquet "
        "(GeoParquet, one file per table), csv (for Excel; the slowest at city size). "
        "Repeat the option or separate with commas (--format gpkg,csv). Default: gpkg. "
        "The JSON result and the findings CSV are always written.",
    )(wrapper)


def _parse_columns(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    from geoplan.io.columns import ALIASES

    mapping: dict[str, str] = {}
    for value in values:
        for part in re.split(r"[,，;；]", value):
            part = part.strip()
            if not part:
                continue
            orig, sep, canon = (p.strip() for p in part.partition("="))
            if not sep or not orig or not canon:
                raise click.BadParameter(
                    f"{part!r} is not 'their header=canonical name' (e.g. 户数=households)"
                )
            if canon not in ALIASES or canon in {"location"}:
                raise click.BadParameter(
                    f"{canon!r} is not a canonical column name; use one of: "
                    + ", ".join(sorted(ALIASES))
                )
            if mapping.get(orig, canon) != canon:
                raise click.BadParameter(f"{orig!r} is mapped twice ({mapping[orig]}, {canon})")
            mapping[orig] = canon
    return mapping


def read_options(func: Callable[..., R]) -> Callable[..., R]:
    """``--columns``, ``--strict`` and ``--row-ids``; the command receives ``reading``."""

    @functools.wraps(func)
    def wrapper(
        *args: object,
        columns: dict[str, str],
        strict: bool,
        row_ids: bool,
        **kwargs: object,
    ) -> R:
        return func(*args, reading=ReadOptions(columns, strict, row_ids), **kwargs)

    wrapper = click.option(
        "--row-ids",
        "row_ids",
        is_flag=True,
        help="Number buildings and facilities 1, 2, ... instead of reading their id "
        "column (for real footprints whose ids repeat); the ids are kept as source_id.",
    )(wrapper)
    wrapper = click.option(
        "--strict",
        is_flag=True,
        help="Stop (exit 2) on a facility whose category is unknown, instead of leaving "
        "it out with a warning.",
    )(wrapper)
    return click.option(
        "--columns",
        "columns",
        multiple=True,
        callback=_parse_columns,
        metavar="HEADER=NAME[,...]",
        help="Map your headers to geoplan's column names, for every input file, e.g. "
        "--columns '户数=households,名称=name' (repeatable). Names: docs/architecture.md.",
    )(wrapper)
