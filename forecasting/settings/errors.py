"""The error every part of the core raises for bad input."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """Bad input data.

    ``str(err)`` is one sentence saying what is wrong and what to do, suitable for
    showing to the user as is.
    """
