"""Build the sample development plans of ``data/plans/`` (format: docs/development-audit.md).

Run from the repository root::

    python data/plans/make_plans.py            # writes data/plans/*.gpkg
    python data/plans/make_plans.py OUT_DIR    # or into another folder

Everything is placed inside the seeded sample district
(``geoplan.sample.make_sample_district(seed=0)``, EPSG:32650) so the plans audit
offline with no shared data:

- ``context.gpkg``: the district's ``streets`` and ``facilities`` (the surroundings);
- ``template.gpkg``: every layer and column of the plan format, one example row each;
- ``pass.gpkg``: a new development of about 1,100 households with its own service
  rooms and a neighbourhood centre, meant to pass every packaged profile;
- ``fail.gpkg``: a new development on the eastern village fringe that skimps on
  service rooms, commercial space and activity rooms and has no wet market in reach;
- ``renovation.gpkg``: an existing old estate of the district (风荷社区) with
  ``existing_*`` layers (today) and proposed layers (after the renovation).

Plans are written in longitude/latitude (EPSG:4326), as planners' files usually
are; the context stays in EPSG:32650. The same script always writes the same data.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geoplan.io.write import atomic_path
from geoplan.sample import make_sample_district

HERE = Path(__file__).resolve().parent
CRS = "EPSG:32650"
# Design figures of the made-up plans (how the samples are drawn, not audit thresholds).
M2_PER_DWELLING = 95.0
PERSONS = 2.62


def _write(dest: Path, layers: dict[str, gpd.GeoDataFrame], *, wgs84: bool = True) -> Path:
    """All layers into one GeoPackage, atomically, coordinates rounded (small files)."""
    os.environ.setdefault("OGR_CURRENT_DATE", "2025-01-01T00:00:00Z")  # stable metadata
    with atomic_path(dest) as tmp:
        staged = tmp.with_name(tmp.name + ".gpkg")
        try:
            for name, gdf in layers.items():
                out = gdf.to_crs(4326) if wgs84 else gdf
                prec = 7 if wgs84 else 2
                out = out.set_geometry(shapely.set_precision(out.geometry.values, 10.0**-prec))
                out.reset_index().to_file(
                    staged, layer=name, driver="GPKG", engine="pyogrio", SPATIAL_INDEX="NO"
                )
            os.replace(staged, tmp)
        finally:
            staged.unlink(missing_ok=True)
    return dest


def _gdf(rows: list[dict], index: str) -> gpd.GeoDataFrame:
    frame = pd.DataFrame(rows).set_index(index)
    geom = frame.pop("geometry")
    return gpd.GeoDataFrame(frame, geometry=list(geom), crs=CRS)


def _tower(x: float, y: float, w: float = 34.0, h: float = 16.0) -> shapely.Polygon:
    return shapely.box(x - w / 2, y - h / 2, x + w / 2, y + h / 2)


def _residential(bid: str, name: str, geom: shapely.Polygon, floors: int, hh: int) -> dict:
    return {
        "building_id": bid,
        "name": name,
        "use": "residential",
        "floors": floors,
        "households": hh,
        "residents": round(hh * PERSONS),
        "residential_m2": hh * M2_PER_DWELLING,
        "commercial_m2": 0.0,
        "service_m2": 0.0,
        "public_m2": 0.0,
        "other_m2": 0.0,
        "geometry": geom,
    }


def _nonres(
    bid: str,
    name: str,
    use: str,
    geom: shapely.Polygon,
    floors: int,
    commercial: float = 0.0,
    service: float = 0.0,
    public: float = 0.0,
) -> dict:
    return {
        "building_id": bid,
        "name": name,
        "use": use,
        "floors": floors,
        "households": 0,
        "residents": 0,
        "residential_m2": 0.0,
        "commercial_m2": commercial,
        "service_m2": service,
        "public_m2": public,
        "other_m2": 0.0,
        "geometry": geom,
    }


def _points(
    rows: list[tuple], index: str, x0: float, y0: float, fields: list[str]
) -> gpd.GeoDataFrame:
    out = []
    for row in rows:
        rec = dict(zip([index, *fields], row[:-2], strict=True))
        rec["geometry"] = shapely.Point(x0 + row[-2], y0 + row[-1])
        out.append(rec)
    return _gdf(out, index)


def make_context(folder: Path) -> Path:
    d = make_sample_district(seed=0)
    streets = d.streets[["highway", "name", "geometry"]].copy()
    fac = d.facilities[["name", "category", "floor_area_m2", "geometry"]].copy()
    return _write(folder / "context.gpkg", {"streets": streets, "facilities": fac}, wgs84=False)


def _site(sid: str, name: str, geom: shapely.Polygon, **flags: object) -> gpd.GeoDataFrame:
    rec = {
        "site_id": sid,
        "name": name,
        "kind": "urban",
        "district_code": "120104",
        "new_development": True,
        "renovation": False,
        "old_estate": False,
        "central_district": True,
        "geometry": geom,
    }
    rec.update(flags)
    return _gdf([rec], "site_id")


def make_pass(folder: Path) -> Path:
    """About 1,100 households in six towers around a neighbourhood centre."""
    cx, cy = 517290.0, 4329890.0
    site = _site(
        "DEV-P01", "南开新苑（达标样例）", shapely.box(cx - 120, cy - 110, cx + 120, cy + 110)
    )
    towers = [(-80, 70), (0, 80), (80, 70), (-80, -70), (0, -80), (80, -70)]
    hh = [180, 200, 180, 180, 200, 180]
    rows = [
        _residential(f"B{k + 1}", f"{k + 1}号楼", _tower(cx + dx, cy + dy), 26, n)
        for k, ((dx, dy), n) in enumerate(zip(towers, hh, strict=True))
    ]
    rows.append(
        _nonres(
            "C1",
            "邻里中心",
            "commercial",
            shapely.box(cx - 60, cy - 30, cx + 60, cy + 30),
            3,
            commercial=13500.0,
            service=1400.0,
        )
    )
    buildings = _gdf(rows, "building_id")
    rooms = _points(
        [
            ("R1", "社区党群服务中心", "community_service", 420.0, 290.0, -30, 0),
            ("R2", "社区养老服务站", "elderly_care", 360.0, 250.0, 30, 0),
        ],
        "room_id",
        cx,
        cy,
        ["name", "kind", "floor_area_m2", "activity_area_m2"],
    )
    shops = [
        ("S01", "邻里菜市场", "wet_market", 900.0),
        ("S02", "超市", "supermarket", 1800.0),
        ("S03", "便利店", "convenience_store", 120.0),
        ("S04", "生鲜店", "fresh_food", 150.0),
        ("S05", "早餐店", "breakfast", 80.0),
        ("S06", "洗衣店", "laundry", 60.0),
        ("S07", "美发店", "hair", 80.0),
        ("S08", "图文快印", "printing", 40.0),
        ("S09", "家政服务", "housekeeping", 50.0),
        ("S10", "维修部", "repair", 40.0),
        ("S11", "药店", "pharmacy", 150.0),
        ("S12", "快递驿站", "post_express", 60.0),
        ("S13", "回收站", "recycling", 40.0),
        ("S14", "餐馆", "dining", 300.0),
        ("S15", "面包房", "bakery", 80.0),
        ("S16", "书店", "bookstore", 200.0),
        ("S17", "健身房", "gym", 600.0),
        ("S18", "培训中心", "training", 300.0),
        ("S19", "养生馆", "wellness", 120.0),
        ("S20", "花店", "florist", 40.0),
        ("S21", "咖啡馆", "tea_coffee", 100.0),
        ("S22", "宠物店", "pet", 80.0),
        ("S23", "商场", "mall", 6000.0),
        ("S24", "银行网点", "bank", 300.0),
        ("S25", "零售", "", 1100.0),
    ]
    commercial = _points(
        [(*s, -50 + 4 * k, 15 - (k % 3) * 15) for k, s in enumerate(shops)],
        "commercial_id",
        cx,
        cy,
        ["name", "category", "floor_area_m2"],
    )
    facilities = _points(
        [
            ("P1", "托育园", "childcare", -40, -20),
            ("P2", "社区卫生服务站", "health_station", -20, -20),
            ("P3", "公共厕所", "toilets", 0, -20),
            ("P4", "警务室", "police", 20, -20),
            ("P5", "养老院", "elderly_care", 40, -20),
            ("P6", "小学", "primary_school", -120, 0),
            ("P7", "中学", "middle_school", 120, 0),
            ("P8", "健身场地", "outdoor_fitness", 0, 50),
        ],
        "facility_id",
        cx,
        cy,
        ["name", "category"],
    )
    return _write(
        folder / "pass.gpkg",
        {
            "site": site,
            "buildings": buildings,
            "service_rooms": rooms,
            "commercial": commercial,
            "facilities": facilities,
        },
    )


def make_fail(folder: Path) -> Path:
    """About 1,320 households on the eastern fringe with too little of everything."""
    cx, cy = 518650.0, 4330350.0
    site = _site(
        "DEV-F01",
        "东郊嘉园（不达标样例）",
        shapely.box(cx - 130, cy - 110, cx + 130, cy + 110),
        central_district=False,
    )
    towers = [(-90, 70), (0, 70), (90, 70), (-90, -70), (0, -70), (90, -70)]
    hh = [220, 220, 220, 220, 220, 220]
    rows = [
        _residential(f"B{k + 1}", f"{k + 1}号楼", _tower(cx + dx, cy + dy), 30, n)
        for k, ((dx, dy), n) in enumerate(zip(towers, hh, strict=True))
    ]
    rows.append(
        _nonres(
            "C1",
            "沿街商业",
            "commercial",
            shapely.box(cx - 50, cy - 15, cx + 50, cy + 15),
            2,
            commercial=5200.0,
            service=200.0,
        )
    )
    buildings = _gdf(rows, "building_id")
    rooms = _points(
        [("R1", "物业及社区用房", "community_service", 150.0, 60.0, -20, 0)],
        "room_id",
        cx,
        cy,
        ["name", "kind", "floor_area_m2", "activity_area_m2"],
    )
    commercial = _points(
        [("S1", "便利店", "convenience_store", 120.0, 10, 0), ("S2", "商铺", "", 4000.0, 30, 0)],
        "commercial_id",
        cx,
        cy,
        ["name", "category", "floor_area_m2"],
    )
    return _write(
        folder / "fail.gpkg",
        {
            "site": site,
            "buildings": buildings,
            "service_rooms": rooms,
            "commercial": commercial,
        },
    )


def make_renovation(folder: Path) -> Path:
    """风荷社区 today (existing_*) and after the proposed renovation."""
    d = make_sample_district(seed=0)
    cid = "120104001001"
    comm = d.communities.loc[[cid]]
    site = _site(
        "REN-01",
        f"{comm['name'].iloc[0]}老旧小区改造",
        comm.geometry.iloc[0],
        new_development=False,
        renovation=True,
        old_estate=True,
    )
    b = d.buildings[d.buildings["community_id"] == cid].copy()
    b["households"] = d.households_true[b.index].astype(float)
    b.loc[b["use"] != "residential", "households"] = 0.0
    area = b.geometry.area * b["floors"]
    b["name"] = [f"{k + 1}号楼" for k in range(len(b))]
    b["residents"] = (b["households"] * PERSONS).round()
    for col, use in (
        ("residential_m2", "residential"),
        ("commercial_m2", "commercial"),
        ("service_m2", "service"),
        ("public_m2", "public"),
    ):
        b[col] = area.where(b["use"] == use, 0.0).round(1)
    b["other_m2"] = 0.0
    fac = d.facilities[d.facilities["community_id"] == cid]
    centres = fac[fac["category"] == "community_service_centre"]
    # the rooms of today sit in the ground floor of the first residential building
    host = b.index[b["use"] == "residential"][0]
    before_rooms = gpd.GeoDataFrame(
        {
            "name": centres["name"].to_numpy(),
            "kind": "community_service",
            "floor_area_m2": centres["floor_area_m2"].to_numpy(),
            "activity_area_m2": (centres["floor_area_m2"] * 0.5).round(1).to_numpy(),
        },
        geometry=list(centres.geometry),
        crs=CRS,
        index=pd.Index([f"R{k + 1}" for k in range(len(centres))], name="room_id"),
    )
    today = float(before_rooms["floor_area_m2"].sum())
    b_before = b[
        [
            "name",
            "use",
            "floors",
            "households",
            "residents",
            "residential_m2",
            "commercial_m2",
            "service_m2",
            "public_m2",
            "other_m2",
            "geometry",
        ]
    ].copy()
    b_before.loc[host, "service_m2"] = today
    b_before.loc[host, "residential_m2"] -= today
    hh = float(b["households"].sum())
    # after: rooms enlarged to 36 m2 per 100 households, 65% for residents' activities,
    # an elderly-care station and a wet market in an idle boiler house (purchased)
    after_area = round(hh * 0.36, 0)
    after_rooms = before_rooms.copy()
    after_rooms["floor_area_m2"] = (before_rooms["floor_area_m2"] / today * after_area).round(1)
    after_rooms["activity_area_m2"] = (after_rooms["floor_area_m2"] * 0.65).round(1)
    centre = comm.geometry.iloc[0].representative_point()
    elderly = gpd.GeoDataFrame(
        {
            "name": ["风荷社区养老服务站"],
            "kind": ["elderly_care"],
            "floor_area_m2": [round(hh * 0.25)],
            "activity_area_m2": [round(hh * 0.18)],
        },
        geometry=[centre],
        crs=CRS,
        index=pd.Index(["R9"], name="room_id"),
    )
    after_rooms = pd.concat([after_rooms, elderly])
    b_after = b_before.copy()
    extra = float(after_rooms["floor_area_m2"].sum()) - today
    b_after.loc[host, "service_m2"] = today + extra
    b_after.loc[host, "residential_m2"] -= extra
    facilities = gpd.GeoDataFrame(
        {"name": ["风荷便民菜市场"], "category": ["wet_market"]},
        geometry=[shapely.Point(centre.x + 40, centre.y)],
        crs=CRS,
        index=pd.Index(["P1"], name="facility_id"),
    )
    return _write(
        folder / "renovation.gpkg",
        {
            "site": site,
            "existing_buildings": b_before.rename_axis("building_id"),
            "existing_service_rooms": before_rooms,
            "buildings": b_after.rename_axis("building_id"),
            "service_rooms": after_rooms,
            "facilities": facilities,
        },
    )


def make_template(folder: Path) -> Path:
    """Every layer and column of the plan format with one example row each."""
    cx, cy = 517290.0, 4329890.0
    site = _site(
        "DEV-001", "示例地块 example site", shapely.box(cx - 60, cy - 60, cx + 60, cy + 60)
    )
    buildings = _gdf(
        [
            _residential("B1", "1号楼", _tower(cx, cy + 30), 18, 120),
            _nonres(
                "B2",
                "配套用房",
                "service",
                shapely.box(cx - 20, cy - 40, cx + 20, cy - 10),
                2,
                commercial=900.0,
                service=300.0,
            ),
        ],
        "building_id",
    )
    rooms = _points(
        [("R1", "社区服务用房", "community_service", 120.0, 80.0, 0, -25)],
        "room_id",
        cx,
        cy,
        ["name", "kind", "floor_area_m2", "activity_area_m2"],
    )
    commercial = _points(
        [("S1", "便利店", "convenience_store", 100.0, 10, -25)],
        "commercial_id",
        cx,
        cy,
        ["name", "category", "floor_area_m2"],
    )
    facilities = _points(
        [("P1", "菜市场", "wet_market", -10, -25)], "facility_id", cx, cy, ["name", "category"]
    )
    return _write(
        folder / "template.gpkg",
        {
            "site": site,
            "buildings": buildings,
            "service_rooms": rooms,
            "commercial": commercial,
            "facilities": facilities,
        },
    )


def main(folder: Path = HERE) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_context(folder),
        make_template(folder),
        make_pass(folder),
        make_fail(folder),
        make_renovation(folder),
    ]


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for path in main(out):
        print(path, f"{path.stat().st_size / 1024:.0f} KB")
