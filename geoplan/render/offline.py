"""Self-contained HTML: inline every script and stylesheet a folium map loads.

folium writes ``<script src="https://cdn...">`` and ``<link href="https://cdn...">``
tags; a planning bureau inside China often has no access to those CDNs, and a
map handed over as a file must open years later. :func:`save_html` replaces
each such tag with the asset's text, taken from packages installed from PyPI:

- ``xstatic-leaflet`` (Leaflet JS and CSS, with its images as data URIs) and
  ``xstatic-jquery`` (jQuery, which folium's popups need): all a geoplan map uses;
- ``folium-offline`` (import name ``offlinefolium``), only as a fallback for the
  other assets a plain ``folium.Map`` loads (Bootstrap, Font Awesome, awesome
  markers) when a caller passes their own map.

No third-party JavaScript is stored in geoplan itself.

Base-map tiles are never inlined: tiles are online by nature.
"""

from __future__ import annotations

import base64
import html
import os
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import folium

from geoplan._errors import GeoplanError
from geoplan.io.write import write_text

__all__ = [
    "OfflineAssetError",
    "OfflineMap",
    "external_asset_urls",
    "inline_assets",
    "offline_html",
    "save_html",
    "use_minimal_assets",
]

_EXTERNAL = r"(?:https?:)?//[^\"'\s>]+"
_SCRIPT_RE = re.compile(
    r"<script\b[^>]*\bsrc\s*=\s*[\"'](" + _EXTERNAL + r")[\"'][^>]*>\s*</script>", re.IGNORECASE
)
_LINK_RE = re.compile(
    r"<link\b[^>]*\bhref\s*=\s*[\"'](" + _EXTERNAL + r")[\"'][^>]*>", re.IGNORECASE
)
_CSS_URL_RE = re.compile(r"url\(\s*[\"']?images/([A-Za-z0-9_.-]+\.png)[\"']?\s*\)")

# The folium asset names a geoplan map needs (no Bootstrap, no icon fonts).
_NEEDED_JS = ("leaflet", "jquery")
_NEEDED_CSS = ("leaflet_css",)


class OfflineAssetError(GeoplanError, RuntimeError):
    """A script or stylesheet of the map has no offline copy in the installed packages."""


def use_minimal_assets(m: folium.Map) -> folium.Map:
    """Make ``m`` load only Leaflet and jQuery; return ``m``.

    folium's ``Map.default_js`` / ``default_css`` are class attributes shared by
    every map of the process (``add_js_link`` mutates them), so this sets copies
    on the instance and never touches the shared lists.

    Examples
    --------
    >>> import folium
    >>> m = use_minimal_assets(folium.Map(tiles=None))
    >>> [name for name, _ in m.default_js]
    ['leaflet', 'jquery']
    >>> len(folium.Map.default_js) > 2
    True
    """
    js = [(n, u) for n, u in type(m).default_js if n in _NEEDED_JS]
    css = [(n, u) for n, u in type(m).default_css if n in _NEEDED_CSS]
    m.default_js = js
    m.default_css = css
    return m


def external_asset_urls(html: str) -> list[str]:
    """URLs of every ``<script src=...>`` and ``<link href=...>`` pointing off the file.

    Examples
    --------
    >>> external_asset_urls('<script src="https://x.org/a.js"></script><p>hi</p>')
    ['https://x.org/a.js']
    """
    return [m.group(1) for m in _SCRIPT_RE.finditer(html)] + [
        m.group(1) for m in _LINK_RE.finditer(html)
    ]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _leaflet_dir() -> Path:
    import xstatic.pkg.leaflet as leaflet

    return Path(leaflet.BASE_DIR)


def _jquery_dir() -> Path:
    import xstatic.pkg.jquery as jquery

    return Path(jquery.BASE_DIR)


def _leaflet_css() -> str:
    base = _leaflet_dir()
    css = _read(base / "leaflet.css")

    def _data_uri(match: re.Match[str]) -> str:
        image = base / "images" / match.group(1)
        if not image.is_file():
            return match.group(0)
        data = base64.b64encode(image.read_bytes()).decode("ascii")
        return f'url("data:image/png;base64,{data}")'

    return _CSS_URL_RE.sub(_data_uri, css)


_XSTATIC: list[tuple[re.Pattern[str], Callable[[], str]]] = [
    (
        re.compile(r"/leaflet(?:@[\d.]+)?/dist/leaflet\.js$"),
        lambda: _read(_leaflet_dir() / "leaflet.js"),
    ),
    (re.compile(r"/leaflet(?:@[\d.]+)?/dist/leaflet\.css$"), _leaflet_css),
    (
        re.compile(r"/jquery(?:-[\d.]+)?\.min\.js$|/jquery/[\d.]+/jquery\.min\.js$"),
        lambda: _read(_jquery_dir() / "jquery.min.js"),
    ),
]


@cache
def _asset_text(url: str) -> str:
    for pattern, load in _XSTATIC:
        if pattern.search(url):
            try:
                return load()
            except ImportError:
                break
    try:
        from offlinefolium.elements import _res
    except ImportError:
        _res = {}
    normal = url if not url.startswith("//") else "https:" + url
    if normal in _res:
        return str(_res[normal])
    raise OfflineAssetError(
        f"no offline copy of {url}: install xstatic-leaflet and xstatic-jquery "
        "(and folium-offline for other folium plugins), or save with offline=False"
    )


def inline_assets(html: str) -> str:
    """Replace every external script and stylesheet tag of ``html`` by its inlined text.

    Raises :class:`OfflineAssetError` for an asset no installed package provides.

    Examples
    --------
    >>> import folium
    >>> html = use_minimal_assets(folium.Map(tiles=None)).get_root().render()
    >>> external_asset_urls(inline_assets(html))
    []
    """

    def _script(match: re.Match[str]) -> str:
        js = _asset_text(match.group(1))
        return "<script>" + re.sub(r"</(script)", r"<\\/\1", js, flags=re.IGNORECASE) + "</script>"

    def _link(match: re.Match[str]) -> str:
        tag = match.group(0)
        if not re.search(r"rel\s*=\s*[\"']?stylesheet", tag, re.IGNORECASE):
            return tag
        css = _asset_text(match.group(1))
        return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE) + "</style>"

    out = _SCRIPT_RE.sub(_script, html)
    return _LINK_RE.sub(_link, out)


def offline_html(m: folium.Map | folium.Figure) -> str:
    """The map's page with every script and stylesheet inlined (what :func:`save_html` writes).

    Raises :class:`OfflineAssetError` if an external asset is left.

    Examples
    --------
    >>> import folium
    >>> external_asset_urls(offline_html(folium.Map(tiles=None)))
    []
    """
    out = inline_assets(m.get_root().render())
    left = external_asset_urls(out)
    if left:
        raise OfflineAssetError(f"external assets left after inlining: {left}")
    return out


class OfflineMap(folium.Map):
    """A ``folium.Map`` whose notebook view needs no network.

    folium shows a map in Jupyter as an iframe whose page loads Leaflet and
    jQuery from CDNs, which are often unreachable inside China: the cell stays
    blank. This view inlines them (the same page :func:`save_html` writes).
    Everything else is folium's.

    Examples
    --------
    >>> m = OfflineMap(tiles=None)
    >>> view = m._repr_html_()
    >>> view.startswith("<div") and "cdn.jsdelivr" not in view
    True
    """

    def _repr_html_(self, **kwargs: object) -> str:
        # an attribute value, escaped; non-ASCII as character references so the
        # names survive whatever encoding the host page (notebook, export) uses
        page = html.escape(offline_html(self)).encode("ascii", "xmlcharrefreplace").decode()
        return (
            '<div style="width:100%;"><div style="position:relative;width:100%;height:0;'
            'padding-bottom:60%;"><iframe srcdoc="' + page + '" style="position:absolute;'
            'width:100%;height:100%;left:0;top:0;border:none !important;" '
            "allowfullscreen></iframe></div></div>"
        )


def save_html(
    m: folium.Map | folium.Figure,
    path: str | os.PathLike[str],
    *,
    offline: bool = True,
) -> Path:
    """Write a map as one HTML file (atomically) and return its path.

    Parameters
    ----------
    m
        A folium map (or its figure).
    path
        Destination ``.html`` file.
    offline
        True (default): inline Leaflet, jQuery and every other script and
        stylesheet so the file opens with no network. Base-map tiles (``tiles='osm'``,
        ``'amap'``, ``'tianditu'``) still need the network. False: keep folium's
        CDN links (smaller file).

    Examples
    --------
    >>> import tempfile, pathlib, folium
    >>> out = save_html(folium.Map(tiles=None), pathlib.Path(tempfile.mkdtemp()) / "m.html")
    >>> external_asset_urls(out.read_text(encoding="utf-8"))
    []
    """
    page = offline_html(m) if offline else m.get_root().render()
    return write_text(path, page)
