"""Packed layers for city-scale maps (private to ``geoplan.render``).

A GeoJSON feature with its tooltip costs 150-300 bytes; a city's map drew tens of
thousands of them, layer after layer, and weighed 30 MB. Here the data goes into the
page as integer arrays (coordinates in 1e-6 degrees, as differences from the previous
one) and each layer's features are made by a small script the first time the layer
is switched on, with tooltips assembled when they open:

- cells of a square grid: the grid's corners once, then per layer one class letter
  and two numbers per cell;
- points (facilities, unreachable points): coordinates, a title and value columns;
- lines (the walking network) and areas (communities, with holes and parts), the
  areas' outlines shared by every layer drawn from them.

Every text is escaped by the caller (:func:`geoplan.render._leaflet.esc`) and the
JSON is made script-safe (no literal ``<``, ``>`` or ``&``). Nothing here is parsed
as a Jinja template (:class:`~geoplan.render._leaflet.RawElement`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import numpy as np
import shapely
from branca.element import Element, MacroElement

from geoplan.render._leaflet import RawElement, figure, js_json

__all__ = [
    "SCALE",
    "add_runtime",
    "add_script",
    "class_letters",
    "js_style",
    "js_styles",
    "packed_lines",
    "packed_points",
    "packed_polygons",
    "quantized",
]

#: Coordinates are sent as integers of 1e-6 degrees (about 0.1 m, as the GeoJSON layers).
SCALE = 1_000_000

# The script every packed layer calls. ``lazy`` builds a layer's features on its first
# "add" (a layer off when the map opens costs nothing until it is switched on).
_RUNTIME = """<script>
var geoplanCity = (function () {
  "use strict";
  var S = %(scale)d;
  function unpack(d) {
    var out = new Array(d.length >> 1), x = 0, y = 0;
    for (var i = 0, j = 0; i < d.length; i += 2, j += 1) {
      x += d[i]; y += d[i + 1]; out[j] = [y / S, x / S];
    }
    return out;
  }
  function cumsum(d) {
    var out = new Array(d.length), a = 0;
    for (var i = 0; i < d.length; i += 1) { a += d[i]; out[i] = a; }
    return out;
  }
  function num(v) {
    if (v === null || v === undefined || isNaN(v)) { return "\\u2014"; }
    if (!isFinite(v)) { return "\\u221e"; }
    if (Number.isInteger(v)) { return v.toLocaleString("en-US"); }
    return v.toLocaleString("en-US", {minimumFractionDigits: 1, maximumFractionDigits: 1});
  }
  function lazy(group, build) {
    var done = false;
    group.on("add", function () { if (!done) { done = true; build(); } });
  }
  function rows(spec, i) {
    var out = "";
    for (var r = 0; r < spec.length; r += 1) {
      var v = spec[r][1][i];
      out += "<br>" + spec[r][0] + ": " + (typeof v === "string" ? v : num(v));
    }
    return out;
  }
  function cells(group, grid, d, styles) {
    lazy(group, function () {
      var ll = grid.ll_ || (grid.ll_ = unpack(grid.ll));
      var at = grid.at_ || (grid.at_ = cumsum(grid.c)), w = grid.w;
      for (var k = 0; k < at.length; k += 1) {
        if (d.only && !(d.u[k] > 0)) { continue; }
        var ix = at[k] %% (w - 1), a = ((at[k] - ix) / (w - 1)) * w + ix;
        var cell = L.polygon([ll[a], ll[a + 1], ll[a + 1 + w], ll[a + w]], styles[d.k.charAt(k)]);
        cell.bindTooltip((function (k) { return function () {
          return "<b>" + d.l.s + ": " + (d.s[k] < 0 ? "\\u2014" : d.s[k] + "%%") + "</b>" +
            "<br>" + d.l.u + ": " + num(d.u[k]) + "<br>" + d.l.h + ": " + num(grid.h[k]) +
            "<br>" + d.l.b + ": " + num(grid.b[k]);
        }; })(k), {sticky: true});
        group.addLayer(cell);
      }
    });
  }
  function points(group, map, d, style) {
    lazy(group, function () {
      var ll = unpack(d.p), marks = new Array(ll.length);
      for (var i = 0; i < ll.length; i += 1) {
        var mark = L.circleMarker(ll[i], style);
        mark.bindTooltip((function (i) { return function () {
          return "<b>" + d.t[i] + "</b>" + d.fixed + rows(d.rows, i);
        }; })(i), {sticky: true});
        group.addLayer(mark);
        marks[i] = mark;
      }
      if (!d.zoom) { return; }
      var resize = function () {
        if (!map.hasLayer(group)) { return; }
        var z = map.getZoom(), r = style.radius;
        r = z <= d.zoom[0] ? r * 0.45 : (z <= d.zoom[1] ? r * 0.7 : r);
        for (var i = 0; i < marks.length; i += 1) { marks[i].setRadius(r); }
      };
      map.on("zoomend", resize);
      group.on("add", resize);
      resize();
    });
  }
  function lines(group, d, style) {
    lazy(group, function () {
      var ll = unpack(d.p), out = new Array(d.n.length), a = 0;
      for (var i = 0; i < d.n.length; i += 1) { out[i] = ll.slice(a, a + d.n[i]); a += d.n[i]; }
      group.addLayer(L.polyline(out, style));
    });
  }
  function shapes(sh) {
    if (sh.shapes_) { return sh.shapes_; }
    var ll = unpack(sh.p), out = [], a = 0, ri = 0, si = 0;
    while (si < sh.s.length) {
      var parts = sh.s[si], polys = new Array(parts);
      si += 1;
      for (var q = 0; q < parts; q += 1) {
        var nr = sh.s[si], rings = new Array(nr);
        si += 1;
        for (var j = 0; j < nr; j += 1) {
          rings[j] = ll.slice(a, a + sh.r[ri]);
          a += sh.r[ri];
          ri += 1;
        }
        polys[q] = rings;
      }
      out.push(polys);
    }
    sh.shapes_ = out;
    return out;
  }
  function areas(group, sh, d, styles) {
    lazy(group, function () {
      var all = shapes(sh);
      for (var i = 0; i < all.length; i += 1) {
        if (!all[i].length) { continue; }
        var area = L.polygon(all[i], styles[d.k.charAt(i)]);
        area.bindTooltip((function (i) { return function () {
          var out = "<b>" + sh.t[i] + "</b>";
          for (var c = 0; c < d.c.length; c += 1) {
            var ch = d.c[c], st = ch.k.charAt(i);
            if (st === "n" && d.c.length > 1) { continue; }
            out += "<br>" + ch.l + ": " + d.st[st];
            var unit = ch.u ? " " + ch.u : "";
            if (ch.t[i] !== null) {
              out += " (" + num(ch.v[i]) + " / " + num(ch.t[i]) + unit + ")";
            } else if (ch.v[i] !== null) {
              out += " (" + num(ch.v[i]) + unit + ")";
            }
          }
          return out;
        }; })(i), {sticky: true});
        group.addLayer(area);
      }
    });
  }
  return {cells: cells, points: points, lines: lines, areas: areas};
})();
</script>"""


def add_runtime(m: folium.Map) -> None:
    """Put the packed layers' script in the page's head (once per map)."""
    header = figure(m).header
    if "geoplan_city_js" not in header._children:
        header.add_child(RawElement(_RUNTIME % {"scale": SCALE}), name="geoplan_city_js")


class _Script(MacroElement):
    """Script text put on the page when its parent renders, so after the parent's
    own script (a layer group is defined before its features are added to it)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "GeoplanPacked"
        self.text = text

    def render(self, **kwargs: object) -> None:  # type: ignore[override]  # as MacroElement
        figure(self).script.add_child(RawElement(self.text), name=self.get_name())


def add_script(parent: Element, name: str, call: str, data: Mapping[str, Any]) -> None:
    """Add ``var <name> = <data>;`` then ``call`` to the page when ``parent`` (the map
    or a layer group) renders.

    ``call`` is script text made by the caller from element names and constants;
    ``data`` becomes script-safe JSON.
    """
    _Script(f"var {name} = {js_json(dict(data))};\n{call}").add_to(parent)


def js_style(style: Mapping[str, object]) -> str:
    """One Leaflet path style as script text."""
    return js_json(dict(style))


def js_styles(styles: Mapping[str, Mapping[str, object]]) -> str:
    """A layer's style table (letter -> Leaflet path style) as script text."""
    return js_json({k: dict(v) for k, v in styles.items()})


def quantized(lonlat: np.ndarray) -> np.ndarray:
    """(n, 2) lon/lat as integers of 1e-6 degrees."""
    return np.rint(np.asarray(lonlat, dtype=float) * SCALE).astype(np.int64)


def _deltas(q: np.ndarray) -> list[int]:
    """Interleaved lon, lat differences from the previous point (the first from 0)."""
    if len(q) == 0:
        return []
    d = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return list(d.ravel().tolist())


def packed_points(values: np.ndarray) -> list[int]:
    """Point geometries (lon/lat) as the ``p`` array of a points layer.

    Examples
    --------
    >>> packed_points(np.array([shapely.Point(116.0, 40.0), shapely.Point(116.000001, 40.0)]))
    [116000000, 40000000, 1, 0]
    """
    coords = shapely.get_coordinates(values)
    return _deltas(quantized(coords))


def packed_lines(values: np.ndarray) -> dict[str, list[int]]:
    """Line geometries (lon/lat; multi-part lines are split) as a lines layer's data:
    ``p`` the vertices, ``n`` the vertex count of each line.

    Examples
    --------
    >>> packed_lines(np.array([shapely.LineString([(1, 2), (1.5, 2)])]))
    {'p': [1000000, 2000000, 500000, 0], 'n': [2]}
    """
    values = np.asarray(values, dtype=object)
    single = bool((shapely.get_type_id(values) == 1).all())  # parts would copy each line
    parts = values if single else shapely.get_parts(values)
    parts = parts[~shapely.is_empty(parts)]
    coords = shapely.get_coordinates(parts)
    return {
        "p": _deltas(quantized(coords)),
        "n": list(shapely.get_num_coordinates(parts).tolist()),
    }


def packed_polygons(values: np.ndarray) -> dict[str, list[int]]:
    """Polygon geometries (lon/lat; multi-part and with holes) as the outlines every
    areas layer of the same frame shares: ``p`` the vertices (each ring without its
    closing vertex, repeated points dropped), ``r`` the vertex count of each ring,
    ``s`` per area its number of parts, then per part its number of rings. A missing
    or empty geometry has 0 parts.

    Examples
    --------
    >>> packed_polygons(np.array([shapely.box(0, 0, 1, 1)]))["r"], packed_polygons(
    ...     np.array([None]))["s"]
    ([4], [0])
    """
    points: list[np.ndarray] = []
    ring_n: list[int] = []
    struct: list[int] = []
    for geom in values:
        if geom is None or shapely.is_empty(geom):
            struct.append(0)
            continue
        polys = list(shapely.get_parts(geom))
        polys = [p for p in polys if shapely.get_type_id(p) == 3 and not p.is_empty]
        struct.append(len(polys))
        for poly in polys:
            rings = [poly.exterior, *poly.interiors]
            struct.append(len(rings))
            for ring in rings:
                q = quantized(np.asarray(ring.coords)[:-1, :2])
                keep = np.ones(len(q), dtype=bool)
                keep[1:] = (np.diff(q, axis=0) != 0).any(axis=1)
                q = q[keep]
                points.append(q)
                ring_n.append(len(q))
    flat = np.concatenate(points) if points else np.zeros((0, 2), dtype=np.int64)
    return {"p": _deltas(flat), "r": ring_n, "s": struct}


def class_letters(keys: Sequence[str], letters: Mapping[str, str]) -> str:
    """One letter per feature: its style's key in a layer's style table."""
    return "".join(letters[k] for k in keys)
