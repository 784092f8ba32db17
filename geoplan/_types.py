"""Type aliases for what geoplan's functions accept (for signatures, not run time).

``ProfileLike``: a :class:`~geoplan.profiles.Profile`, a packaged profile's name or a
profile file's path. ``CRSLike``: anything :class:`pyproj.CRS` takes (an EPSG code, a
string, a CRS), or ``"gcj02"`` / ``"bd09"`` where a function says it reads them.
``PathLike``: a path given as a string or an :class:`os.PathLike`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import pyproj

    from geoplan.profiles import Profile

__all__ = ["CRSLike", "PathLike", "ProfileLike"]

PathLike: TypeAlias = "str | os.PathLike[str]"
ProfileLike: TypeAlias = "Profile | str | os.PathLike[str]"
CRSLike: TypeAlias = "pyproj.CRS | str | int"
