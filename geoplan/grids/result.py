"""What a grid is: the record of one grid built while cutting, the reason a grid
falls outside its range, and :class:`GridResult` holding the grids of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["GridResult", "explain_grid", "grid_record"]


@dataclass(frozen=True, eq=False)
class GridResult:
    """Grids of one or more communities.

    Attributes
    ----------
    grids
        GeoDataFrame indexed by ``grid_code``: ``community_id``, ``households``,
        ``n_buildings``, ``target_id`` (the profile target whose range applies),
        ``low``, ``high``, ``in_range`` (households within ``[low, high]``),
        ``exempt`` (a commercial building, market or venue forming its own
        grid), ``crosses_road`` (its buildings lie on both sides of a major
        road), ``reason`` (why the grid is outside the range, or why exempt;
        None when in range) and the polygon.
    membership
        The grid code of each building, aligned to the buildings' index (None
        for buildings in no community).
    summary
        Plain JSON values: counts of grids, in range, out of range, exempt,
        crossing a road, buildings outside every community.
    profile
        Name of the profile the ranges come from.
    """

    grids: gpd.GeoDataFrame
    membership: pd.Series
    summary: dict[str, Any]
    profile: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> pd.DataFrame:
        """Grids outside their range (exempt ones left out), with the reason."""
        g = self.grids
        bad = ~g["in_range"] & ~g["exempt"]
        return pd.DataFrame(g.loc[bad, ["community_id", "households", "low", "high", "reason"]])

    @property
    def passed(self) -> bool:
        """True when every grid is within its range or exempt."""
        return self.problems.empty

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: summary and one entry per grid (no geometry).

        Examples
        --------
        >>> from shapely import box
        >>> from geoplan.grids import delineate_grids
        >>> comm = gpd.GeoDataFrame({"district_code": ["120104"]},
        ...     geometry=[box(0, 0, 100, 100)], index=["120104001001"], crs=32650)
        >>> b = gpd.GeoDataFrame({"households": [120.0]}, geometry=[box(40, 40, 60, 60)],
        ...     crs=32650)
        >>> d = delineate_grids(b, comm, profile="ningxia-2025").to_dict()
        >>> d["grids"][0]["reason"]
        'community has only 120 households (fewer than 300)'
        """
        rows = []
        for code, r in self.grids.drop(columns=self.grids.geometry.name).iterrows():
            rows.append(
                {
                    "grid_code": str(code),
                    "community_id": str(r["community_id"]),
                    "households": float(r["households"]),
                    "n_buildings": int(r["n_buildings"]),
                    "target_id": str(r["target_id"]),
                    "low": float(r["low"]),
                    "high": float(r["high"]),
                    "in_range": bool(r["in_range"]),
                    "exempt": bool(r["exempt"]),
                    "crosses_road": bool(r["crosses_road"]),
                    "reason": None if pd.isna(r["reason"]) else str(r["reason"]),
                }
            )
        return {
            "profile": self.profile,
            "passed": self.passed,
            "summary": dict(self.summary),
            "parameters": dict(self.parameters),
            "grids": rows,
        }


def grid_record(
    h: np.ndarray,
    lo: float,
    hi: float,
    target: str,
    *,
    exempt: bool,
    crosses: bool,
    reason: str | None,
) -> dict[str, Any]:
    total = float(h.sum())
    return {
        "households": total,
        "n_buildings": int(h.size),
        "target_id": target,
        "low": lo,
        "high": hi,
        "in_range": bool(lo <= total <= hi),
        "exempt": exempt,
        "crosses_road": bool(crosses),
        "reason": reason,
        "max_building": float(h.max()),
        "geometry": None,
    }


def explain_grid(r: dict[str, Any], comm_total: dict[str, float], cid: str) -> None:
    """Fill ``reason`` for out-of-range grids; drop helper keys."""
    big = r.pop("max_building")
    area_total = r.pop("area_total", None)
    if r["exempt"] or r["in_range"]:
        return
    s, lo, hi = r["households"], r["low"], r["high"]
    t = r["target_id"]
    if s == 0:
        r["reason"] = "no households: non-residential buildings only"
    elif s > hi and r["n_buildings"] == 1:
        r["reason"] = f"one building of {_fmt(s)} households (more than {_fmt(hi)})"
    elif s > hi and big > hi:
        r["reason"] = (
            f"holds a building of {_fmt(big)} households (more than {_fmt(hi)}) "
            "and buildings next to it"
        )
    elif s < lo and comm_total.get(t, 0.0) < lo:
        r["reason"] = (
            f"community has only {_fmt(comm_total.get(t, 0.0))} households (fewer than {_fmt(lo)})"
        )
    elif s < lo and area_total is not None and area_total < lo:
        r["reason"] = (
            f"area enclosed by major roads and the community boundary has only "
            f"{_fmt(area_total)} households and no neighbouring area to join "
            f"(fewer than {_fmt(lo)})"
        )
    else:
        tot = _fmt(area_total) if area_total is not None else "its"
        r["reason"] = (
            f"the buildings of this area ({tot} households) cannot be cut into "
            f"grids of {_fmt(lo)}-{_fmt(hi)} households without splitting a building"
        )


def _fmt(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.1f}"
