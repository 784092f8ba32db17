"""Static maps draw Chinese on a fresh machine: no system CJK font, stale font cache."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from matplotlib import font_manager

from geoplan.render import static
from geoplan.render.static import cjk_font_properties, packaged_cjk_font, static_gap_map


def _facilities() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": ["海淀菜市场", "学院路便利店"], "category": ["wet_market", "convenience_store"]},
        geometry=[shapely.Point(0, 0), shapely.Point(400, 300)],
        index=["F1", "F2"],
        crs=32650,
    )


def test_packaged_font_is_noto_sans_cjk_sc() -> None:
    path = packaged_cjk_font()
    assert path is not None, "mplfonts (a geoplan dependency) is not installed"
    assert path.is_file()
    assert cjk_font_properties() is not None
    assert static.find_cjk_font() == "Noto Sans CJK SC"


def test_chinese_drawn_with_an_empty_font_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A matplotlib font list that knows no CJK family (no system fonts, or a cache
    made before fonts-noto-cjk was installed) still gives Chinese labels."""
    stale = [f for f in font_manager.fontManager.ttflist if "CJK" not in f.name]
    monkeypatch.setattr(font_manager.fontManager, "ttflist", stale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither "no CJK font" nor "Glyph missing"
        out = static_gap_map(
            tmp_path / "m.png",
            facilities=_facilities(),
            title="社区服务设施（测试）",
            lang="zh",
        )
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chinese_glyphs_are_not_boxes(tmp_path: Path) -> None:
    """The packaged font has real outlines for the characters a title uses."""
    from matplotlib.ft2font import FT2Font

    path = packaged_cjk_font()
    assert path is not None
    font = FT2Font(str(path))
    for char in "菜市场覆盖率社区未达标":
        assert font.get_char_index(ord(char)) != 0, char
