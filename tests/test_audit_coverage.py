"""Coverage audit on the sample district: shares, scopes, monotonicity, independent checks."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import Point

from geoplan._errors import DataQualityWarning, InputError
from geoplan.audit.coverage import audit_coverage
from geoplan.households import estimate_households
from geoplan.network import network_from_lines
from geoplan.profiles import load_profile
from geoplan.sample import make_sample_district


@pytest.fixture(scope="module")
def district():  # type: ignore[no-untyped-def]
    d = make_sample_district(seed=0)
    net = network_from_lines(d.streets)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        b = estimate_households(d.buildings, params=load_profile("tianjin-2025"))
    return d, net, b


def _run(district, **kw):  # type: ignore[no-untyped-def]
    d, net, b = district
    kw.setdefault("profile", "tianjin-2025")
    kw.setdefault("communities", d.communities)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataQualityWarning)
        return audit_coverage(kw.pop("buildings", b), kw.pop("facilities", d.facilities), net, **kw)


def test_table_aligned_and_summary_recomputed(district) -> None:  # type: ignore[no-untyped-def]
    d, _, b = district
    r = _run(district, compounds=d.compounds, gates=d.gates)
    assert r.table.index.equals(b.index)
    t = r.table
    target = load_profile("tianjin-2025").target("wet_market_coverage")
    speed = load_profile("tianjin-2025").parameter("walk_speed_m_per_min")
    limit = target.within_min * speed if target.within_min else target.within_m
    central_ids = set(d.communities.index[d.communities["central_district"]])
    central = t["community_id"].isin(central_ids).to_numpy()
    ok = t["walk_m__wet_market"].to_numpy() <= limit
    hh = t["households"].to_numpy()
    expected = hh[central & ok].sum() / hh[central].sum()
    got = r.summary["targets"]["wet_market_coverage"]["households_share"]
    assert got == pytest.approx(expected, abs=1e-6)
    row = r.findings[
        (r.findings.check_id == "wet_market_coverage") & (r.findings.scope == "district")
    ]
    assert row["value"].iloc[0] == pytest.approx(expected, abs=1e-9)
    assert bool(row["passed"].iloc[0]) == (expected >= target.threshold)


def test_walk_minutes_follow_profile_speed(district) -> None:  # type: ignore[no-untyped-def]
    r = _run(district)
    t = r.table
    speed = r.summary["walk_speed_m_per_min"]
    finite = np.isfinite(t["walk_m__pharmacy"])
    assert np.allclose(
        t.loc[finite, "walk_min__pharmacy"], t.loc[finite, "walk_m__pharmacy"] / speed
    )


def test_elderly_speed_never_covers_more(district) -> None:  # type: ignore[no-untyped-def]
    normal = _run(district, profile="mofcom-15min")
    slow = _run(district, profile="mofcom-15min", elderly=True)
    for tid, s in normal.summary["targets"].items():
        assert slow.summary["targets"][tid]["households_share"] <= s["households_share"] + 1e-12


def test_adding_a_facility_never_reduces_coverage(district) -> None:  # type: ignore[no-untyped-def]
    d, _, b = district
    base = _run(district)
    worst = base.table["walk_m__wet_market"].idxmax()
    extra = d.facilities.iloc[:1].copy()
    extra.index = ["NEW"]
    extra["category"] = "wet_market"
    extra["community_id"] = None
    extra.geometry = [b.loc[worst].geometry.centroid]
    more = _run(
        district,
        facilities=gpd.GeoDataFrame(
            __import__("pandas").concat([d.facilities, extra]), crs=d.facilities.crs
        ),
    )
    a = base.summary["targets"]["wet_market_coverage"]["households_share"]
    c = more.summary["targets"]["wet_market_coverage"]["households_share"]
    assert c >= a
    assert (more.table["walk_m__wet_market"] <= base.table["walk_m__wet_market"] + 1e-9).all()


def test_no_wet_market_means_zero_coverage_and_failure(district) -> None:  # type: ignore[no-untyped-def]
    d, _, _ = district
    r = _run(district, facilities=d.facilities[d.facilities.category != "wet_market"])
    assert r.summary["targets"]["wet_market_coverage"]["households_share"] == 0.0
    assert not r.passed
    assert np.isinf(r.table["walk_m__wet_market"]).all()


def test_life_circle_completeness_needs_every_basic_category(district) -> None:  # type: ignore[no-untyped-def]
    r = _run(district, profile="mofcom-15min")
    t = r.table
    from geoplan.categories import categories_in_group

    cats = categories_in_group("basic")
    limit = load_profile("mofcom-15min").target("basic_within_10min").threshold
    every = np.all([t[f"walk_min__{c}"].to_numpy() <= limit for c in cats], axis=0)
    assert (t["basic_within_10min__pass"].to_numpy() == every).all()
    # completeness is never higher than any single category's coverage
    share = r.summary["targets"]["basic_within_10min"]["households_share"]
    for c in cats:
        single = t["households"][t[f"walk_min__{c}"] <= limit].sum() / t["households"].sum()
        assert share <= single + 1e-12


def test_distances_match_networkx_on_node_sited_points(district) -> None:  # type: ignore[no-untyped-def]
    """Buildings and facilities placed exactly on network nodes: plain networkx agrees."""
    _, net, _ = district
    G = nx.Graph()
    for u, v, w in zip(net.u, net.v, net.length_m, strict=True):
        if not G.has_edge(u, v) or G[u][v]["w"] > w:
            G.add_edge(int(u), int(v), w=float(w))
    rng = np.random.default_rng(1)
    nodes = rng.choice(net.n_nodes, size=60, replace=False)
    fac_nodes, home_nodes = nodes[:5], nodes[5:]
    crs = net.crs
    homes = gpd.GeoDataFrame(
        {"households": 100.0},
        geometry=[Point(net.x[n], net.y[n]) for n in home_nodes],
        index=[f"b{i}" for i in range(len(home_nodes))],
        crs=crs,
    )
    fac = gpd.GeoDataFrame(
        {"category": "wet_market"},
        geometry=[Point(net.x[n], net.y[n]) for n in fac_nodes],
        index=[f"f{i}" for i in range(len(fac_nodes))],
        crs=crs,
    )
    r = _run(district, buildings=homes, facilities=fac, communities=None)
    ref = nx.multi_source_dijkstra_path_length(G, {int(n) for n in fac_nodes}, weight="w")
    limit = r.parameters["search_limit_m"]
    for i, n in enumerate(home_nodes):
        want = ref.get(int(n), np.inf)
        want = want if want <= limit else np.inf
        got = r.table.loc[f"b{i}", "walk_m__wet_market"]
        assert got == pytest.approx(want, abs=1e-6) or (np.isinf(got) and np.isinf(want))


def test_crs_mismatch_is_an_error(district) -> None:  # type: ignore[no-untyped-def]
    d, net, b = district
    with pytest.raises(InputError, match="CRS"):
        audit_coverage(b.to_crs(4326), d.facilities, net, profile="tianjin-2025")


def test_per_community_table(district) -> None:  # type: ignore[no-untyped-def]
    d, _, _ = district
    r = _run(district)
    comm = r.extra["communities"]
    assert comm.index.equals(d.communities.index)
    assert ((comm["share__wet_market"] >= 0) & (comm["share__wet_market"] <= 1)).all()


def test_missing_households_are_estimated_and_flagged(district) -> None:  # type: ignore[no-untyped-def]
    """Raw buildings (some households missing) give the same audit as pre-estimated
    ones, with the estimated buildings flagged: the library agrees with the CLI."""
    d, _, b = district
    missing = d.buildings["households"].isna()
    assert missing.any()
    raw = _run(district, buildings=d.buildings)
    pre = _run(district)
    assert raw.summary["targets"] == pre.summary["targets"]
    assert raw.summary["households"] == pytest.approx(pre.summary["households"])
    flagged = raw.table["households_estimated"].fillna(False).astype(bool)
    assert flagged[missing & b["households"].notna()].all()
    assert not flagged[~missing].any()
    assert raw.summary["households_estimated_buildings"] == int(flagged.sum()) > 0
    assert d.buildings["households"].isna().equals(missing)  # the input is not changed


# --------------------------------------------------------------------------- findings oracle
# The per-community findings are built by column (issue 12). The row-by-row code they
# replaced is kept here, as it was, as the reference they must equal exactly: rows,
# order, columns, dtypes, values and texts.


def _ref_target_findings(t, ok, hh, comm_id, communities, scope_mask, share, uncovered):  # type: ignore[no-untyped-def]
    import math

    import pandas as pd

    if t.measure == "coverage_share":
        need = float(t.threshold)
        threshold_text = t.threshold
        unit = t.unit
    else:
        need = 1.0
        unit_text = "m" if t.measure == "walk_distance" else "min"
        threshold_text = f"{t.comparator} {float(t.threshold):g} {unit_text}"
        unit = "share of households"
    base = {
        "check_id": t.id,
        "comparator": ">=",
        "unit": unit,
        "threshold": threshold_text,
        "source": t.source,
        "clause": t.clause,
        "confirmed": bool(t.confirmed),
        "description_zh": t.description_zh,
        "description_en": t.description_en,
        "shortfall_m2": np.nan,
    }
    rows = []
    area = "central_district" if t.scope == "central_district" else "all"
    if math.isnan(share) and not scope_mask.any():
        pass
    elif math.isnan(share):
        rows.append(
            {
                **base,
                "entity_id": area,
                "entity_name": area,
                "scope": "district",
                "value": np.nan,
                "passed": None,
                "shortfall": np.nan,
                "households_uncovered": 0.0,
                "text_zh": "未测：范围内的建筑都没有户数",
                "text_en": "not measured: no building in scope has households",
            }
        )
    else:
        rows.append(
            {
                **base,
                "entity_id": area,
                "entity_name": area,
                "scope": "district",
                "value": share,
                "passed": share >= need,
                "shortfall": max(0.0, need - share),
                "households_uncovered": uncovered,
            }
        )
    if communities is not None:
        names = communities["name"] if "name" in communities.columns else None
        frame = pd.DataFrame({"cid": comm_id, "ok": ok, "hh": hh, "in": scope_mask})
        frame = frame[frame["in"] & frame["cid"].notna()]
        for cid, grp in frame.groupby("cid", sort=True):
            total = grp["hh"].sum()
            if total <= 0:
                continue
            s = float(grp.loc[grp["ok"], "hh"].sum() / total)
            name = str(names.get(cid, cid)) if names is not None else str(cid)
            rows.append(
                {
                    **base,
                    "entity_id": str(cid),
                    "entity_name": name,
                    "scope": "community",
                    "value": s,
                    "passed": s >= need,
                    "shortfall": max(0.0, need - s),
                    "households_uncovered": float(grp.loc[~grp["ok"], "hh"].sum()),
                }
            )
    return rows


def _ref_lacking(bad, comm_id, scope_mask):  # type: ignore[no-untyped-def]
    import pandas as pd

    frame = pd.DataFrame({c: b for c, b in bad.items()})
    frame["cid"] = comm_id
    frame = frame[scope_mask & pd.notna(comm_id)]
    if frame.empty:
        return {}
    anyb = frame.groupby("cid", sort=True)[list(bad)].any()
    return {str(cid): [c for c in bad if bool(row[c])] for cid, row in anyb.iterrows()}


def _ref_with_missing(rows, absent, bad, scope_mask, by_community, limit_m):  # type: ignore[no-untyped-def]
    from geoplan.categories import load_categories

    cats = load_categories()

    def zh(c):  # type: ignore[no-untyped-def]
        return f"{c}（{cats[c].zh}）" if c in cats else c

    district = [c for c, b in bad.items() if bool((b & scope_mask).any())]
    for row in rows:
        miss = district if row["scope"] == "district" else by_community.get(row["entity_id"], [])
        gone = [c for c in miss if c in absent]
        far = [c for c in miss if c not in absent]
        zh_parts = ["设施中没有 " + "、".join(zh(c) for c in gone)] if gone else []
        en_parts = ["no " + ", ".join(gone) + " among the facilities"] if gone else []
        if far:
            zh_parts.append(f"部分住户 {limit_m:,.0f} 米内到不了：" + "、".join(zh(c) for c in far))
            en_parts.append(f"some households have none within {limit_m:,.0f} m: " + ", ".join(far))
        row["missing_categories"] = ", ".join(miss)
        row["absent_categories"] = ", ".join(gone)
        row["missing_zh"] = "；".join(zh_parts)
        row["missing_en"] = "; ".join(en_parts)
    return rows


def _ref_with_text(findings):  # type: ignore[no-untyped-def]
    """The row-by-row text filling (``results.with_text`` before issue 12)."""
    import pandas as pd

    from geoplan.audit.facts import fact_text
    from geoplan.audit.facts import isnan as _isnan

    f = findings.copy()
    for col in ("text_zh", "text_en"):
        if col not in f.columns:
            f[col] = pd.Series([None] * len(f), index=f.index, dtype=object)
    if len(f) == 0:
        return f
    todo = f["text_zh"].isna() | f["text_en"].isna()
    for i in f.index[todo.to_numpy()]:
        row = {k: (None if _isnan(v) else v) for k, v in f.loc[i].to_dict().items()}
        f.at[i, "text_zh"] = fact_text(row, lang="zh")
        f.at[i, "text_en"] = fact_text(row, lang="en")
    return f


def _reference(r, buildings, communities, profile):  # type: ignore[no-untyped-def]
    """The findings (and the lacking categories) the row-by-row code gives for result r."""
    import pandas as pd

    from geoplan.audit.coverage import _community_of, coverage_targets, in_scope

    prof = load_profile(profile)
    t_all = r.table
    hh = t_all["households"].to_numpy(float)
    comm_id = _community_of(buildings, communities)
    rows, lacking = [], {}
    for t in coverage_targets(prof):
        info = r.summary["targets"][t.id]
        limit = float(t.walk_limit_m(prof, elderly=False))
        ok = t_all[f"{t.id}__pass"].to_numpy(bool)
        scope_mask = in_scope(buildings, communities, t.scope)
        w = hh[scope_mask]
        share = float(w[ok[scope_mask]].sum()) / float(w.sum()) if w.sum() > 0 else np.nan
        uncovered = float(hh[scope_mask & ~ok].sum())
        bad = {c: t_all[f"walk_m__{c}"].to_numpy(float) > limit for c in info["categories"]}
        lacking[t.id] = _ref_lacking(bad, comm_id, scope_mask)
        found = _ref_target_findings(t, ok, hh, comm_id, communities, scope_mask, share, uncovered)
        rows += _ref_with_missing(
            found, info["absent_categories"], bad, scope_mask, lacking[t.id], limit
        )
    findings = pd.DataFrame(rows)
    if "text_zh" not in findings.columns or bool(findings["text_zh"].isna().any()):
        findings = _ref_with_text(findings)
    return findings, lacking


def _case(district, name):  # type: ignore[no-untyped-def]
    """(buildings, communities, profile) of one findings case on the sample district."""
    d, _, b = district
    comm = d.communities
    if name == "fractional":  # households that do not sum exactly: summed group by group
        b = b.assign(households=b["households"] * 1.37 + 0.01)
        return b, comm, "gb50180-2018"
    if name == "no_names":
        return b, comm.drop(columns=["name"]), "tianjin-2025"
    if name == "no_households_in_centre":  # central share not measurable, communities skipped
        central = set(comm.index[comm["central_district"]])
        zero = b["community_id"].isin(central).to_numpy()
        return b.assign(households=np.where(zero, 0.0, b["households"])), comm, "tianjin-2025"
    if name == "no_centre":  # central-district targets apply nowhere
        return b, comm.assign(central_district=False), "tianjin-2025"
    if name == "spatial_join":  # communities found by position
        return b.drop(columns=["community_id"]), comm, "mofcom-15min"
    if name == "no_communities":
        return b, None, "mofcom-15min"
    if name == "integer_ids":
        codes = {c: i for i, c in enumerate(sorted(comm.index))}
        comm = comm.rename(index=codes)
        return b.assign(community_id=b["community_id"].map(codes)), comm, "gb50180-2018"
    return b, comm, name  # a profile as it is


@pytest.mark.parametrize(
    "case",
    [
        "tianjin-2025",
        "mofcom-15min",
        "gb50180-2018",
        "fractional",
        "no_names",
        "no_households_in_centre",
        "no_centre",
        "spatial_join",
        "no_communities",
        "integer_ids",
    ],
)
def test_findings_equal_the_row_by_row_reference(district, case) -> None:  # type: ignore[no-untyped-def]
    import pandas as pd

    buildings, communities, profile = _case(district, case)
    r = _run(district, buildings=buildings, communities=communities, profile=profile)
    want, lacking = _reference(r, buildings, communities, profile)
    got = r.findings
    assert list(got.columns) == list(want.columns)
    assert got.dtypes.equals(want.dtypes)
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    for c in got.columns:  # the very values: Python bool, not numpy's; same float bits
        assert [(type(v), repr(v)) for v in got[c]] == [(type(v), repr(v)) for v in want[c]], c
    if communities is not None:
        comm = r.extra["communities"]
        for tid, per in lacking.items():
            expected = [", ".join(per.get(c, [])) for c in comm.index.astype(str)]
            assert comm[f"{tid}__lacking"].tolist() == expected


def test_group_sums_are_pandas_sums_to_the_bit() -> None:
    import pandas as pd

    from geoplan.audit._community_findings import group_sums as _group_sums

    rng = np.random.default_rng(3)
    for n, groups in [(5000, 400), (3000, 3), (200, 150)]:
        codes = rng.integers(0, groups, n)
        for values in (rng.random(n) * 90, rng.integers(0, 300, n).astype(float)):
            frame = pd.DataFrame({"c": codes, "v": values})
            sums = frame.groupby("c", sort=True)["v"]
            want = np.zeros(groups)
            for c, grp in sums:
                want[c] = grp.sum()
            got = _group_sums(values, codes, groups)
            assert got.tobytes() == want.tobytes()


def test_fact_texts_in_bulk_equal_fact_text() -> None:
    import itertools

    from geoplan.audit.facts import _fact_texts, fact_text

    rows = [
        {
            "value": v,
            "threshold": thr,
            "unit": unit,
            "comparator": ">=",
            "passed": passed,
            "households_uncovered": lost,
            "shortfall": gap,
            **extra,
        }
        for v, thr, unit, passed, lost, gap, extra in itertools.product(
            [None, 0.0, 0.2961, 1.0, float("inf"), 24.0, 3],
            [0.95, "<= 5 min", ">= 300 m", [0.3, 0.5], None],
            ["share of households", "share", "m2/100 households", "flag"],
            [True, False, None],
            [None, 0.0, 1234.0, float("inf")],
            [None, 0.0, 0.0587],
            [
                {},
                {"have": 480.0, "base": 2000.0},
                {"shortfall_m2": 120.0},
                {"have_unit": "persons"},
            ],
        )
    ]
    keys = ["value", "threshold", "unit", "comparator", "passed", "households_uncovered"]
    keys += ["shortfall", "have", "base", "shortfall_m2", "have_unit"]
    columns = {k: [row.get(k) for row in rows] for k in keys}
    zh, en = _fact_texts(columns, len(rows))
    assert zh == [fact_text(row, lang="zh") for row in rows]
    assert en == [fact_text(row, lang="en") for row in rows]
