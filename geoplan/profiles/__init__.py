"""Standards profiles: every threshold geoplan checks, stored as data with its source.

A profile is a TOML file (format in ``docs/profiles.md``) holding the targets of
one planning document (Tianjin 14th FYP, Ningxia 2023-2025, GB 50180-2018, the
MOFCOM 15-minute life circle), the source documents and clauses they come from,
and the parameters the code needs (walking speed, household size, ...). Nothing
here reads a file at import time: packaged profiles are parsed on each
:func:`load_profile` call (they are a few kilobytes), so every call returns a new,
frozen :class:`Profile`.

Examples
--------
>>> p = load_profile("tianjin-2025")
>>> t = p.target("service_area_per_100_households")
>>> t.threshold, t.comparator, t.passes(31.0), t.shortfall(24.0)
(30.0, '>=', True, 6.0)
>>> mine = p.derive("my-city", thresholds={t.id: 35.0})
>>> mine.target(t.id).threshold, p.target(t.id).threshold
(35.0, 30.0)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from geoplan._errors import ProfileNotFound
from geoplan.profiles._model import (
    AUDITS,
    COMPARATORS,
    MEASURES,
    SCOPES,
    Parameter,
    Profile,
    Source,
    Target,
)
from geoplan.profiles._parse import _parse_profile

__all__ = [
    "AUDITS",
    "COMPARATORS",
    "MEASURES",
    "SCOPES",
    "Parameter",
    "Profile",
    "Source",
    "Target",
    "list_profiles",
    "load_profile",
]


# ---------------------------------------------------------------------------
# Registry
# ---------------------------------------------------------------------------


def list_profiles() -> list[str]:
    """Names of the packaged profiles.

    Examples
    --------
    >>> list_profiles()
    ['gb50180-2018', 'mofcom-15min', 'ningxia-2025', 'tianjin-2025']
    """
    folder = resources.files(__name__)
    return sorted(
        entry.name[: -len(".toml")] for entry in folder.iterdir() if entry.name.endswith(".toml")
    )


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a packaged profile by name, or a user's profile file by path.

    A :class:`~pathlib.Path`, or a string that ends in ``.toml`` or names an
    existing file, is read as a file. Every call parses afresh and returns a new
    frozen profile.

    Raises
    ------
    ProfileNotFound
        For an unknown name (the message lists the valid names) or a missing file.
    InputError
        For a malformed file: the message names the file, and the target id (row)
        and key (column) at fault.

    Examples
    --------
    >>> load_profile("tianjin-2025").target("workers_per_10k").threshold
    18.0
    >>> try:
    ...     load_profile("shanghai")
    ... except ProfileNotFound as err:
    ...     print(err)  # doctest: +NORMALIZE_WHITESPACE
    unknown profile 'shanghai'; valid names: gb50180-2018, mofcom-15min, ningxia-2025,
    tianjin-2025 (or give the path of a .toml file)
    """
    text: str
    label: str
    valid = list_profiles()
    as_str = str(name_or_path)
    is_path = (
        isinstance(name_or_path, Path)
        or as_str.endswith(".toml")
        or (as_str not in valid and Path(as_str).is_file())
    )
    if is_path:
        path = Path(name_or_path)
        if not path.is_file():
            raise ProfileNotFound(
                f"profile file {as_str} does not exist; packaged profiles: {', '.join(valid)}"
            )
        text = path.read_text(encoding="utf-8")
        label = str(path)
    elif as_str in valid:
        entry = resources.files(__name__) / f"{as_str}.toml"
        text = entry.read_text(encoding="utf-8")
        label = str(entry)
    else:
        raise ProfileNotFound(
            f"unknown profile {as_str!r}; valid names: {', '.join(valid)} "
            "(or give the path of a .toml file)"
        )
    return _parse_profile(text, file=label)
