"""Checks of the reach functions' arguments, shared by the modules of :mod:`geoplan.reach`.

The limit, the facilities' category column, and the warning naming facilities
too far from the network to be reached. Private to the package.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import DataQualityWarning, InputError
from geoplan.network import Snapped

__all__ = ["categories", "check_limit", "warn_unreachable"]


def check_limit(limit_m: float) -> None:
    """Raise :class:`InputError` unless ``limit_m`` is finite and >= 0."""
    if not (np.isfinite(limit_m) and limit_m >= 0):
        raise InputError("limit_m must be a finite number >= 0", column="limit_m")


def categories(facilities: gpd.GeoDataFrame, category_col: str) -> pd.Series:
    """The category column as strings (missing values kept missing)."""
    if category_col not in facilities.columns:
        raise InputError(f"facilities have no {category_col!r} column", column=category_col)
    cat = facilities[category_col]
    return cat.where(cat.isna(), cat.astype(str))


def warn_unreachable(s: Snapped, what: str, max_snap_m: float) -> None:
    """Warn, naming up to five, of the points of ``s`` left out as unreachable.

    ``stacklevel`` points at the caller of the public reach function that calls this.
    """
    bad = ~s.reachable
    if bad.any():
        ids = ", ".join(str(i) for i in s.index[bad][:5])
        more = " ..." if bad.sum() > 5 else ""
        warnings.warn(
            f"{int(bad.sum())} {what} farther than max_snap_m={max_snap_m} m from the walk "
            f"network are left out: {ids}{more}",
            DataQualityWarning,
            stacklevel=3,
        )
