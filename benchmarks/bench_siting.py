"""Benchmark: greedy siting at city scale, and greedy vs exact on a small case.

Builds a coverage matrix of realistic density without a street network (the
walking reach engine costs are measured in its own benchmark): demand points and
candidate sites scattered over a square city, a candidate covering the demand
within a walking radius. Prints the greedy time for set cover (95% target) and
max cover, and the greedy/exact ratio on small cases.

Run: ``python -m benchmarks.bench_siting`` (``--small`` for a quick run).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import scipy.sparse as sp
from scipy.spatial import cKDTree

from geoplan.siting import max_cover, set_cover


def coverage_matrix(
    n_demand: int, n_cand: int, width_m: float, radius_m: float, seed: int
) -> tuple[sp.csr_matrix, np.ndarray]:
    """Random-geometric coverage: candidates x demand within ``radius_m`` (clustered demand)."""
    rng = np.random.default_rng(seed)
    # households cluster around centres (denser in the middle of the city)
    centres = rng.uniform(0, width_m, size=(max(n_demand // 400, 1), 2))
    pick = rng.integers(0, centres.shape[0], n_demand)
    demand = np.clip(centres[pick] + rng.normal(0, width_m / 30, size=(n_demand, 2)), 0, width_m)
    cands = rng.uniform(0, width_m, size=(n_cand, 2))
    tree = cKDTree(demand)
    rows = tree.query_ball_point(cands, r=radius_m)
    lengths = np.fromiter((len(r) for r in rows), dtype=np.int64, count=n_cand)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows])
    cov = sp.csr_matrix(
        (np.ones(indices.size, dtype=bool), indices, indptr), shape=(n_cand, n_demand)
    )
    weights = rng.integers(20, 200, n_demand).astype(float)
    return cov, weights


def main(argv: list[str] | None = None) -> None:
    """Print the siting figures (see the module docstring)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--small", action="store_true", help="a quick run (1/10 size)")
    ap.add_argument(
        "--city",
        default=None,
        help="also site on a synthetic street city of this size (benchmarks/"
        "synthetic_city.py SIZES: tiny, 100k, 1m) through the reach engine",
    )
    args = ap.parse_args(argv)
    if args.city:
        network_case(args.city)
    scale = 10 if args.small else 1
    n_d, n_c, width, radius = 200_000 // scale, 20_000 // scale, 30_000.0 / np.sqrt(scale), 800.0
    t0 = time.perf_counter()
    cov, w = coverage_matrix(n_d, n_c, width, radius, seed=1)
    t1 = time.perf_counter()
    print(
        f"coverage matrix: {n_c:,} candidates x {n_d:,} demand, {cov.nnz:,} entries "
        f"({cov.nnz / n_c:.0f} per candidate), built in {t1 - t0:.1f} s"
    )
    rng = np.random.default_rng(2)
    pre = rng.random(n_d) < 0.5  # half the households already covered
    for target in (0.9, 0.95):
        t = time.perf_counter()
        r = set_cover(cov, w, target_share=target, already_covered=pre, method="greedy")
        dt = time.perf_counter() - t
        print(
            f"greedy set cover to {target:.0%}: {r.n_sites} sites, coverage "
            f"{r.coverage_before:.1%} -> {r.coverage_after:.1%}, lower bound "
            f"{r.bound:.0f} sites, {dt:.2f} s"
        )
    t = time.perf_counter()
    r = max_cover(cov, w, k=200, already_covered=pre, method="greedy")
    dt = time.perf_counter() - t
    print(
        f"greedy max cover k=200: +{sum(r.added_households):,.0f} households, upper bound "
        f"+{r.bound:,.0f} (gap {r.gap:.2%}), {dt:.2f} s"
    )
    print("small cases (greedy vs exact, 2,000 demand x 300 candidates, 4 km city):")
    ratios_sc, ratios_mc, t_ex = [], [], 0.0
    for seed in range(5):
        c_s, w_s = coverage_matrix(2_000, 300, 4_000.0, 500.0, seed=100 + seed)
        g = set_cover(c_s, w_s, target_share=0.95, method="greedy")
        t = time.perf_counter()
        e = set_cover(c_s, w_s, target_share=0.95, method="exact")
        t_ex += time.perf_counter() - t
        ratios_sc.append(g.n_sites / e.n_sites)
        gm = max_cover(c_s, w_s, k=10, method="greedy")
        t = time.perf_counter()
        em = max_cover(c_s, w_s, k=10, method="exact")
        t_ex += time.perf_counter() - t
        ratios_mc.append(gm.households_covered_after / em.households_covered_after)
        print(
            f"  seed {seed}: set cover greedy {g.n_sites} / exact {e.n_sites} sites; "
            f"max cover k=10 greedy/exact {ratios_mc[-1]:.4f}"
        )
    print(
        f"  set cover sites greedy/exact: mean {np.mean(ratios_sc):.3f}, max "
        f"{np.max(ratios_sc):.3f}; max cover households greedy/exact: mean "
        f"{np.mean(ratios_mc):.4f}, min {np.min(ratios_mc):.4f}; exact solver "
        f"{t_ex:.1f} s in all"
    )


def network_case(size: str) -> None:
    """End to end on a synthetic street city: coverage matrix by the reach engine, then greedy."""
    from benchmarks.synthetic_city import synthetic_city
    from geoplan.profiles import load_profile
    from geoplan.siting import candidates_from_network, coverage_threshold, suggest_sites

    t = time.perf_counter()
    city = synthetic_city(size, seed=0)
    net = city.network
    print(
        f"synthetic city {size}: {net.n_nodes:,} nodes, {len(city.buildings):,} buildings, "
        f"built in {time.perf_counter() - t:.1f} s"
    )
    profile = load_profile("tianjin-2025")
    limit_m, share, _ = coverage_threshold(profile, category="wet_market")
    spacing = 4 * city.spacing_m  # thin junctions to about one per block of 4 x 4 streets
    cands = candidates_from_network(net, spacing_m=spacing)
    rng = np.random.default_rng(0)
    buildings = city.buildings.assign(
        households=rng.integers(20, 200, len(city.buildings)).astype(float)
    )
    # the scarcest category of the city, sited to the wet-market target's limit and share
    category = str(city.facilities["category"].value_counts().index[-1])
    t = time.perf_counter()
    r = suggest_sites(
        net,
        buildings,
        city.facilities,
        cands,
        category=category,
        profile=profile,
        limit_m=limit_m,
        target_share=share,
        method="greedy",
    )
    print(
        f"  {category} within {limit_m:.0f} m, target {share:.0%}: {len(cands):,} candidates, "
        f"coverage {r.coverage_before:.1%} -> {r.coverage_after:.1%} with {r.n_sites} sites, "
        f"{time.perf_counter() - t:.1f} s (snapping, reach matrix and greedy)"
    )


if __name__ == "__main__":
    main()
