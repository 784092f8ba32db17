"""A minimal TOML writer for profiles (only the shapes a profile uses).

One job: a profile -> TOML text, keys in the schema's order (``_schema``), so
``load_profile`` reads it back to an equal profile.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from geoplan.profiles._catchment import catchment_to_toml_pairs
from geoplan.profiles._schema import PARAMETER_KEYS, PROFILE_KEYS, SOURCE_KEYS, TARGET_KEYS

if TYPE_CHECKING:
    from geoplan.profiles._model import Profile

# ---------------------------------------------------------------------------
# A minimal TOML writer (only the shapes a profile uses)
# ---------------------------------------------------------------------------

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _toml_key(key: str) -> str:
    if key and all(ch in _BARE_KEY_CHARS for ch in key):
        return key
    return _toml_string(key)


def _toml_string(s: str) -> str:
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        inner = ", ".join(f"{_toml_key(str(k))} = {_toml_value(v)}" for k, v in value.items())
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write {type(value).__name__} to TOML: {value!r}")


def _toml_lines(pairs: Iterable[tuple[str, object]]) -> list[str]:
    return [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in pairs if v is not None]


def profile_to_toml(p: Profile) -> str:
    lines = ["# geoplan standards profile (format: docs/profiles.md)", "", "[profile]"]
    lines += _toml_lines((k, getattr(p, k)) for k in PROFILE_KEYS)
    for key, src in p.sources.items():
        lines += ["", f"[sources.{_toml_key(key)}]"]
        lines += _toml_lines((k, getattr(src, k)) for k in SOURCE_KEYS)
    for name, par in p.parameters.items():
        lines += ["", f"[parameters.{_toml_key(name)}]"]
        lines += _toml_lines((k, getattr(par, k)) for k in PARAMETER_KEYS)
    for c in p.catchments:
        lines += ["", "[[catchments]]"]
        lines += _toml_lines(catchment_to_toml_pairs(c))
    for t in p.targets:
        lines += ["", "[[targets]]"]
        pairs: list[tuple[str, object]] = []
        for k in TARGET_KEYS:
            v = getattr(t, k)
            if k == "applies_if" and not v:
                continue
            pairs.append((k, v))
        lines += _toml_lines(pairs)
    return "\n".join(lines) + "\n"
