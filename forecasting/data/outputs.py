"""What the project writes: CSV a spreadsheet cannot run, paths checked first.

A cell of text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula to Excel, LibreOffice and Google Sheets. Ids, column names
and file names come from the user's data, so every CSV we write goes through
:func:`csv_text` or :func:`csv_cell`, which put a ``'`` before such text (the
OWASP advice); numbers are left alone. :func:`read_cell` undoes it for a CSV we
read back.

:func:`check_output_path` tells, before any training, whether a file can be
written where the user asked, so a run's results are never lost at its end.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.settings.errors import DataError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""How a text cell that a spreadsheet would run as a formula begins."""


def csv_cell(value: Any) -> Any:
    """``value``, with a ``'`` before text that would start a formula.

    Example: ``csv_cell("=1+1") == "'=1+1"``; ``csv_cell(-2.5) == -2.5``.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def read_cell(value: Any) -> Any:
    """Undo :func:`csv_cell` for a cell read back from our own CSV."""
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in FORMULA_START:
        return value[1:]
    return value


def csv_text(frame: pd.DataFrame, **to_csv: Any) -> str:
    """``frame.to_csv(**to_csv)`` with every text cell and name escaped.

    Args:
        frame: Any frame ``(rows, columns)``; it is not changed.
        **to_csv: Passed on to :meth:`pandas.DataFrame.to_csv`; an
            ``index_label`` is escaped too.

    Returns:
        The CSV text.
    """
    safe = frame.copy()
    safe.columns = [csv_cell(name) for name in safe.columns]
    for position in range(safe.shape[1]):
        column = safe.iloc[:, position]
        if not pd.api.types.is_numeric_dtype(column):
            safe.isetitem(position, column.map(csv_cell))
    if not pd.api.types.is_numeric_dtype(safe.index):
        safe.index = safe.index.map(csv_cell)
    safe.index.name = csv_cell(safe.index.name)
    if "index_label" in to_csv:
        to_csv["index_label"] = csv_cell(to_csv["index_label"])
    return safe.to_csv(**to_csv)


def check_output_path(path: str | os.PathLike, flag: str) -> Path:
    """Check that a file can be written at ``path``, before any work starts.

    Args:
        path: Where the output goes; a file that exists is kept as it is.
        flag: How the user named it (``"--out"``), for the message.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        DataError: One sentence naming ``flag`` and the path when it is a
            folder, its folder does not exist, or it cannot be written.
    """
    out = Path(path)
    if out.is_dir():
        raise DataError(f"{flag} {out} is a folder; give a file name inside it.")
    if not out.parent.is_dir():
        raise DataError(
            f"{flag} {out}: the folder {out.parent} does not exist; create it "
            "or choose another path."
        )
    existed = out.exists()
    try:
        with out.open("a"):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise DataError(
            f"{flag} {out} cannot be written ({reason}); choose another path."
        ) from None
    if not existed:
        out.unlink()
    return out
