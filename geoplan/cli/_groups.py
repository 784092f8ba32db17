"""Click groups that several command modules attach to (``audit``: floor-area and
organisations from ``cli/audit.py``, development from ``cli/development.py``), so no
command module imports another."""

from __future__ import annotations

import click


@click.group("audit")
def audit() -> None:
    """Audit communities against a standards profile."""
