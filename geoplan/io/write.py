"""Atomic writers: a failure never leaves a half-written file behind.

Every output goes to a temporary file in the destination folder, then replaces
the destination with :func:`os.replace` (atomic on one file system). Writers
refuse to write over a file that was given as an input.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from geoplan._errors import InputError

__all__ = [
    "atomic_path",
    "clean_numbers",
    "write_bytes",
    "write_csv",
    "write_gpkg",
    "write_text",
]


@contextlib.contextmanager
def atomic_path(
    dest: str | os.PathLike[str], *, protect: Iterable[str | os.PathLike[str]] = ()
) -> Iterator[Path]:
    """Yield a temporary path beside ``dest``; rename it onto ``dest`` on success.

    Parameters
    ----------
    dest
        The final path.
    protect
        Input paths that must never be overwritten; naming one as ``dest`` raises
        :class:`InputError`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("你好", encoding="utf-8")
    >>> (d / "out.txt").read_text(encoding="utf-8")
    '你好'
    """
    dest = Path(dest)
    resolved = dest.resolve()
    for p in protect:
        if Path(p).resolve() == resolved:
            raise InputError("refusing to overwrite an input file", file=str(dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    # keep the real suffix last: GDAL picks drivers (and warns) by extension
    fd, tmp_name = tempfile.mkstemp(
        prefix=f".{dest.stem}.", suffix=f".tmp{dest.suffix}", dir=dest.parent
    )
    os.close(fd)
    tmp = Path(tmp_name)
    # Some writers (GDAL) refuse to write into an existing empty file.
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_with(
    dest: str | os.PathLike[str],
    writer: Callable[[Path], object],
    protect: Iterable[str | os.PathLike[str]],
) -> Path:
    with atomic_path(dest, protect=protect) as tmp:
        writer(tmp)
    return Path(dest)


def write_text(
    dest: str | os.PathLike[str], text: str, *, protect: Iterable[str | os.PathLike[str]] = ()
) -> Path:
    """Write UTF-8 text atomically and return the path."""
    return _write_with(dest, lambda p: p.write_text(text, encoding="utf-8"), protect)


def write_bytes(
    dest: str | os.PathLike[str], data: bytes, *, protect: Iterable[str | os.PathLike[str]] = ()
) -> Path:
    """Write bytes atomically and return the path."""
    return _write_with(dest, lambda p: p.write_bytes(data), protect)


def write_csv(
    dest: str | os.PathLike[str],
    frame: pd.DataFrame,
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write a table as UTF-8 CSV with a BOM (so Excel shows Chinese), atomically.

    Geometry columns are dropped; the index is written as the first column.
    Numbers are written as a person reads them: at most 10 significant digits
    (``0.1 + 0.2`` is ``0.3``, not ``0.30000000000000004``), and infinite values
    (e.g. "no facility within the search limit") as an empty cell, never ``inf``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t = pd.DataFrame({"share": [0.1 + 0.2], "walk_m": [float("inf")]},
    ...     index=pd.Index(["B1"], name="building_id"))
    >>> print(write_csv(d / "t.csv", t).read_text(encoding="utf-8-sig"), end="")
    building_id,share,walk_m
    B1,0.3,
    """
    table = clean_numbers(pd.DataFrame(frame.drop(columns="geometry", errors="ignore")))
    return _write_with(
        dest,
        lambda p: table.to_csv(
            p, encoding="utf-8-sig", lineterminator="\n", float_format=_FLOAT_FORMAT
        ),
        protect,
    )


_FLOAT_FORMAT = "%.10g"


def clean_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose floats carry no noise and no infinities.

    Float columns keep their dtype (infinities become NaN, written empty); floats
    inside object columns are rounded to 10 significant digits, infinities become
    None.

    Examples
    --------
    >>> t = pd.DataFrame({"a": [0.1 + 0.2, float("-inf")], "b": [0.1 + 0.2, "x"]})
    >>> clean_numbers(t).to_dict("list")
    {'a': [0.30000000000000004, nan], 'b': [0.3, 'x']}
    """
    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_float_dtype(s.dtype):
            out[col] = s.where(~np.isinf(s.to_numpy(dtype=float, na_value=np.nan)))
        elif s.dtype == object:
            out[col] = s.map(_clean_scalar)
    return out


def _clean_scalar(value: object) -> object:
    if isinstance(value, float | np.floating) and not isinstance(value, bool):
        x = float(value)
        if math.isinf(x):
            return None
        return x if math.isnan(x) else float(f"{x:.10g}")
    return value


def write_gpkg(
    dest: str | os.PathLike[str],
    layers: dict[str, gpd.GeoDataFrame],
    *,
    protect: Iterable[str | os.PathLike[str]] = (),
) -> Path:
    """Write one or more layers to a GeoPackage atomically (all layers or none)."""

    def _write(p: Path) -> None:
        for name, gdf in layers.items():
            out = gdf.reset_index()
            for col in out.columns:
                if col != out.geometry.name and out[col].dtype == object:
                    out[col] = out[col].astype("string")
            out.to_file(p, layer=name, driver="GPKG", engine="pyogrio")

    return _write_with(dest, _write, protect)
