"""The ``geoplan`` command line: a thin click layer over the library.

Exit codes: 0 when every check passes, 1 when the audit ran and found failures,
2 on bad input or usage. Only this package configures logging.
"""

from __future__ import annotations

from geoplan.cli._main import main

__all__ = ["main"]
