"""The units targets are stated in, as a number is followed by them in zh and en.

Profiles state units in plain ASCII (``m2/100 households``); reports, finding texts
and ledgers print them as a planner reads them (``m²/百户``). One table, for all.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["COMPARATOR_SIGNS", "UNIT_LABELS", "unit_label"]

UNIT_LABELS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "m2/100 households": ("m²/百户", "m²/100 households"),
        "m2/1000 residents": ("m²/千人", "m²/1,000 residents"),
        "m2/1,000 residents": ("m²/千人", "m²/1,000 residents"),
        "m2/household": ("m²/户", "m²/household"),
        "m2/dwelling": ("m²/套", "m²/dwelling"),
        "m2": ("m²", "m²"),
        "m": ("米", "m"),
        "min": ("分钟", "min"),
        "households": ("户", "households"),
        "dwellings": ("套", "dwellings"),
        "residents": ("人", "residents"),
        "persons": ("人", "persons"),
        "members": ("人", "members"),
        "organisations": ("个", "organisations"),
        "functions": ("项功能", "functions"),
        "key functions": ("项重点功能", "key functions"),
        "workers/10,000 residents": ("人/万人", "workers/10,000 residents"),
        "places/10,000 residents": ("个/万人", "places/10,000 residents"),
        "workers/grid": ("人/网格", "workers/grid"),
        "branches/grid": ("个/网格", "branches/grid"),
        "h/day": ("小时/天", "h/day"),
        "patrols/day": ("次/天", "patrols/day"),
        "visits/month": ("次/月", "visits/month"),
        "visits/household/year": ("次/户/年", "visits/household/year"),
        "persons/household": ("人/户", "persons/household"),
    }
)
"""Profile unit -> (zh, en) as printed after a number."""

COMPARATOR_SIGNS: Mapping[str, str] = MappingProxyType(
    {">=": "≥", "<=": "≤", ">": ">", "<": "<", "==": "="}
)
"""A target's comparator as printed before its threshold (应 ≥ 30)."""


def unit_label(unit: str, lang: str = "zh") -> str:
    """``unit`` as a planner reads it in ``lang`` (the unit itself when unknown).

    Examples
    --------
    >>> unit_label("m2/100 households"), unit_label("m2/1000 residents", "en")
    ('m²/百户', 'm²/1,000 residents')
    >>> unit_label("share of grids")
    'share of grids'
    """
    zh, en = UNIT_LABELS.get(unit, (unit, unit))
    return zh if lang == "zh" else en
