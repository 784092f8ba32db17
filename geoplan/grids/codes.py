"""Unified grid codes: the 12-digit statistical code of each community (given,
or built from its 6-digit district code) and ``<community code>-<sequence>``."""

from __future__ import annotations

import re

import geopandas as gpd
import pandas as pd

from geoplan._errors import InputError

__all__ = ["community_codes", "grid_code"]

_CODE_RE = re.compile(r"^\d{12}$")
_DISTRICT_RE = re.compile(r"^\d{6}$")


def grid_code(community_code: str, sequence: int, *, width: int = 3) -> str:
    """The unified grid code: community code, a hyphen, a zero-padded sequence.

    Examples
    --------
    >>> grid_code("120104001001", 7)
    '120104001001-007'
    """
    return f"{community_code}-{sequence:0{width}d}"


def community_codes(communities: gpd.GeoDataFrame, code_col: str | None) -> pd.Series:
    if code_col is not None:
        if code_col not in communities.columns:
            raise InputError(f"communities have no {code_col!r} column", column=code_col)
        codes = communities[code_col].astype("string")
        bad = ~codes.fillna("").str.fullmatch(r"\d{12}")
        if bad.any():
            raise InputError(
                "community code must have 12 digits", row=codes.index[bad][0], column=code_col
            )
        return pd.Series(codes.to_numpy(dtype=object), index=communities.index, dtype=object)
    ids = [str(i) for i in communities.index]
    if all(_CODE_RE.match(i) for i in ids):
        return pd.Series(ids, index=communities.index, dtype=object)
    if "district_code" not in communities.columns:
        raise InputError(
            "communities need 12-digit codes as index, a code column, or a district_code column",
            column="district_code",
        )
    out = []
    for k, (cid, dc) in enumerate(
        zip(communities.index, communities["district_code"], strict=True)
    ):
        dcs = str(dc)
        if not _DISTRICT_RE.match(dcs):
            raise InputError("district_code must have 6 digits", row=cid, column="district_code")
        # street unknown: '000', then the community's position (1-based)
        out.append(f"{dcs}000{k + 1:03d}")
    return pd.Series(out, index=communities.index, dtype=object)
