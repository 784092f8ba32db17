"""Audits: each returns an :class:`~geoplan.audit.results.AuditResult`."""

from __future__ import annotations

from geoplan.audit.assign import assign_facilities
from geoplan.audit.floor_area import audit_floor_area
from geoplan.audit.organisations import audit_organisations
from geoplan.audit.results import AuditResult

__all__ = ["AuditResult", "assign_facilities", "audit_floor_area", "audit_organisations"]
