"""The seeded sample district: a realistic, deterministic Chinese urban district.

:func:`make_sample_district` builds every canonical frame of
``docs/architecture.md`` (communities, buildings, facilities, streets) plus gated
compounds, their gates and the district boundary, for a made-up part of Tianjin's
Nankai district (code 120104) in UTM zone 50N (EPSG:32650). The same seed gives
byte-identical frames. The district is built to pass some checks and fail others:

- superblocks of about 400 x 450 m between arterials, each holding one or two
  gated compounds (小区) with internal roads that end at gates on the compound
  boundary, footpaths between building rows, and a sparse village fringe (4 村)
  on the east side;
- old estates of 5-7 floor walk-ups in rows, new estates of 18-33 floor towers,
  village houses of 1-3 floors; about 5% of residential buildings have no
  household count (``households`` NaN, floors known) so estimation is exercised;
- community service centres sized between 10 and 60 m2 per 100 households,
  village centres of 150-500 m2, five wet markets that leave part of the centre
  and most of the villages beyond a 10-minute walk;
- every category a packaged profile checks: the shops of the MOFCOM lists, and for
  the GB 50180 life-circle levels primary and middle schools, police stations,
  shopping centres, banks and public toilets along the arterials, plus two
  neighbourhood centres (邻里中心) of new developments with the 5-minute services
  under one roof; so each level passes in some communities and fails in most
  (seed 0: 15 minutes 6 of 30 communities, 10 minutes 1, 5 minutes 2);
- childcare places (托位) per community, some above and most below 4.5 per 1,000
  residents;
- parks (``park``) with their land area in ``area_m2`` (no floor area): three of
  5,000 m2 or more, four of 2,000-5,000 m2 and four pocket parks below 2,000 m2, which
  serve no one under the 公园绿地服务半径 rules of ``city-health-check``; four infant-care
  facilities (``infant_care``, 托育) that leave the villages and part of the town beyond
  a 10-minute walk; and a ``functions`` entry on the community service centres
  ("党群服务、养老服务、托育、助餐"), some meeting the embedded-services rule of
  ``embedded-services-2024`` (3 functions, 2 of them key) and some not, three blank;
- one facility 30 m outside the district (assignable within a tolerance) and one
  3 km away (unassignable).

Street lines are split at every junction and meet at exactly equal end points
(coordinates on a 1 cm grid), so a builder that joins lines at end points gets one
connected network.

The package's modules, one job each: ``_base`` (frame of reference, quad geometry, the
row accumulator), ``plan_layout`` (streets, compounds, buildings, villages), ``_facilities``
(community attributes, service centres, shops, life-circle facilities), ``_amenities``
(parks, infant care, the centres' functions; drawn last) and ``_district``
(:class:`SampleDistrict`, its files, :func:`make_sample_district`).
"""

from __future__ import annotations

from geoplan.sample._district import SampleDistrict, make_sample_district

__all__ = ["SampleDistrict", "make_sample_district"]
