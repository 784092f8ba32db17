"""The manifest of ``geoplan batch``: its cities checked, each city's command line.

A manifest (TOML) lists the cities, paths relative to the manifest (the format:
:mod:`geoplan.areas.batch`). :func:`read_manifest` checks it (a problem is bad input
naming the file, the entry and the key; an input file that does not exist is one) and
makes each city's ``geoplan coverage`` command line (:class:`City`) and its key
(:func:`city_key`: what makes a finished result that city's current one).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geoplan._errors import InputError

__all__ = ["ENTRY_KEYS", "City", "city_key", "read_manifest"]

#: The keys of a ``[[city]]`` entry (and of ``[defaults]``, ``name`` aside): the TOML
#: type(s) each takes and the ``geoplan coverage`` option it becomes.
ENTRY_KEYS: Mapping[str, tuple[str, str]] = {
    "name": ("text", ""),
    "network": ("path", "--network"),
    "buildings": ("path", "--buildings"),
    "facilities": ("path", "--facilities"),
    "communities": ("path", "--communities"),
    "profile": ("profile", "--profile"),
    "crs": ("text or integer", "--crs"),
    "columns": ("table", "--columns"),
    "elderly": ("boolean", "--elderly"),
    "strict": ("boolean", "--strict"),
    "row_ids": ("boolean", "--row-ids"),
    "all_categories": ("boolean", "--all-categories"),
    "long": ("boolean", "--long"),
    "map": ("boolean", "--map/--no-map"),
    "estimate_households": ("boolean", "--estimate-households/--no-estimate-households"),
    "default_levels": ("number", "--default-levels"),
    "format": ("text or list", "--format"),
}
_REQUIRED = ("name", "network")
_FORMATS = ("gpkg", "parquet", "csv")


@dataclass(frozen=True)
class City:
    """One city of a manifest, ready to run.

    Attributes
    ----------
    name
        Its ``name``: its folder under the output folder and its summary row.
    entry
        Its place in the manifest (1 for the first ``[[city]]``).
    argv
        The ``geoplan`` arguments: ``coverage ... --out FOLDER``.
    folder
        Its output folder (absolute).
    inputs
        The files (or PostGIS URIs) it reads.
    key
        What makes its result its result: the command line (but ``--lang`` and
        ``--jobs``) and the size and time of each input file (:func:`city_key`).
    """

    name: str
    entry: int
    argv: tuple[str, ...]
    folder: str
    inputs: tuple[str, ...]
    key: str


# --------------------------------------------------------------------------- manifest


def read_manifest(
    path: str | os.PathLike[str],
    *,
    out_dir: str | os.PathLike[str],
    jobs: int = 1,
    lang: str = "zh",
) -> list[City]:
    """The cities of a manifest, each with its ``geoplan coverage`` command line.

    Parameters
    ----------
    path
        The manifest (TOML): ``[[city]]`` entries and an optional ``[defaults]``
        table (:data:`ENTRY_KEYS`); relative paths are relative to its folder.
    out_dir
        The output folder: each city writes ``out_dir/<name>/``.
    jobs, lang
        Each command's ``--jobs`` (processes for its walking passes; the results do
        not depend on it) and ``--lang``.

    Raises
    ------
    InputError
        Naming the manifest, the entry (``[[city]] 2 (银川)``) and the key: not TOML,
        an unknown or missing key, a value of the wrong type, a name used twice or
        unfit for a folder, an input file that does not exist.
    """
    manifest = Path(path)
    label = str(manifest)
    try:
        doc = tomllib.loads(manifest.read_text(encoding="utf-8-sig"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not a valid TOML file: {exc}", file=label) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text: {exc}", file=label) from None
    unknown = sorted(set(doc) - {"city", "defaults"})
    if unknown:
        raise InputError(
            f"unknown key {unknown[0]!r} at the top: a manifest holds [[city]] entries and an "
            "optional [defaults] table",
            file=label,
        )
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise InputError("[defaults] must be a table (key = value lines)", file=label)
    if "name" in defaults:
        raise InputError("[defaults]: key 'name': every city has its own name", file=label)
    entries = doc.get("city")
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        raise InputError(
            "no [[city]] entries: give one [[city]] table per city (name, network, "
            "buildings, facilities, ...)",
            file=label,
        )
    base = manifest.parent
    _check_keys(defaults, where="[defaults]", label=label)
    cities: list[City] = []
    seen: dict[str, int] = {}
    for k, raw in enumerate(entries, start=1):
        name = raw.get("name")
        where = f"[[city]] {k}" + (f" ({name})" if isinstance(name, str) and name else "")
        _check_keys(raw, where=where, label=label)
        entry = {**defaults, **raw}
        for key in _REQUIRED:
            if key not in entry:
                raise InputError(f"{where}: key {key!r} is missing", file=label)
        name = _folder_name(entry["name"], where=where, label=label)
        if name in seen:
            raise InputError(
                f"{where}: key 'name': {name!r} is already the name of [[city]] {seen[name]}",
                file=label,
            )
        seen[name] = k
        cities.append(
            _city(entry, k=k, where=where, label=label, base=base, out=Path(out_dir), jobs=jobs,
                  lang=lang)
        )  # fmt: skip
    return cities


def _check_keys(entry: Mapping[str, Any], *, where: str, label: str) -> None:
    """Bad input for an unknown key or a value of the wrong type."""
    for key, value in entry.items():
        if key not in ENTRY_KEYS:
            raise InputError(
                f"{where}: unknown key {key!r}; the keys are: {', '.join(ENTRY_KEYS)}",
                file=label,
            )
        kind = ENTRY_KEYS[key][0]
        ok = {
            "text": isinstance(value, str),
            "path": isinstance(value, str) and bool(value.strip()),
            "profile": isinstance(value, str) and bool(value.strip()),
            "text or integer": isinstance(value, str | int) and not isinstance(value, bool),
            "table": isinstance(value, dict) and all(isinstance(v, str) for v in value.values()),
            "boolean": isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "text or list": isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
        }[kind]
        if not ok:
            raise InputError(
                f"{where}: key {key!r}: {value!r} is not a {kind}"
                + (" of header = canonical name pairs" if kind == "table" else ""),
                file=label,
            )
        if key == "default_levels" and not (math.isfinite(float(value)) and float(value) > 0):
            raise InputError(
                f"{where}: key 'default_levels': must be > 0, not {value!r}", file=label
            )
        if key == "format":
            for f in [value] if isinstance(value, str) else value:
                if f.strip().lower().lstrip(".") not in _FORMATS:
                    raise InputError(
                        f"{where}: key 'format': {f!r} is not one of {', '.join(_FORMATS)}",
                        file=label,
                    )
        if key == "columns":
            from geoplan.io.columns import ALIASES

            for header, canon in value.items():
                if canon not in ALIASES or canon == "location":
                    raise InputError(
                        f"{where}: key 'columns': {header!r} = {canon!r}: {canon!r} is not a "
                        f"canonical column name (one of {', '.join(sorted(ALIASES))})",
                        file=label,
                    )
                if not header.strip() or any(c in header for c in ",，;；="):
                    raise InputError(
                        f"{where}: key 'columns': the header {header!r} cannot be given "
                        "(empty, or holding , ; or =)",
                        file=label,
                    )


def _folder_name(value: object, *, where: str, label: str) -> str:
    """The city's name, fit to be a folder name on any system."""
    name = value.strip() if isinstance(value, str) else ""
    bad = set('/\\:*?"<>|') | {chr(c) for c in range(32)}
    if not name or name in (".", "..") or any(c in bad for c in name) or name.startswith("."):
        raise InputError(
            f"{where}: key 'name': {value!r} cannot be a folder name (give a non-empty name "
            'without / \\ : * ? " < > | and not starting with a dot)',
            file=label,
        )
    return name


def _input(value: str, *, key: str, where: str, label: str, base: Path) -> str:
    """A path relative to the manifest made absolute (a PostGIS URI as it is); it must exist."""
    from geoplan.io.postgis import is_postgis_uri

    if is_postgis_uri(value):
        return value.strip()
    p = Path(os.path.abspath(base / Path(value.strip()).expanduser()))
    if not p.is_file():
        raise InputError(f"{where}: key {key!r}: no such file: {p}", file=label)
    return str(p)


def _city(
    entry: Mapping[str, Any],
    *,
    k: int,
    where: str,
    label: str,
    base: Path,
    out: Path,
    jobs: int,
    lang: str,
) -> City:
    from geoplan.network import network_kind

    name = str(entry["name"]).strip()
    argv: list[str] = ["coverage"]
    inputs: list[str] = []
    for key in ("network", "buildings", "facilities", "communities"):
        if key in entry:
            p = _input(entry[key], key=key, where=where, label=label, base=base)
            argv += [ENTRY_KEYS[key][1], p]
            inputs.append(p)
    if network_kind(entry["network"]) != "osm":
        for key in ("buildings", "facilities"):
            if key not in entry:
                raise InputError(
                    f"{where}: key {key!r} is missing (only an OSM network file brings its own "
                    "buildings and facilities)",
                    file=label,
                )
    if "profile" in entry:
        prof = str(entry["profile"]).strip()
        if prof.lower().endswith(".toml"):
            prof = _input(prof, key="profile", where=where, label=label, base=base)
            inputs.append(prof)
        argv += ["--profile", prof]
    if "crs" in entry:
        argv += ["--crs", str(entry["crs"])]
    for header, canon in (entry.get("columns") or {}).items():
        argv += ["--columns", f"{header}={canon}"]
    for key in ("elderly", "strict", "row_ids", "all_categories", "long"):
        if entry.get(key):
            argv.append(ENTRY_KEYS[key][1])
    if "map" in entry:
        argv.append("--map" if entry["map"] else "--no-map")
    if "estimate_households" in entry:
        argv.append(
            "--estimate-households" if entry["estimate_households"] else "--no-estimate-households"
        )
    if "default_levels" in entry:
        argv += ["--default-levels", repr(float(entry["default_levels"]))]
    if "format" in entry:
        fmts = [entry["format"]] if isinstance(entry["format"], str) else entry["format"]
        argv += ["--format", ",".join(f.strip().lower().lstrip(".") for f in fmts)]
    folder = Path(os.path.abspath(out / name))
    argv += ["--out", str(folder)]
    key = city_key(argv, inputs)
    # the results do not depend on these (the language of messages and maps): not in the key
    argv += ["--lang", lang, "--jobs", str(int(jobs))]
    return City(
        name=name, entry=k, argv=tuple(argv), folder=str(folder), inputs=tuple(inputs), key=key
    )


def city_key(argv: Sequence[str], inputs: Sequence[str]) -> str:
    """A digest of a city's command line and of its input files' sizes and times.

    A file changed since the city ran changes the key (the city runs again); a
    PostGIS table is known by its URI only (``force`` runs it again after it changed).
    """
    stats: list[object] = []
    for p in inputs:
        try:
            st = os.stat(p)
            stats.append([p, st.st_size, st.st_mtime_ns])
        except OSError:  # a PostGIS URI (or a file gone: the run will say so)
            stats.append([p])
    text = json.dumps({"argv": list(argv), "inputs": stats}, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
