"""CSV text: bytes from any source, encodings, the separator and the header.

:class:`CsvTable` turns a path, bytes or an open file into decoded text with its
separator and clean column names, and reads the table from it with pandas. It
copes with a UTF-8 byte order mark, UTF-16, CRLF line endings and Latin-1 /
Windows-1252 text; binary files and files without a header row are refused with
a :class:`~forecasting.settings.errors.DataError`. The helpers at the end match column
names and word the notes shared by the price and track readers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from forecasting.settings.errors import DataError

CsvSource = str | os.PathLike | bytes | typing.BinaryIO

HEAD_BYTES = 64 * 1024
_SNIFF_CHARS = 64 * 1024
_BYTES_NAME = "uploaded CSV"
_EMPTY_MESSAGE = (
    "The file is empty; choose a CSV file with a header row and rows of data."
)
_NOT_TEXT_MESSAGE = (
    "The file is not a text CSV file (it contains binary data); export the data "
    "as comma-, semicolon- or tab-separated text and try again."
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")
_DATA_LIKE_NAME = re.compile(r"[+-]?[\d.,:/ -]*\d[\d.,:/ -]*")
_UNNAMED = re.compile(r"Unnamed: \d+")


def _shown_path(source: str | os.PathLike) -> str:
    text = str(source)
    return text if len(text) <= 80 else text[:77] + "..."


def _path_bytes(source: str | os.PathLike, limit: int | None) -> bytes:
    shown = _shown_path(source)
    try:
        with Path(source).open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        raise DataError(
            f"File '{shown}' does not exist; check the path or upload the file."
        ) from None
    except IsADirectoryError:
        raise DataError(
            f"'{shown}' is a folder, not a file; choose a CSV file."
        ) from None
    except OSError as err:
        raise DataError(
            f"File '{shown}' could not be read ({err.strerror or err}); check "
            "that it exists and is readable."
        ) from None


def _file_bytes(source: typing.BinaryIO, limit: int | None) -> bytes:
    if hasattr(source, "getvalue"):
        data = source.getvalue()
        return data if limit is None else data[:limit]
    if limit is not None and getattr(source, "seekable", lambda: False)():
        position = source.tell()
        data = source.read(limit)
        source.seek(position)
        return data
    return source.read() if limit is None else source.read(limit)


def source_bytes(source: CsvSource, limit: int | None = None) -> tuple[bytes, str]:
    """Read raw bytes (at most ``limit``) and a display name from a source.

    Args:
        source: A path, bytes, or an open binary file (its position is restored
            when only ``limit`` bytes are read and it can seek).
        limit: Read at most this many bytes; None reads everything.

    Returns:
        ``(bytes, name)``: the name is the file name, or ``"uploaded CSV"``.

    Raises:
        DataError: If the file does not exist or cannot be read.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return (data if limit is None else data[:limit]), _BYTES_NAME
    if isinstance(source, (str, os.PathLike)):
        return _path_bytes(source, limit), Path(source).name
    if hasattr(source, "read"):
        raw_name = getattr(source, "name", None)
        name = Path(raw_name).name if isinstance(raw_name, str) else _BYTES_NAME
        data = _file_bytes(source, limit)
        if isinstance(data, str):
            data = data.encode("utf-8")
        return bytes(data), name
    raise DataError(
        f"Cannot read data from a {type(source).__name__}; pass a file path, "
        "bytes or an open binary file."
    )


def decode(data: bytes, notes: list[str], truncated: bool = False) -> str:
    """Decode CSV bytes to text.

    UTF-16 (with a byte order mark) and UTF-8 (with or without one) are tried
    first; anything else is read as Windows-1252, else Latin-1, with a note.

    Args:
        data: The file's bytes.
        notes: Remarks for the user; a note is appended for Latin-1 text.
        truncated: Whether ``data`` is only the head of a longer file (a
            multi-byte character cut at the end is then not an error).

    Returns:
        The text, without a byte order mark.

    Raises:
        DataError: If the data is empty or binary.
    """
    if not data.strip():
        raise DataError(_EMPTY_MESSAGE)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if truncated:
            data = data[: len(data) // 2 * 2]
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(_NOT_TEXT_MESSAGE) from None
    elif b"\x00" in data:
        raise DataError(_NOT_TEXT_MESSAGE)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            if truncated and err.start >= len(data) - 3:
                text = data[: err.start].decode("utf-8-sig")
            else:
                try:
                    text = data.decode("cp1252")
                except UnicodeDecodeError:
                    text = data.decode("latin-1")
                notes.append(
                    "The file is not UTF-8; it was read as Latin-1 (Windows-1252) text."
                )
    text = text.lstrip("\ufeff")
    sample = text[:_SNIFF_CHARS]
    if len(_CONTROL_CHARS.findall(sample)) > max(2, len(sample) // 200):
        raise DataError(_NOT_TEXT_MESSAGE)
    if not text.strip():
        raise DataError(_EMPTY_MESSAGE)
    return text


def sniff_separator(text: str) -> str:
    """Guess the separator (comma, semicolon or tab) from the header line.

    This is what ``pandas.read_csv(sep=None)`` does (``csv.Sniffer`` on the
    first line), limited to the three separators and kept outside pandas so that
    the fast C parser reads the file.

    Returns:
        The separator; a comma when the header has none of the three.
    """
    header = next((line for line in text.splitlines() if line.strip()), "")
    try:
        return csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def parser_error(err: Exception) -> DataError:
    """Turn a pandas parser error into a one-sentence :class:`DataError`."""
    detail = str(err).strip().splitlines()[-1] if str(err).strip() else ""
    detail = detail.replace("C error: ", "").rstrip(".")
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", detail)
    if match:
        expected, line, seen = match.groups()
        return DataError(
            f"Line {line} of the file has {seen} fields but the header has "
            f"{expected}; fix that line or export the file again."
        )
    return DataError(
        f"The file could not be read as CSV ({detail or type(err).__name__}); check "
        "that it is a comma-, semicolon- or tab-separated text file."
    )


def _clean_names(raw_names: Iterable[str]) -> list[str]:
    """Strip header names; repeats get a trailing ``_`` until unique."""
    names: list[str] = []
    for raw in raw_names:
        clean = raw.strip() or raw
        while clean in names:
            clean += "_"
        names.append(clean)
    return names


@dataclass
class CsvTable:
    """Decoded CSV text with its separator and clean column names.

    Attributes:
        text: The decoded text.
        sep: The separator.
        name: The file name (or ``"uploaded CSV"``).
        notes: Remarks for the user about how the text was read.
        names: Column names: stripped, repeats made unique, empty ones named
            ``Unnamed: n`` by pandas.
    """

    text: str
    sep: str
    name: str
    notes: list[str]
    names: list[str]

    @classmethod
    def open(cls, source: CsvSource, limit: int | None = None) -> CsvTable:
        """Read, decode and sniff a CSV source.

        Args:
            source: A path, the file's bytes, or an open binary file.
            limit: Read only the first ``limit`` bytes (up to the last full line).

        Returns:
            The table, not yet parsed beyond its header.

        Raises:
            DataError: If the file is empty, binary, not CSV, or its first row
                looks like data rather than column names.
        """
        data, name = source_bytes(source, limit)
        notes: list[str] = []
        truncated = limit is not None and len(data) >= limit
        text = decode(data, notes, truncated=truncated)
        if truncated and "\n" in text:
            text = text[: text.rindex("\n") + 1]
        table = cls(text, sniff_separator(text), name, notes, [])
        header = table._read_csv(nrows=0)
        table.names = _clean_names(str(c) for c in header.columns)
        if table.names and all(_DATA_LIKE_NAME.fullmatch(n) for n in table.names):
            raise DataError(
                "The first row looks like data, not column names; add a header "
                "row such as 'Date,Open,High,Low,Close' or 'ID,frame,X,Y'."
            )
        return table

    def _read_csv(self, **options: typing.Any) -> pd.DataFrame:
        if self.names:
            options = {"header": 0, "names": self.names, **options}
        try:
            return pd.read_csv(
                io.StringIO(self.text),
                sep=self.sep,
                skipinitialspace=True,
                index_col=False,
                **options,
            )
        except pd.errors.EmptyDataError:
            raise DataError(_EMPTY_MESSAGE) from None
        except (pd.errors.ParserError, ValueError) as err:
            raise parser_error(err) from None

    def read_text(self, nrows: int | None = None) -> pd.DataFrame:
        """Parse the table with every cell as a string (NaN where empty).

        Args:
            nrows: Read only this many data rows.

        Returns:
            The table with clean column names; entirely empty ``Unnamed: n``
            columns (from trailing separators) are removed.

        Raises:
            DataError: If a line has more fields than the header.
        """
        frame = self._read_csv(dtype=str, nrows=nrows)
        empty_unnamed = [
            c for c in frame.columns if _UNNAMED.fullmatch(c) and frame[c].isna().all()
        ]
        return frame.drop(columns=empty_unnamed)

    def read_rows(self) -> pd.DataFrame:
        """Parse the whole table as strings, as :meth:`read_text` does.

        Raises:
            DataError: If a line has more fields than the header, or the file
                has no data rows.
        """
        frame = self.read_text()
        if frame.empty:
            raise DataError(
                "The file has a header row but no data rows; add rows of data "
                "below the header."
            )
        return frame

    def read_numbers(
        self,
        columns: Sequence[str],
        decimal: str,
        thousands: str,
        missing: Mapping[str, Sequence[str]],
        nrows: int | None = None,
    ) -> pd.DataFrame:
        """Parse some columns as numbers with pandas' ``decimal`` and ``thousands``.

        Args:
            columns: Clean column names.
            decimal: The decimal mark, ``"."`` or ``","``.
            thousands: The thousands separator, ``","`` or ``"."``.
            missing: Column -> cells (as written) to read as missing.
            nrows: Read only this many data rows.

        Returns:
            The columns; one that still holds text had a cell pandas could not
            read as a number.
        """
        return self._read_csv(
            usecols=list(columns),
            decimal=decimal,
            thousands=thousands,
            na_values={c: list(v) for c, v in missing.items() if len(v)},
            nrows=nrows,
        )


def list_columns(source: CsvSource) -> list[str]:
    """Return the column names of a CSV file (after sniffing the separator).

    Only the beginning of a file on disk is read. An open file's position is
    restored when possible.

    Args:
        source: A path, the file's bytes, or an open binary file.

    Returns:
        Column names as :func:`~forecasting.data.read_tracking_csv` and
        :func:`~forecasting.data.read_price_csv` see them.

    Raises:
        DataError: If the file is empty or not text.
    """
    table = CsvTable.open(source, limit=HEAD_BYTES)
    try:
        return list(table.read_text(nrows=200).columns)
    except DataError:
        return list(table.names)


def match_column(columns: Sequence[str], wanted: str, what: str) -> str:
    """Find ``wanted`` among ``columns`` (exact, then case-insensitive).

    Args:
        columns: The column names.
        wanted: The name asked for.
        what: How to call it in the error, e.g. ``"Column"``.

    Returns:
        The column's actual name.

    Raises:
        DataError: If no column matches.
    """
    if wanted in columns:
        return wanted
    lowered = str(wanted).strip().lower()
    for column in columns:
        if column.lower() == lowered:
            return column
    raise DataError(
        f"{what} '{wanted}' is not in the data; choose one of: "
        f"{join_names(columns, limit=20)}."
    )


def find_named(
    columns: Sequence[str], candidates: Sequence[str], exclude: Iterable[str] = ()
) -> str | None:
    """Return the first column whose name matches a candidate (case-insensitive)."""
    excluded = set(exclude)
    lowered: dict[str, str] = {}
    for column in columns:
        if column not in excluded:
            lowered.setdefault(column.lower(), column)
    for candidate in candidates:
        if candidate.lower() in lowered:
            return lowered[candidate.lower()]
    return None


def join_names(names: Iterable[object], limit: int = 12) -> str:
    """Join names with commas, shortened to ``limit`` names and a total."""
    names = [str(n) for n in names]
    if len(names) > limit:
        return ", ".join(names[:limit]) + f", … ({len(names)} in total)"
    return ", ".join(names)


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``; ``plural_form`` for irregular words."""
    return f"{count} {singular if count == 1 else (plural_form or singular + 's')}"


def not_a_number_note(column: str, count: int) -> str:
    """The note for cells of a numeric column that are not numbers."""
    one = count == 1
    return (
        f"Column '{column}': {plural(count, 'value')} that {'is' if one else 'are'} "
        f"not a number {'was' if one else 'were'} treated as missing."
    )


def hash_parts(parts: Iterable[bytes]) -> str:
    """Hash byte strings (each with its length) to 16 hexadecimal characters."""
    digest = hashlib.blake2b(digest_size=8)
    for part in parts:
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()
