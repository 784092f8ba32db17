"""The container of a saved network: an uncompressed ``.npz`` read by memory map (private).

:func:`write_npz` writes a zip of ``.npy`` members, **stored** (not deflated), the
array data of each member starting on a 64-byte boundary of the file: the local
header's extra field pads it (a ``0xD935`` record, as Android's ``zipalign``
writes), and the ``.npy`` header is itself padded to 64 bytes. It stays a plain
``.npz``: ``numpy.load`` reads it as any other. :func:`read_npz` gives every
member as an array: stored members are views of one copy-on-write memory map of
the whole file (nothing is read from disk until used; writing to an array never
reaches the file), deflated ones (network files written before format 2) are
read into memory. Used by :meth:`geoplan.network.WalkNetwork.save` and
:func:`geoplan.network.load_network`.

The map keeps the file's contents alive, not its name: replacing the file (as
every geoplan writer does, by renaming a finished temporary file over it) leaves
a loaded network intact. Overwriting the file's bytes in place while a network
loaded from it is in use is not safe (as with any memory-mapped file).
"""

from __future__ import annotations

import io
import math
import mmap
import os
import struct
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np

__all__ = ["ALIGN", "read_npz", "write_npz"]

#: Alignment (bytes) of every member's array data in the file.
ALIGN = 64

# a zip local file header: 30 bytes, then the name and the extra field
_LOCAL_HEADER = struct.Struct("<4s22xHH")
_LOCAL_MAGIC = b"PK\x03\x04"
# extra-field record id used for the padding (Android zipalign's), and the size of
# the zip64 record zipfile appends to the local header of a member forced to zip64
_PAD_ID = 0xD935
_ZIP64_EXTRA = 20
# the .npy header is read from at most this many bytes (numpy's own limit is 10000)
_MAX_NPY_HEADER = 1 << 16


def write_npz(fh: IO[bytes], arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to the seekable binary file ``fh`` as an aligned, stored ``.npz``.

    Member ``name.npy`` per key, in order, with a fixed timestamp (the same
    arrays give the same bytes). Object arrays are refused (no pickles).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.npz"
    >>> with open(p, "wb") as fh:
    ...     write_npz(fh, {"x": np.arange(3.0), "n": np.array(7)})
    >>> with np.load(p) as z:
    ...     z["x"].tolist(), int(z["n"])
    ([0.0, 1.0, 2.0], 7)
    """
    with zipfile.ZipFile(fh, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            arr = np.asanyarray(value)
            name = f"{key}.npy"
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            force64 = arr.nbytes + _MAX_NPY_HEADER >= zipfile.ZIP64_LIMIT
            # the next local header goes where the file stands (zipfile seeks there)
            head = fh.tell() + _LOCAL_HEADER.size + len(name.encode("ascii"))
            head += 4 + 2 + (_ZIP64_EXTRA if force64 else 0)
            pad = -head % ALIGN
            info.extra = struct.pack("<HHH", _PAD_ID, 2 + pad, ALIGN) + bytes(pad)
            with zf.open(info, mode="w", force_zip64=force64) as out:
                np.lib.format.write_array(out, arr, allow_pickle=False)


def read_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every member of an ``.npz`` as an array: stored ones memory-mapped, others read.

    Raises OSError, ValueError or :class:`zipfile.BadZipFile` for a file that is
    not a readable ``.npz`` (truncated, a member's header or data out of place,
    an object array).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.npz"
    >>> with open(p, "wb") as fh:
    ...     write_npz(fh, {"x": np.arange(3.0)})
    >>> read_npz(p)["x"].tolist()
    [0.0, 1.0, 2.0]
    """
    out: dict[str, np.ndarray] = {}
    with open(Path(path), "rb") as fh, zipfile.ZipFile(fh) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        stored = [i for i in infos if i.compress_type == zipfile.ZIP_STORED]
        # one map for the whole file: it holds its own handle, so ours may close
        mm = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_COPY) if stored else None
        for info in infos:
            key = info.filename.removesuffix(".npy")
            if mm is not None and info.compress_type == zipfile.ZIP_STORED:
                out[key] = _mapped(mm, info)
            else:
                with zf.open(info) as member:
                    out[key] = np.lib.format.read_array(member, allow_pickle=False)
    return out


def _mapped(mm: mmap.mmap, info: zipfile.ZipInfo) -> np.ndarray:
    """The array of the stored member ``info``, a view of the file's map ``mm``."""
    if info.flag_bits & 0x1:
        raise ValueError(f"member {info.filename} is encrypted")
    at = info.header_offset
    if at + _LOCAL_HEADER.size > len(mm):
        raise zipfile.BadZipFile(f"member {info.filename} lies beyond the end of the file")
    magic, n_name, n_extra = _LOCAL_HEADER.unpack_from(mm, at)
    if magic != _LOCAL_MAGIC:
        raise zipfile.BadZipFile(f"bad local header of member {info.filename}")
    start = at + _LOCAL_HEADER.size + n_name + n_extra
    end = start + info.file_size
    if end > len(mm):
        raise zipfile.BadZipFile(f"member {info.filename} is truncated")
    fp = io.BytesIO(mm[start : min(end, start + _MAX_NPY_HEADER)])
    version = np.lib.format.read_magic(fp)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fp)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fp)
    else:
        raise ValueError(f"member {info.filename}: unsupported .npy version {version}")
    if dtype.hasobject:
        raise ValueError(f"member {info.filename} holds Python objects (not read)")
    count = math.prod(shape)
    data = start + fp.tell()
    if data + count * dtype.itemsize > end:
        raise ValueError(f"member {info.filename} is shorter than its array")
    if count == 0:
        return np.zeros(shape, dtype=dtype)
    flat = np.frombuffer(mm, dtype=dtype, count=count, offset=data)
    return flat.reshape(shape, order="F" if fortran else "C")
