"""Atomic writers: a failure never leaves a half-written file behind.

Every output goes to a temporary file in the destination folder, then replaces
the destination with :func:`os.replace` (atomic on one file system). Writers
refuse to write over a file that was given as an input.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geoplan._errors import InputError

__all__ = [
    "atomic_path",
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
    """
    table = pd.DataFrame(frame.drop(columns="geometry", errors="ignore"))
    return _write_with(
        dest, lambda p: table.to_csv(p, encoding="utf-8-sig", lineterminator="\n"), protect
    )


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
