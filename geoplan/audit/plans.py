"""Development plans and their context: the documented, versioned plan format
(``docs/development-audit.md``) read and checked, and the surrounding walking
network and facilities.

Every problem in a plan is an :class:`~geoplan._errors.InputError` naming the
file, the layer, the row and the column: missing households, overlapping
buildings, a site outside the context, a wrong CRS.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import shapely

from geoplan._errors import DataQualityWarning, InputError

if TYPE_CHECKING:
    from geoplan._types import CRSLike
    from geoplan.network import WalkNetwork

__all__ = [
    "PLAN_LAYERS",
    "PLAN_SCHEMA_VERSION",
    "Context",
    "Plan",
    "has_existing_layers",
    "read_context",
    "read_plan",
]

PLAN_SCHEMA_VERSION = "1.0"
"""Version of the plan format of ``docs/development-audit.md``."""

PLAN_LAYERS = ("site", "buildings", "service_rooms", "commercial", "facilities")
_REQUIRED_LAYERS = ("site", "buildings")
USE_AREA_COLUMNS = ("residential_m2", "commercial_m2", "service_m2", "public_m2", "other_m2")
_PLAN_NUMERIC = (*USE_AREA_COLUMNS, "total_floor_area_m2")
ROOM_KINDS = {
    "community_service": "community_service_centre",
    "elderly_care": "elderly_service_station",
}
_ROOM_KIND_ALIASES = {
    "社区服务": "community_service",
    "社区服务用房": "community_service",
    "养老": "elderly_care",
    "养老服务用房": "elderly_care",
}
_GEOM_TOLERANCE_M2 = 1.0  # overlap below this (digitising slivers) is not an overlap


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Plan:
    """The layers of one development plan, validated, in one metric CRS.

    Attributes
    ----------
    path
        The file or folder read.
    site
        One row (index ``community_id`` = the site id): ``name``, ``kind``,
        ``households`` and ``residents`` (sums over buildings), flags, and the
        floor-area totals the checks read.
    buildings
        Index ``building_id``: ``use``, ``households``, floor area by use.
    service_rooms
        Index ``facility_id``: ``floor_area_m2``, ``activity_area_m2``,
        ``room_kind``, ``category``.
    commercial
        Index ``facility_id``: ``floor_area_m2`` and optional ``category``.
    facilities
        Proposed own facilities with ``category`` (index ``facility_id``).
    stage
        ``""`` for the proposal, ``"existing"`` for an estate's current state.
    """

    path: str
    site: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    service_rooms: gpd.GeoDataFrame
    commercial: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    stage: str = ""

    @property
    def site_id(self) -> str:
        """The site's id."""
        return str(self.site.index[0])

    @property
    def name(self) -> str:
        """The site's name."""
        return str(self.site["name"].iloc[0])


@dataclass(frozen=True)
class Context:
    """The surroundings of a plan: the walking network and existing facilities."""

    path: str
    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    area: shapely.Geometry = field(default_factory=shapely.Polygon)


# --------------------------------------------------------------------------- reading


def _layer_names(path: Path) -> list[str]:
    if path.is_dir():
        return sorted(p.stem for p in path.glob("*.geojson"))
    import pyogrio

    try:
        return [str(n) for n in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the file: {exc}", file=str(path)) from exc


def has_existing_layers(path: str | os.PathLike[str]) -> bool:
    """Whether a plan holds ``existing_*`` layers (renovation: before and after).

    Examples
    --------
    >>> has_existing_layers("data/plans/renovation.gpkg")
    True
    >>> has_existing_layers("data/plans/pass.gpkg")
    False
    """
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p))
    return any(n.startswith("existing_") for n in _layer_names(p))


def _read_raw_layer(path: Path, layer: str) -> tuple[gpd.GeoDataFrame, str]:
    if path.is_dir():
        file = path / f"{layer}.geojson"
        label = str(file)
        src: Path = file
        lyr: str | None = None
    else:
        label = f"{path} (layer {layer})"
        src, lyr = path, layer
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gdf = gpd.read_file(src, layer=lyr, engine="pyogrio")
    except Exception as exc:  # pyogrio raises several types for unreadable files
        raise InputError(f"cannot read the layer: {exc}", file=label) from exc
    return gdf, label


def _numeric(frame: pd.DataFrame, cols: Iterable[str], *, file: str) -> None:
    for col in cols:
        if col not in frame.columns:
            continue
        raw = frame[col]
        text = raw.astype("string").str.strip().str.replace(",", "", regex=False)
        empty = text.isna() | text.eq("") | text.str.lower().isin(["nan", "none", "null", "<na>"])
        values = pd.to_numeric(text.mask(empty), errors="coerce").astype(float)
        bad = values.isna() & ~empty
        if bad.any():
            rid = bad.index[bad.to_numpy()][0]
            raise InputError(f"{raw[rid]!r} is not a number", file=file, row=rid, column=col)
        neg = values < 0
        if neg.any():
            rid = neg.index[neg.to_numpy()][0]
            raise InputError(f"{col} is negative ({values[rid]:g})", file=file, row=rid, column=col)
        frame[col] = values


def _rename_id(raw: gpd.GeoDataFrame, own: str, canonical: str) -> gpd.GeoDataFrame:
    if own in raw.columns and canonical not in raw.columns:
        return raw.rename(columns={own: canonical})
    return raw


def empty_frame(crs: CRSLike | None, index_name: str) -> gpd.GeoDataFrame:
    """An empty facilities frame (name, category, geometry) in ``crs``."""
    return gpd.GeoDataFrame(
        {
            "name": pd.Series(dtype=object),
            "category": pd.Series(dtype=object),
            "floor_area_m2": pd.Series(dtype=float),
        },
        geometry=gpd.GeoSeries([], crs=crs),
        index=pd.Index([], name=index_name, dtype=object),
    )


def read_plan(
    path: str | os.PathLike[str],
    *,
    stage: str = "",
    crs: CRSLike | None = None,
    metric_crs: CRSLike | None = None,
) -> Plan:
    """Read and validate a development plan (GeoPackage, or a folder of GeoJSON).

    Parameters
    ----------
    path
        A ``.gpkg`` with layers ``site``, ``buildings`` and optionally
        ``service_rooms``, ``commercial``, ``facilities``; or a folder with one
        ``<layer>.geojson`` per layer. Format: ``docs/development-audit.md``.
    stage
        ``""`` (the proposal) or ``"existing"`` (layers ``existing_<layer>``; a
        missing ``existing_site`` falls back to ``site``).
    crs
        What the coordinates really are when the file says nothing or is wrong
        (``"gcj02"``, ``"bd09"`` or any pyproj CRS).
    metric_crs
        Projected CRS of the output; default the local UTM zone.

    Raises
    ------
    InputError
        Naming the file (and layer), the row id and the column: a missing layer or
        column, a residential building without households, overlapping
        buildings, a building outside the site, a room with more activity area
        than floor area, a plan without CRS or with projected coordinates
        labelled as longitude/latitude.

    Examples
    --------
    >>> plan = read_plan("data/plans/pass.gpkg")
    >>> float(plan.site["households"].iloc[0])
    1120.0
    """
    from geoplan.io.readers import prepare_layer

    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=str(p))
    if stage not in ("", "existing"):
        raise ValueError("stage is '' or 'existing'")
    names = set(_layer_names(p))
    prefix = f"{stage}_" if stage else ""

    def layer_name(base: str) -> str | None:
        if prefix + base in names:
            return prefix + base
        if base == "site" and base in names:
            return base
        return None

    for base in _REQUIRED_LAYERS:
        if layer_name(base) is None:
            raise InputError(
                f"the plan has no {prefix + base!r} layer (layers: {', '.join(sorted(names))}); "
                "see docs/development-audit.md",
                file=str(p),
            )
    # buildings first: they fix the metric CRS of the whole plan
    raw_b, file_b = _read_raw_layer(p, layer_name("buildings"))  # type: ignore[arg-type]
    raw_b = _rename_id(raw_b, "id", "building_id")
    if "households" not in raw_b.columns:
        raise InputError(
            "required column 'households' is missing (households of each building)",
            file=file_b,
            column="households",
        )
    buildings = prepare_layer(
        raw_b, "buildings", file=file_b, source_crs=crs, metric_crs=metric_crs
    )
    _numeric(buildings, _PLAN_NUMERIC, file=file_b)
    _check_buildings(buildings, file=file_b)
    metric = buildings.crs

    raw_s, file_s = _read_raw_layer(p, layer_name("site"))  # type: ignore[arg-type]
    raw_s = _rename_id(raw_s, "site_id", "community_id")
    if len(raw_s) != 1:
        raise InputError(
            f"the site layer must hold exactly one polygon, not {len(raw_s)}", file=file_s
        )
    raw_s = raw_s.copy()
    raw_s["households"] = float(buildings["households"].sum())
    if "kind" not in raw_s.columns:
        raw_s["kind"] = "urban"
    if "name" not in raw_s.columns:
        raise InputError("required column 'name' is missing", file=file_s, column="name")
    with warnings.catch_warnings():
        # a site with fewer residents than households is caught for buildings already
        warnings.simplefilter("ignore", DataQualityWarning)
        site = prepare_layer(raw_s, "communities", file=file_s, source_crs=crs, metric_crs=metric)
    if "renovation" in site.columns:
        site["renovation"] = _bool_col(site, "renovation", file=file_s)
    else:
        site["renovation"] = False
    _check_within_site(buildings, site, file=file_b)

    rooms = _optional_layer(p, layer_name("service_rooms"), "service_rooms", crs, metric)
    commercial = _optional_layer(p, layer_name("commercial"), "commercial", crs, metric)
    facilities = _optional_layer(p, layer_name("facilities"), "facilities", crs, metric)
    site = _site_totals(site, buildings, rooms, commercial, file_b=file_b)
    for frame in (buildings, rooms, commercial, facilities, site):
        frame.attrs["plan"] = str(p)
    return Plan(str(p), site, buildings, rooms, commercial, facilities, stage=stage)


def _bool_col(frame: pd.DataFrame, col: str, *, file: str) -> pd.Series:
    from geoplan.io import columns as C

    text = frame[col].astype("string").str.strip().str.lower().fillna("")
    ok = text.isin(C.TRUE_VALUES) | text.isin(C.FALSE_VALUES)
    if not ok.all():
        rid = ok.index[~ok.to_numpy()][0]
        raise InputError(f"{frame.loc[rid, col]!r} is not yes/no", file=file, row=rid, column=col)
    return text.isin(C.TRUE_VALUES).astype(bool)


def _optional_layer(
    p: Path, layer: str | None, kind: str, crs: CRSLike | None, metric: CRSLike | None
) -> gpd.GeoDataFrame:
    from geoplan.io.readers import prepare_layer

    if layer is None:
        return empty_frame(metric, "facility_id")
    raw, file = _read_raw_layer(p, layer)
    if len(raw) == 0:
        return empty_frame(metric, "facility_id")
    own_id = {"service_rooms": "room_id", "commercial": "commercial_id"}.get(kind, "facility_id")
    raw = _rename_id(raw, own_id, "facility_id").copy()
    if kind in ("service_rooms", "commercial") and "floor_area_m2" not in raw.columns:
        raise InputError(
            "required column 'floor_area_m2' is missing", file=file, column="floor_area_m2"
        )
    if kind == "commercial":
        # plain retail space has no category: validate it as a building-like layer
        cats = raw.pop("category") if "category" in raw.columns else None
        raw = _rename_id(raw, "facility_id", "id")
        out = prepare_layer(raw, "buildings", file=file, source_crs=crs, metric_crs=metric)
        out = out.drop(columns=["households_estimated"], errors="ignore")
        out.index.name = "facility_id"
        out["category"] = _commercial_categories(cats, out.index, file=file)
    else:
        if kind == "service_rooms":
            kinds = raw.pop("kind") if "kind" in raw.columns else pd.Series(None, index=raw.index)
            raw["room_kind"] = [
                _ROOM_KIND_ALIASES.get(str(k).strip(), str(k).strip())
                if isinstance(k, str) and k.strip()
                else "community_service"
                for k in kinds
            ]
            raw["category"] = [
                ROOM_KINDS.get(k, "community_service_centre") for k in raw["room_kind"]
            ]
        out = prepare_layer(raw, "facilities", file=file, source_crs=crs, metric_crs=metric)
    if kind == "service_rooms":
        bad = ~out["room_kind"].isin(list(ROOM_KINDS))
        if bad.any():
            rid = bad.index[bad.to_numpy()][0]
            raise InputError(
                f"unknown room kind {out.loc[rid, 'room_kind']!r}: use {' or '.join(ROOM_KINDS)}",
                file=file,
                row=rid,
                column="kind",
            )
        act = out["activity_area_m2"] if "activity_area_m2" in out.columns else None
        if act is not None:
            over = act > out["floor_area_m2"]
            if over.any():
                rid = over.index[over.to_numpy()][0]
                raise InputError(
                    f"activity area {act[rid]:g} m2 exceeds the floor area "
                    f"{out.loc[rid, 'floor_area_m2']:g} m2",
                    file=file,
                    row=rid,
                    column="activity_area_m2",
                )
    if kind in ("service_rooms", "commercial") and out["floor_area_m2"].isna().any():
        rid = out.index[out["floor_area_m2"].isna().to_numpy()][0]
        raise InputError("floor_area_m2 is missing", file=file, row=rid, column="floor_area_m2")
    out.attrs["source_file"] = file
    return out


def _commercial_categories(cats: pd.Series | None, index: pd.Index, *, file: str) -> pd.Series:
    from geoplan.categories import validate_categories

    out = pd.Series([None] * len(index), index=index, dtype=object)
    if cats is None:
        return out
    values = pd.Series(cats.to_numpy(dtype=object), index=index)
    text = values.astype("string").str.strip()
    has = (text.notna() & text.ne("")).to_numpy(dtype=bool)
    if has.any():
        out[has] = validate_categories(values[has].astype(str), file=file).to_numpy(dtype=object)
    return out


def _check_buildings(b: gpd.GeoDataFrame, *, file: str) -> None:
    res_area = b["residential_m2"] if "residential_m2" in b.columns else None
    use = b["use"].astype("string").str.lower() if "use" in b.columns else None
    residential = pd.Series(False, index=b.index)
    if res_area is not None:
        residential |= res_area.fillna(0).gt(0)
    if use is not None:
        residential |= use.eq("residential").fillna(False).astype(bool)
    missing = b["households"].isna() & residential
    if missing.any():
        rid = missing.index[missing.to_numpy()][0]
        raise InputError(
            "households is missing for a residential building (a plan states the "
            "households of every residential building)",
            file=file,
            row=rid,
            column="households",
        )
    b["households"] = b["households"].fillna(0.0)
    if not any(c in b.columns for c in _PLAN_NUMERIC):
        raise InputError(
            f"no floor-area column: give {', '.join(USE_AREA_COLUMNS)} (floor area by use) "
            "or total_floor_area_m2",
            file=file,
        )
    poly = b.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    if poly.sum() > 1:
        geoms = b.geometry.to_numpy()[poly]
        ids = b.index[poly]
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        for i, j in zip(left[keep], right[keep], strict=True):
            overlap = shapely.area(shapely.intersection(geoms[i], geoms[j]))
            if overlap > _GEOM_TOLERANCE_M2:
                raise InputError(
                    f"building overlaps building {ids[j]} by {overlap:,.0f} m2",
                    file=file,
                    row=ids[i],
                    column="geometry",
                )


def _check_within_site(b: gpd.GeoDataFrame, site: gpd.GeoDataFrame, *, file: str) -> None:
    poly = site.geometry.iloc[0]
    pts = b.geometry.representative_point()
    outside = ~pts.within(poly)
    if outside.any():
        rid = outside.index[outside.to_numpy()][0]
        raise InputError(
            f"building lies outside the site boundary of {site.index[0]} "
            f"({int(outside.sum())} buildings outside)",
            file=file,
            row=rid,
            column="geometry",
        )


def _site_totals(
    site: gpd.GeoDataFrame,
    b: gpd.GeoDataFrame,
    rooms: gpd.GeoDataFrame,
    commercial: gpd.GeoDataFrame,
    *,
    file_b: str,
) -> gpd.GeoDataFrame:
    site = site.copy()
    if "total_floor_area_m2" in b.columns and b["total_floor_area_m2"].notna().all():
        total = float(b["total_floor_area_m2"].sum())
    else:
        by_use = b[[c for c in USE_AREA_COLUMNS if c in b.columns]].fillna(0.0)
        if "total_floor_area_m2" in b.columns:
            given = b["total_floor_area_m2"]
            total = float(given.fillna(by_use.sum(axis=1)).sum())
        else:
            total = float(by_use.to_numpy().sum())
    comm_service = sum(
        float(b[c].fillna(0).sum()) for c in ("commercial_m2", "service_m2") if c in b.columns
    )
    room_area = rooms["floor_area_m2"].astype(float) if len(rooms) else pd.Series(dtype=float)
    kinds = rooms["room_kind"] if len(rooms) else pd.Series(dtype=object)
    svc = float(room_area[kinds.eq("community_service").to_numpy()].sum()) if len(rooms) else 0.0
    eld = float(room_area[kinds.eq("elderly_care").to_numpy()].sum()) if len(rooms) else 0.0
    itemised = float(room_area.sum()) + (
        float(commercial["floor_area_m2"].sum()) if len(commercial) else 0.0
    )
    if itemised > comm_service + _GEOM_TOLERANCE_M2:
        raise InputError(
            f"service rooms and commercial spaces add up to {itemised:,.0f} m2 but the "
            f"buildings declare only {comm_service:,.0f} m2 of commercial_m2 + service_m2",
            file=file_b,
            column="service_m2",
        )
    sid = site.index[0]
    site.loc[sid, "total_floor_area_m2"] = total
    site.loc[sid, "commercial_service_area_m2"] = comm_service
    site.loc[sid, "developer_service_rooms_m2"] = svc
    site.loc[sid, "elderly_care_area_m2"] = eld
    if "residents" in b.columns and b["residents"].notna().all():
        site.loc[sid, "residents"] = float(b["residents"].sum())
    return site


def read_context(
    path: str | os.PathLike[str],
    *,
    metric_crs: CRSLike,
    crs: CRSLike | None = None,
) -> Context:
    """Read the surroundings of a plan: walking network and existing facilities.

    Parameters
    ----------
    path
        An OSM file (``.osm``, ``.osm.bz2``, ``.osm.gz``, ``.pbf``) or a
        GeoPackage with a ``streets`` line layer and a ``facilities`` layer.
    metric_crs
        The plan's metric CRS; the context is projected to it.
    crs
        What the GeoPackage coordinates really are when the file is wrong.

    Examples
    --------
    >>> ctx = read_context("data/plans/context.gpkg", metric_crs=32650)
    >>> ctx.network.n_nodes > 100, "wet_market" in set(ctx.facilities["category"])
    (True, True)
    """
    from geoplan.io.osm import osm_facilities
    from geoplan.io.readers import read_facilities
    from geoplan.network import network_from_lines, network_kind, read_network

    p = Path(path)
    label = str(p)
    if not p.exists():
        raise InputError("file not found", file=label)
    name = p.name.lower()
    if network_kind(p) == "osm":
        net = read_network(p, metric_crs=metric_crs)
        fac = osm_facilities(p, to_crs=metric_crs)
        fac = (
            fac[["name", "category", "geometry"]].copy()
            if len(fac)
            else empty_frame(metric_crs, "facility_id")
        )
        fac.index = fac.index.astype(str)
        fac.index.name = "facility_id"
    elif name.endswith(".gpkg"):
        layers = set(_layer_names(p))
        if "streets" not in layers:
            raise InputError(
                f"the context GeoPackage has no 'streets' layer (layers: "
                f"{', '.join(sorted(layers))})",
                file=label,
            )
        streets, s_label = _read_raw_layer(p, "streets")
        if streets.crs is None:
            if crs is None:
                raise InputError(
                    "the streets layer has no CRS; give it with source_crs=",
                    file=s_label,
                    column="geometry",
                )
            streets = streets.set_crs(crs)
        elif crs is not None:
            streets = streets.set_crs(crs, allow_override=True)
        net = network_from_lines(streets, to_crs=metric_crs)
        if "facilities" in layers:
            fac = read_facilities(p, layer="facilities", source_crs=crs, metric_crs=metric_crs)
        else:
            fac = empty_frame(metric_crs, "facility_id")
    else:
        raise InputError(
            "unsupported context: give an OSM file (.osm, .osm.bz2, .pbf) or a GeoPackage "
            "with 'streets' and 'facilities' layers",
            file=label,
        )
    if net.n_edges == 0:
        raise InputError("the context has no walkable streets", file=label)
    area = shapely.convex_hull(shapely.union_all(net.geometry))
    # one context network serves every profile's walking checks, before and after
    return Context(label, net.prepare(), fac, area)
