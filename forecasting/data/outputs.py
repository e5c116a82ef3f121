"""What the project writes: CSV a spreadsheet cannot run, text shown as text.

A cell of text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is a formula to Excel, LibreOffice and Google Sheets. Ids, column names
and file names come from the user's data, so every CSV we write goes through
:func:`csv_text` or :func:`csv_cell`, which put a ``'`` before such text (the
OWASP advice); numbers are left alone. :func:`read_cell` undoes it for a CSV we
read back.

Names and values from the user (a link, a file, its columns, a ticker) are shown
by the app inside Markdown, where ``[a](http://x)`` is a link and ``![](...)``
an image. :func:`markdown_text` escapes the marks that format, so Markdown
shows the text as it is, on one line; :func:`shorten` cuts a name to a length.

:func:`check_output_path` tells, before any training, whether a file can be
written where the user asked, so a run's results are never lost at its end.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pandas as pd

from forecasting.settings.errors import DataError

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""How a text cell that a spreadsheet would run as a formula begins."""
NAME_LIMIT = 60
"""Characters of a user's name or value shown in a sentence."""
TEXT_LIMIT = 600
"""Characters of a whole message shown on a page."""
_MARKDOWN = re.compile(
    r"([\\`*_{}\[\]<>#|~$&@])"  # emphasis, code, links, HTML, maths, e-mail
    r"|(:)(?=/)|(?<=www)(\.)",  # the autolinks http://... and www....
    re.IGNORECASE,
)


def shorten(text: object, limit: int = NAME_LIMIT) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis.

    Example: ``shorten("a b" + "c" * 99, 6) == "a bcc…"``.
    """
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def markdown_text(text: object, limit: int = TEXT_LIMIT) -> str:
    """``text`` for Markdown that shows it as plain text: no link, no image.

    Args:
        text: Anything; shown as ``str(text)``, on one line.
        limit: Characters kept (:func:`shorten`).

    Returns:
        The text with a backslash before each mark that Markdown, GitHub's
        extensions or Streamlit read as formatting (CommonMark shows an escaped
        mark as itself); quotes, commas and full stops stay as they are.
    """
    return _MARKDOWN.sub(lambda m: "\\" + m.group(), shorten(text, limit))


def markdown_name(name: object) -> str:
    """A user's name or value for Markdown: plain and cut to :data:`NAME_LIMIT`."""
    return markdown_text(name, NAME_LIMIT)


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
