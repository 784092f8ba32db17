"""Standards profiles: every threshold geoplan checks, stored as data with its source.

A profile is a TOML file (format in ``docs/profiles.md``) holding the targets of
one planning document (Tianjin 14th FYP, Ningxia 2023-2025, GB 50180-2018, the
MOFCOM 15-minute life circle, the 城市体检 urban health check, the 2024 guideline on
community-embedded services), the source documents and clauses they come from,
the parameters the code needs (walking speed, household size, ...) and any
size-dependent catchments (:class:`Catchment`: per-facility walking limits). Nothing
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

import dataclasses
from importlib import resources
from pathlib import Path

from geoplan._errors import ProfileNotFound
from geoplan.profiles._catchment import Catchment, CatchmentRule
from geoplan.profiles._model import Profile, parse_profile
from geoplan.profiles._schema import (
    AUDITS,
    COMPARATORS,
    DECAYS,
    MEASURES,
    SCOPES,
    SOURCE_KINDS,
    FrozenMap,
    Parameter,
    Source,
    Target,
)
from geoplan.profiles._texts import restate

__all__ = [
    "AUDITS",
    "COMPARATORS",
    "DECAYS",
    "MEASURES",
    "SCOPES",
    "SOURCE_KINDS",
    "Catchment",
    "CatchmentRule",
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
    >>> list_profiles()  # doctest: +NORMALIZE_WHITESPACE
    ['city-health-check', 'embedded-services-2024', 'gb50180-2018', 'mofcom-15min',
     'ningxia-2025', 'tianjin-2025']
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
    unknown profile 'shanghai'; valid names: city-health-check, embedded-services-2024,
    gb50180-2018, mofcom-15min, ningxia-2025, tianjin-2025 (or give the path of a .toml file)
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
    profile = parse_profile(text, file=label)
    if is_path and profile.name in valid:
        return _as_edited_copy(profile, stem=Path(as_str).stem, valid=valid)
    return profile


def _as_edited_copy(profile: Profile, *, stem: str, valid: list[str]) -> Profile:
    """A user's file that keeps a packaged profile's name but changes it: its own name.

    A copy of ``geoplan profiles show NAME --toml`` with a changed threshold
    must not report under the packaged name, nor keep texts that state the
    packaged figure. An unchanged copy is returned as is. Otherwise the profile
    takes the file's stem as its name (``<name>-edited`` when the stem is a
    packaged name too), ``based_on`` the packaged name; every changed threshold
    or parameter records the packaged figure (``original_threshold`` /
    ``original_value``) and its descriptions state the new one.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> text = load_profile("tianjin-2025").to_toml().replace(
    ...     "threshold = 30.0", "threshold = 35.0", 1)
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "my-city.toml"
    >>> _ = f.write_text(text, encoding="utf-8")
    >>> p = load_profile(f)
    >>> t = p.target("service_area_per_100_households")
    >>> p.name, p.based_on, t.threshold, t.original_threshold
    ('my-city', 'tianjin-2025', 35.0, 30.0)
    >>> "35平方米" in t.description_zh
    True
    """
    packaged = load_profile(profile.name)
    if profile == packaged:
        return profile
    originals = {t.id: t for t in packaged.targets}
    targets = []
    for t in profile.targets:
        pk = originals.get(t.id)
        if pk is not None and t.original_threshold is None and t.threshold != pk.threshold:
            t = restate(dataclasses.replace(t, original_threshold=pk.threshold), pk.threshold)
        targets.append(t)
    parameters = {}
    for key, par in profile.parameters.items():
        old = packaged.parameters.get(key)
        if old is not None and par.original_value is None and par.value != old.value:
            par = dataclasses.replace(par, original_value=old.value)
        parameters[key] = par
    return dataclasses.replace(
        profile,
        name=stem if stem not in valid else f"{profile.name}-edited",
        based_on=profile.based_on or profile.name,
        targets=tuple(targets),
        parameters=FrozenMap(parameters),
    )
