"""Keywords renamed for clarity, kept working for one release with a DeprecationWarning.

What the input coordinates *are* is ``source_crs=`` in every reader; the metric CRS to
project to is ``to_crs=`` in the builders and the OSM reader (and ``metric_crs=`` in the
readers). Both were once ``crs=``.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from geoplan._errors import InputError

if TYPE_CHECKING:
    from geoplan._types import CRSLike

__all__ = ["renamed_source_crs", "renamed_to_crs"]


def _renamed(
    new: CRSLike | None, old: CRSLike | None, *, where: str, name: str, what: str
) -> CRSLike | None:
    """``new``, or ``old`` (the keyword's old name ``crs=``) with a DeprecationWarning."""
    if old is None:
        return new
    if new is not None:
        raise InputError(f"{where}: give {name}= only (crs= is its old name)", column="crs")
    warnings.warn(
        f"{where}(crs=...) is now {where}({name}=...): {what}",
        DeprecationWarning,
        stacklevel=4,
    )
    return old


def renamed_source_crs(
    source_crs: CRSLike | None, crs: CRSLike | None, *, where: str
) -> CRSLike | None:
    """``source_crs``, or the old ``crs=`` keyword of the reader ``where``, with a
    DeprecationWarning: what the input coordinates *are* is ``source_crs=`` everywhere.

    Examples
    --------
    >>> renamed_source_crs("gcj02", None, where="read_facilities")
    'gcj02'
    """
    return _renamed(
        source_crs, crs, where=where, name="source_crs", what="what the coordinates are"
    )


def renamed_to_crs(to_crs: CRSLike | None, crs: CRSLike | None, *, where: str) -> CRSLike | None:
    """``to_crs``, or the old ``crs=`` keyword of ``where`` with a DeprecationWarning.

    Builders and the OSM reader once named their *target* CRS ``crs=``, while the
    file readers use ``crs=`` for what the data *are*: the target is now ``to_crs=``
    everywhere; ``crs=`` keeps working for one release.

    Examples
    --------
    >>> renamed_to_crs(32650, None, where="network_from_lines")
    32650
    """
    return _renamed(to_crs, crs, where=where, name="to_crs", what="the metric CRS to project to")
