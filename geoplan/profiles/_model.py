"""The profile model: the frozen :class:`Profile`, its look-ups, derive and to_toml.

One job: a whole profile. It is built from the schema's records
(``_schema``: Source, Parameter, Target), validated by ``_parse`` (which also
reads TOML text, see :func:`parse_profile`) and written back by ``_toml``.
Imports run one way: ``_schema`` <- ``_texts`` <- ``_parse`` / ``_toml`` <- here.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from geoplan._errors import InputError, ProfileNotFound
from geoplan.profiles._catchment import Catchment
from geoplan.profiles._parse import (
    check_profile,
    parse_parameter_value,
    parse_profile_fields,
    parse_threshold,
)
from geoplan.profiles._schema import (
    AUDITS,
    MEASURES,
    TARGET_REQUIRED,
    FrozenMap,
    Parameter,
    ParameterValue,
    Source,
    Target,
)
from geoplan.profiles._texts import restate
from geoplan.profiles._toml import profile_to_toml


@dataclass(frozen=True)
class Profile:
    """A standards profile: targets, the sources they cite and the parameters used.

    Frozen: :meth:`derive` returns a new profile; nothing here changes in place.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("mofcom-15min")
    >>> [t.id for t in p.targets_for("coverage")][:2]
    ['walk_convenience_store', 'walk_breakfast']
    """

    name: str
    title_zh: str
    title_en: str
    targets: tuple[Target, ...]
    sources: Mapping[str, Source] = field(default_factory=FrozenMap)
    parameters: Mapping[str, Parameter] = field(default_factory=FrozenMap)
    catchments: tuple[Catchment, ...] = ()
    description_zh: str | None = None
    description_en: str | None = None
    based_on: str | None = None
    path: str | None = field(default=None, compare=False)

    def target(self, target_id: str) -> Target:
        """The target with this id; :class:`ProfileNotFound` (a KeyError) lists the valid ids.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").target("village_service_area").threshold
        300.0
        """
        for t in self.targets:
            if t.id == target_id:
                return t
        valid = ", ".join(t.id for t in self.targets)
        raise ProfileNotFound(
            f"profile {self.name!r} has no target {target_id!r}; valid ids: {valid}"
        )

    def catchment(self, catchment_id: str) -> Catchment:
        """The ``[[catchments]]`` table with this id; :class:`InputError` lists the valid ids.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> c = load_profile("city-health-check").catchment("park_service_radius")
        >>> [(r.min, r.max, r.within_m) for r in c.rules]
        [(5000.0, None, 500.0), (2000.0, 5000.0, 300.0)]
        """
        for c in self.catchments:
            if c.id == catchment_id:
                return c
        valid = ", ".join(c.id for c in self.catchments) or "none"
        raise InputError(
            f"profile {self.name!r} has no catchment {catchment_id!r}; valid ids: {valid}",
            row=catchment_id,
            column="catchment",
        )

    def catchment_for(self, category: str) -> Catchment | None:
        """The first catchment for ``category`` (file order), or None when it has none.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("city-health-check")
        >>> p.catchment_for("park").id, p.catchment_for("school") is None
        ('park_service_radius', True)
        """
        return next((c for c in self.catchments if c.category == category), None)

    def targets_for(self, audit: str) -> tuple[Target, ...]:
        """The targets one audit checks, in file order.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> len(load_profile("ningxia-2025").targets_for("grids"))
        2
        """
        if audit not in MEASURES:
            raise ProfileNotFound(f"unknown audit {audit!r}; valid audits: {', '.join(AUDITS)}")
        return tuple(t for t in self.targets if t.audit == audit)

    def parameter(self, name: str) -> ParameterValue:
        """The value of a parameter; :class:`ProfileNotFound` lists the valid names.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").parameter("max_snap_m")
        300.0
        """
        try:
            return self.parameters[name].value
        except KeyError:
            valid = ", ".join(self.parameters)
            raise ProfileNotFound(
                f"profile {self.name!r} has no parameter {name!r}; valid names: {valid}"
            ) from None

    def number(self, name: str) -> float:
        """A numeric parameter as ``float``; :class:`InputError` if it is not a number.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").number("walk_speed_m_per_min")
        75.0
        """
        value = self.parameter(name)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(
                f"parameter {name!r} of profile {self.name!r} must be a number, not {value!r}",
                column=name,
            )
        return float(value)

    def walk_speed(self, *, elderly: bool = False) -> float:
        """Walking speed in m/min: ``walk_speed_m_per_min``, or the elderly speed.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("tianjin-2025")
        >>> p.walk_speed(), p.walk_speed(elderly=True)
        (75.0, 60.0)
        """
        return self.number("walk_speed_elderly_m_per_min" if elderly else "walk_speed_m_per_min")

    def names(self, name: str) -> tuple[str, ...]:
        """A list-of-names parameter (e.g. ``service_facility_categories``) as a tuple.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> "community_service_centre" in load_profile("tianjin-2025").names(
        ...     "service_facility_categories")
        True
        """
        value = self.parameter(name)
        if isinstance(value, str) or not isinstance(value, tuple | list):
            raise InputError(
                f"parameter {name!r} of profile {self.name!r} must be a list of names",
                column=name,
            )
        return tuple(str(v) for v in value)

    def source_of(self, target: Target | str) -> Source:
        """The source document a target (or target id) cites.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("tianjin-2025")
        >>> p.source_of("workers_per_10k").seed
        'seeds/000_932ce8e390e76d05.txt'
        """
        t = self.target(target) if isinstance(target, str) else target
        return self.sources[t.source]

    def to_frame(self) -> pd.DataFrame:
        """One row per target (indexed by id) for display in a notebook or the CLI.

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> load_profile("tianjin-2025").to_frame().loc["activity_share", "clause"]
        '主要指标 第3项 (Indicator 3); 重点任务 04 (Task 04)'
        """
        keys = (*TARGET_REQUIRED[:4], "comparator", "threshold", "unit", "scope", "source")
        keys += ("clause", "confirmed")
        rows = [{k: getattr(t, k) for k in keys} for t in self.targets]
        return pd.DataFrame(rows).set_index("id")

    def derive(
        self,
        name: str | None = None,
        *,
        title_zh: str | None = None,
        title_en: str | None = None,
        thresholds: Mapping[str, float | Sequence[float]] | None = None,
        parameters: Mapping[str, ParameterValue | Sequence[str]] | None = None,
        drop: Iterable[str] = (),
        add: Iterable[Target] = (),
        sources: Mapping[str, Source] | None = None,
    ) -> Profile:
        """A new profile with some thresholds or parameters changed; this one is untouched.

        Changed targets keep their source and clause and record the document's
        figure in ``original_threshold`` (parameters: ``original_value``), so a
        report can say the threshold was set locally; their descriptions are
        rewritten to state the new figure (or, where no figure is found, the
        local threshold is appended). ``drop`` removes targets by
        id; ``add`` appends targets (their sources must be in this profile or in
        ``sources``).

        Examples
        --------
        >>> from geoplan.profiles import load_profile
        >>> base = load_profile("ningxia-2025")
        >>> mine = base.derive("yinchuan", thresholds={"grid_households": [200, 400]},
        ...                    parameters={"walk_speed_m_per_min": 70.0})
        >>> t = mine.target("grid_households")
        >>> t.threshold, t.original_threshold
        ((200.0, 400.0), (300.0, 500.0))
        >>> t.description_en
        'A grid covers 200 to 400 households'
        >>> base.parameter("walk_speed_m_per_min"), mine.parameter("walk_speed_m_per_min")
        (75.0, 70.0)
        """
        where = f"derive({name or self.name!r})"
        thresholds = dict(thresholds or {})
        known = {t.id for t in self.targets}
        dropped = set(drop)
        for tid in list(thresholds) + sorted(dropped):
            if tid not in known:
                raise ProfileNotFound(
                    f"profile {self.name!r} has no target {tid!r}; valid ids: {', '.join(known)}"
                )
        new_targets: list[Target] = []
        for t in self.targets:
            if t.id in dropped:
                continue
            if t.id in thresholds:
                value = parse_threshold(thresholds[t.id], t.comparator, file=where, row=t.id)
                original = t.original_threshold if t.original_threshold is not None else t.threshold
                before = t.threshold
                t = dataclasses.replace(t, threshold=value, original_threshold=original)
                t = restate(t, before)  # the descriptions state the new figure
            new_targets.append(t)
        new_targets.extend(add)
        new_parameters = dict(self.parameters)
        for pname, pvalue in (parameters or {}).items():
            if pname not in new_parameters:
                raise ProfileNotFound(
                    f"profile {self.name!r} has no parameter {pname!r}; "
                    f"valid names: {', '.join(new_parameters)}"
                )
            old = new_parameters[pname]
            checked = parse_parameter_value(pname, pvalue, file=where)
            original_value = old.original_value if old.original_value is not None else old.value
            new_parameters[pname] = dataclasses.replace(
                old, value=checked, original_value=original_value
            )
        new_sources = dict(self.sources)
        new_sources.update(sources or {})
        derived = Profile(
            name=name or f"{self.name}-custom",
            title_zh=title_zh or self.title_zh,
            title_en=title_en or self.title_en,
            targets=tuple(new_targets),
            sources=FrozenMap(new_sources),
            parameters=FrozenMap(new_parameters),
            catchments=self.catchments,
            description_zh=self.description_zh,
            description_en=self.description_en,
            based_on=self.name,
        )
        check_profile(
            derived.targets,
            sources=derived.sources,
            parameters=derived.parameters,
            file=where,
            catchments=derived.catchments,
        )
        return derived

    def to_toml(self) -> str:
        """The profile as TOML text that :func:`load_profile` reads back to an equal profile.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from geoplan.profiles import load_profile
        >>> p = load_profile("gb50180-2018")
        >>> f = pathlib.Path(tempfile.mkdtemp()) / "copy.toml"
        >>> _ = f.write_text(p.to_toml(), encoding="utf-8")
        >>> load_profile(f) == p
        True
        """
        return profile_to_toml(self)


def parse_profile(text: str, *, file: str) -> Profile:
    """The profile in TOML ``text``, validated; errors name ``file``, target and key.

    Examples
    --------
    >>> from geoplan.profiles import load_profile
    >>> p = load_profile("gb50180-2018")
    >>> parse_profile(p.to_toml(), file="copy.toml") == p
    True
    >>> try:
    ...     parse_profile("[profile]", file="bad.toml")
    ... except InputError as err:
    ...     print(err)
    bad.toml: row [profile]: column name: missing key 'name'
    """
    return Profile(**parse_profile_fields(text, file=file), path=file)
