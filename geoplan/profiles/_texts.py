"""Target descriptions that follow a changed threshold (derived and edited profiles).

A packaged description states its document's figure ("...30平方米以上"). When a
profile changes the threshold (:meth:`Profile.derive`, or a user's copy of a
packaged profile with a new number), the description must say the new figure,
or the report would print "30" next to a check run at 35. :func:`restate`
rewrites the figure where the text states it, in whatever scale the text uses
(``0.6`` as "60%", ``0.3`` m2 per household as "30 m2 per 100 households",
``45`` per 10,000 as "4.5 per 1,000"); where the text states no figure it can
find, it appends the local threshold, so the text never shows a stale number.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geoplan.profiles._schema import Target, Threshold

# Scales in which a description may state a threshold (value x scale).
_SCALES = (1.0, 100.0, 0.1, 0.01, 10.0, 1000.0)


def _fmt(x: float) -> str:
    text = f"{round(float(x), 6):.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _pattern(number: str) -> re.Pattern[str]:
    # the number on its own: not part of a longer number ("30" is not in "300" or "1,300")
    return re.compile(rf"(?<!\d)(?<!\d[.,]){re.escape(number)}(?!\d|[.,]\d)")


def _parts(threshold: Threshold) -> tuple[float, ...]:
    return tuple(threshold) if isinstance(threshold, tuple) else (float(threshold),)


def _states(text: str, threshold: Threshold) -> bool:
    """Whether ``text`` states every number of ``threshold`` in one scale."""
    return any(all(_pattern(_fmt(v * k)).search(text) for v in _parts(threshold)) for k in _SCALES)


def _replace(text: str, old: Threshold, new: Threshold) -> str | None:
    """``text`` with the figure ``old`` replaced by ``new`` (same scale), or None."""
    olds, news = _parts(old), _parts(new)
    if len(olds) != len(news):
        return None
    for k in _SCALES:
        pats = [_pattern(_fmt(v * k)) for v in olds]
        if all(p.search(text) for p in pats):
            out = text
            # replace through placeholders, so [300, 500] -> [500, 700] cannot chain
            for i, p in enumerate(pats):
                out = p.sub(f"\x00{i}\x00", out)
            for i, v in enumerate(news):
                out = out.replace(f"\x00{i}\x00", _fmt(v * k))
            return out
    return None


def _flag(t: Target, old: Threshold, lang: str) -> str:
    now = t.threshold_text()
    was = "-".join(_fmt(v) for v in _parts(old))
    if lang == "zh":
        return f"（本地阈值 {now}；文件原值 {was}）"
    return f" (local threshold {now}; the document's figure: {was})"


def restate(t: Target, old: Threshold) -> Target:
    """``t`` with descriptions that state its threshold, where they stated ``old``.

    The figure ``old`` is replaced where a description states it; a description
    that already states the current threshold is kept; any other gets the local
    threshold appended. Unchanged thresholds return ``t`` itself.

    Examples
    --------
    >>> import dataclasses
    >>> from geoplan.profiles import load_profile
    >>> t = load_profile("tianjin-2025").target("service_area_per_100_households")
    >>> t35 = restate(dataclasses.replace(t, threshold=35.0), 30.0)
    >>> t35.description_zh
    '城市社区每百户居民拥有社区综合服务设施建筑面积35平方米以上'
    >>> s = load_profile("tianjin-2025").target("activity_share")
    >>> restate(dataclasses.replace(s, threshold=0.65), 0.6).description_en
    "Resident activity area is at least 65% of each community service facility's total floor area"
    """
    if _parts(old) == _parts(t.threshold):
        return t
    texts: dict[str, str] = {}
    for lang in ("zh", "en"):
        text: str = getattr(t, f"description_{lang}")
        replaced = _replace(text, old, t.threshold)
        if replaced is not None:
            texts[lang] = replaced
        elif not _states(text, t.threshold):
            texts[lang] = text + _flag(t, old, lang)
    if not texts:
        return t
    return dataclasses.replace(
        t,
        description_zh=texts.get("zh", t.description_zh),
        description_en=texts.get("en", t.description_en),
    )
