"""Audits: each returns an :class:`~geoplan.audit.results.AuditResult`.

Every audit is exported here and loads on first use (``import geoplan.audit`` reads
no audit module).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from geoplan.audit.access import audit_access
    from geoplan.audit.assign import assign_facilities
    from geoplan.audit.coverage import audit_coverage
    from geoplan.audit.development import audit_development
    from geoplan.audit.floor_area import audit_floor_area
    from geoplan.audit.organisations import audit_organisations
    from geoplan.audit.results import AuditResult

_LAZY = {
    "AuditResult": "geoplan.audit.results",
    "assign_facilities": "geoplan.audit.assign",
    "audit_access": "geoplan.audit.access",
    "audit_coverage": "geoplan.audit.coverage",
    "audit_development": "geoplan.audit.development",
    "audit_floor_area": "geoplan.audit.floor_area",
    "audit_organisations": "geoplan.audit.organisations",
}

__all__ = [
    "AuditResult",
    "assign_facilities",
    "audit_access",
    "audit_coverage",
    "audit_development",
    "audit_floor_area",
    "audit_organisations",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'geoplan.audit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
