"""Exceptions and warnings raised by geoplan.

Every error about user input names the file, the row id and the column at fault,
so a planner can open the file and fix the exact cell.
"""

from __future__ import annotations

__all__ = [
    "DataQualityWarning",
    "GeoplanError",
    "InputError",
    "ProfileNotFound",
]


class GeoplanError(Exception):
    """Base class of every error geoplan raises on purpose."""


class InputError(GeoplanError, ValueError):
    """Bad input data: names the file, row id and column where known.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    file, row, column
        Where it is wrong; any may be None when it does not apply.

    Examples
    --------
    >>> str(InputError("households is negative", file="a.csv", row="C01", column="户数"))
    'a.csv: row C01: column 户数: households is negative'
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: object | None = None,
        column: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column {self.column}")
        parts.append(self.message)
        return ": ".join(parts)


class ProfileNotFound(GeoplanError, KeyError):
    """An unknown standards profile name; the message lists the valid ones."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataQualityWarning(UserWarning):
    """Input that geoplan can use but that a planner should look at."""
