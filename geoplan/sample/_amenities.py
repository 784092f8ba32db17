"""Parks, infant care and what the service centres house: drawn after everything else.

The city-health-check and embedded-services-2024 profiles (issue 14) check park
service radii on a park's ``area_m2``, infant-care (托育) coverage, and the
``functions`` of community service centres. These are drawn last, from the same
generator, so every facility drawn before keeps its id and attributes.

- Parks are facility points (like every sample facility) at their main entrance,
  7-11 m inside an arterial, with the park's land area in ``area_m2`` and no floor
  area: three parks of 5,000 m2 or more, four street gardens (游园) of 2,000-5,000 m2
  and four pocket parks (口袋公园) below 2,000 m2, none in the villages.
- Infant care (托育机构, 0-3 years): two stand-alone centres on the arterials and two
  community nurseries (社区托育点) next to urban service centres that list 托育; the
  rest of the district, the villages included, is beyond their walk.
- ``functions`` of the community service centres: 党群服务 and a few of 养老服务,
  托育, 儿童托管, 助餐, 文化活动, 卫生服务, 便民服务, more of them in larger centres;
  a few centres have no entry (no data).

Private to :mod:`geoplan.sample`.
"""

from __future__ import annotations

import numpy as np
import shapely

from geoplan.sample._base import COMPOUND_PREFIX, Acc, Arr
from geoplan.sample._facilities import frontage_point

# Generation parameters (how the made-up district is drawn, not audit thresholds).
# parks: name pattern ({p}: a place name, {r}: the road), (superblock column, row, side),
# land area range (m2), opening hours per day (fenced parks close at night)
_PARKS = (
    ("{p}公园", (2, 1, "N"), (28_000, 42_000), 17),
    ("{p}公园", (4, 2, "E"), (6_000, 11_000), 17),
    ("{p}公园", (1, 3, "S"), (5_200, 8_000), 17),
    ("{r}街心游园", (0, 1, "E"), (2_200, 4_800), 24),
    ("{r}街心游园", (3, 0, "N"), (2_200, 4_800), 24),
    ("{r}带状公园", (2, 3, "W"), (2_200, 4_800), 24),
    ("{r}游园", (4, 0, "W"), (2_200, 4_800), 24),
    ("{r}口袋公园", (0, 2, "S"), (400, 1_800), 24),
    ("{r}口袋公园", (1, 0, "W"), (400, 1_800), 24),
    ("{r}口袋公园", (2, 2, "E"), (400, 1_800), 24),
    ("{r}口袋公园", (3, 3, "N"), (400, 1_800), 24),
)
# stand-alone infant-care centres: (superblock column, row, side), floor area (m2), name
_INFANT_CARE = (
    ((3, 1, "E"), (450, 900), "{p}普惠托育中心"),
    ((1, 2, "W"), (300, 600), "{p}托育园"),
)
_NURSERIES = 2  # community nurseries (社区托育点) next to service centres listing 托育
_NURSERY_M2 = (80, 200)
_M2_PER_PLACE = (7.0, 9.0)  # floor area per infant-care place (托位)
# the functions a centre may list: the key ones (elderly care, infant care, after-school care,
# meals: one of the usual names each) and the others
_KEY_NAMES = (
    ("养老服务", "日间照料", "居家养老"),
    ("托育", "婴幼儿托育"),
    ("儿童托管", "四点半课堂"),
    ("助餐", "老年助餐", "长者食堂"),
)
_OTHER_NAMES = ("文化活动", "卫生服务", "便民服务")
_BLANK_CENTRES = 3  # centres whose functions are not recorded
_CENTRE = "community_service_centre"


def _frontage(acc: Acc, nodes: Arr, where: tuple[int, int, str]) -> tuple[Arr, str]:
    i, j, side = where
    return frontage_point(acc.rng, nodes, i, j, side, acc.rng.uniform(0.3, 0.7))


def _next_door(acc: Acc, xy: Arr) -> Arr:
    """A point 6 m east or west of ``xy``, whichever lies farther from every street line."""
    tree = shapely.STRtree([geom for geom, _, _ in acc.lines])
    candidates = xy + np.array([[6.0, 0.0], [-6.0, 0.0]])
    _, dist = tree.query_nearest(shapely.points(candidates), return_distance=True)
    best: Arr = candidates[int(np.argmax(dist))]
    return best


def add_parks(acc: Acc, nodes: Arr) -> None:
    """Parks as points at their entrance, each with its land area (``area_m2``)."""
    rng = acc.rng
    places = iter(rng.permutation(COMPOUND_PREFIX.split()))
    for pattern, where, (lo, hi), hours in _PARKS:
        pt, road = _frontage(acc, nodes, where)
        name = pattern.format(p=next(places), r=road)
        acc.facility(pt, name, "park", np.nan, hours, land_m2=round(rng.uniform(lo, hi)))


def centre_functions(acc: Acc) -> dict[str, str | None]:
    """The ``functions`` entry of every community service centre, by facility id.

    Larger centres tend to house more: a centre's rank by floor area, with noise,
    decides how many key functions it lists (3-4, 2, 1 or 0-1 with fewer others).
    """
    rng = acc.rng
    centres = [(f[0], f[3]) for f in acc.facilities if f[2] == _CENTRE]
    blank = set(rng.choice(len(centres), _BLANK_CENTRES, replace=False).tolist())
    order = np.argsort(np.argsort([area for _, area in centres], kind="stable"), kind="stable")
    score = order / max(len(centres) - 1, 1) + rng.normal(0.0, 0.2, len(centres))
    out: dict[str, str | None] = {}
    for k, (fid, _) in enumerate(centres):
        s = float(score[k])
        n_key = int(rng.integers(3, 5)) if s > 0.65 else 2 if s > 0.4 else 1 if s > 0.2 else 0
        n_other = 2 if n_key == 1 else int(rng.integers(0, 3)) if n_key else int(rng.integers(0, 2))
        keys = sorted(rng.choice(len(_KEY_NAMES), n_key, replace=False).tolist())
        others = sorted(rng.choice(len(_OTHER_NAMES), n_other, replace=False).tolist())
        names = ["党群服务"]
        if n_key < 2 and rng.random() < 0.5:  # the same function under a second name
            names.append("政务服务")
        names += [str(rng.choice(_KEY_NAMES[n])) for n in keys]
        names += [_OTHER_NAMES[n] for n in others]
        out[fid] = None if k in blank else "、".join(names)
    return out


def add_infant_care(acc: Acc, nodes: Arr, functions: dict[str, str | None]) -> None:
    """Infant-care centres on the arterials and nurseries next to some service centres;
    each community's ``childcare_places`` gains the places of those inside it."""
    rng = acc.rng
    places = iter(rng.permutation(COMPOUND_PREFIX.split()))
    added: list[tuple[Arr, int]] = []
    for where, (lo, hi), pattern in _INFANT_CARE:
        pt, _ = _frontage(acc, nodes, where)
        fa = round(rng.uniform(lo, hi))
        acc.facility(pt, pattern.format(p=next(places)), "infant_care", fa, 11)
        added.append((pt, fa))
    urban = {c["community_id"]: c["name"] for c in acc.communities if c["kind"] == "urban"}
    infant = set(_KEY_NAMES[1])  # the names of infant care
    listing = [
        f
        for f in acc.facilities
        if f[2] == _CENTRE
        and f[8] in urban
        and infant & set((functions.get(f[0]) or "").split("、"))
    ]
    for n in sorted(rng.choice(len(listing), min(_NURSERIES, len(listing)), replace=False)):
        centre = listing[int(n)]
        pt = _next_door(acc, shapely.get_coordinates(centre[-1])[0])
        fa = round(rng.uniform(*_NURSERY_M2))
        acc.facility(pt, f"{urban[centre[8]]}托育点", "infant_care", fa, 10)
        added.append((pt, fa))
    for c in acc.communities:
        inside = [fa for pt, fa in added if c["geometry"].contains(shapely.Point(pt))]
        n_places = sum(round(fa / rng.uniform(*_M2_PER_PLACE)) for fa in inside)
        c["childcare_places"] += float(n_places)
