"""Shareable links' values as text: parsers, formatting and the address.

The Streamlit-free half of :mod:`ui.forms.links`. A link's parameters are flat names
-> text; each setting has a *parser* (:data:`Parser`) that turns the text into
its value or raises ``ValueError`` saying what is allowed, and
:func:`format_value` writes a value back (lists comma separated, booleans
``true`` / ``false``, days ``YYYY-MM-DD``, ``None`` as empty text).
:func:`parse_params` reads a link one parameter at a time (an unknown or
invalid one gives one warning sentence naming it and keeps its default),
:func:`format_params` writes only the values that differ from the defaults, and
:func:`page_address` / :func:`query_string` put them in the page's address.

Nothing here imports Streamlit (a test checks this); the pages' setups, their
widget values and the two calls a page makes are in :mod:`ui.forms.links`.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from forecasting.data.outputs import shorten

Parser = Callable[[str], Any]
"""Turns a link's text into a value; raises ``ValueError`` saying what is allowed."""

_EMBED = ("embed", "embed_options")
"""Streamlit's own parameters, never read as settings."""

# --------------------------------------------------------------------------------
# Values <-> text
# --------------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A setting's value as link text: ``"lstm,gru"``, ``"true"``, ``"0.001"``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def integer(low: int, high: int) -> Parser:
    """A parser of whole numbers in ``[low, high]``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise ValueError(
                f"it must be a whole number from {low} to {high}"
            ) from None
        if not low <= value <= high:
            raise ValueError(f"it must be a whole number from {low} to {high}")
        return value

    return parse


def number(low: float, high: float) -> Parser:
    """A parser of finite numbers in ``[low, high]``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise ValueError(f"it must be a number from {low:g} to {high:g}")
        return value

    return parse


def choice(options: Sequence[Any]) -> Parser:
    """A parser of one of ``options`` (compared as text; the option is returned)."""
    by_text = {format_value(option): option for option in options}

    def parse(text: str) -> Any:
        if text not in by_text:
            raise ValueError(f"it must be one of {', '.join(by_text)}")
        return by_text[text]

    return parse


def choices(options: Sequence[str]) -> Parser:
    """A parser of a comma-separated list of distinct ``options`` (may be empty)."""

    def parse(text: str) -> list[str]:
        items = [item.strip() for item in text.split(",")] if text else []
        wrong = [item for item in items if item not in options]
        if wrong or len(set(items)) != len(items):
            raise ValueError(f"it must list distinct values among {', '.join(options)}")
        return items

    return parse


def boolean(text: str) -> bool:
    """Parse ``true`` / ``false`` (also ``1`` / ``0``, ``yes`` / ``no``)."""
    lowered = text.strip().lower()
    if lowered in {"true", "1", "yes", "on"}:
        return True
    if lowered in {"false", "0", "no", "off"}:
        return False
    raise ValueError("it must be true or false")


def iso_date(text: str) -> dt.date:
    """Parse a day written ``YYYY-MM-DD`` (1970 to 2100)."""
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError("it must be a day written YYYY-MM-DD") from None
    if not dt.date(1970, 1, 1) <= value <= dt.date(2100, 12, 31):
        raise ValueError("it must be a day from 1970 to 2100")
    return value


def symbol(text: str) -> str:
    """Parse a ticker symbol such as ``MA`` or ``BRK-B`` (upper-cased)."""
    if not re.fullmatch(r"[A-Za-z0-9.^=\-]{1,20}", text.strip()):
        raise ValueError("it must be a ticker symbol such as MA")
    return text.strip().upper()


def optional_year(low: int, high: int) -> Parser:
    """A parser of a year in ``[low, high]``, or ``""`` for none."""
    year = integer(low, high)
    return lambda text: None if text == "" else year(text)


def _unknown(name: str) -> str:
    return (
        f"The link's parameter {shorten(name)!r} is not a setting of this page; "
        "it is ignored."
    )


def _invalid(name: str, text: str, why: str, default: Any) -> str:
    shown = format_value(default) or "none"
    return (
        f"The link's {shorten(name)} value {shorten(text)!r} cannot be used "
        f"({why}); the default {shown!r} is used instead."
    )


def parse_params(
    params: Mapping[str, str],
    parsers: Mapping[str, Parser],
    defaults: Mapping[str, Any],
    ignored: Sequence[str] = (),
) -> tuple[dict[str, Any], list[str]]:
    """Read a link's parameters one by one; a bad one keeps its default.

    Args:
        params: Parameter name -> text, as in the address.
        parsers: Name -> parser, for every name this page can read now.
        defaults: Name -> default value, for every name of ``parsers``.
        ignored: Names skipped without a warning (they cannot apply now, e.g.
            the columns of an upload).

    Returns:
        The setup (every name of ``defaults``, from the link where valid) and
        one warning sentence per unknown or invalid parameter.
    """
    setup = dict(defaults)
    warnings: list[str] = []
    for name, text in params.items():
        if name in _EMBED or name in ignored:
            continue
        if name not in parsers:
            warnings.append(_unknown(name))
            continue
        try:
            setup[name] = parsers[name](text)
        except ValueError as err:
            warnings.append(_invalid(name, text, str(err), defaults.get(name)))
    return setup, warnings


def format_params(
    setup: Mapping[str, Any], defaults: Mapping[str, Any], always: Sequence[str] = ()
) -> dict[str, str]:
    """The link's parameters: the setup's values that differ from the defaults.

    Args:
        setup: Name -> value, in the order the parameters are written.
        defaults: Name -> default value.
        always: Names written even at their default (e.g. a ticker's dates).
    """
    return {
        name: format_value(value)
        for name, value in setup.items()
        if name in always or value != defaults.get(name)
    }


def page_address(base: str | None, params: Mapping[str, str]) -> str:
    """The full link: the page's address in the browser and the parameters.

    Args:
        base: The page's address without parameters (``st.context.url``), or
            ``None`` when unknown (then only ``"?..."`` is returned).
        params: The link's parameters.
    """
    if not base:
        return query_string(params)
    parts = urlsplit(base)
    path = parts.path or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")) + query_string(params)


def query_string(params: Mapping[str, str]) -> str:
    """``"?epochs=3&models=lstm,gru"`` (``""`` for no parameters)."""
    if not params:
        return ""
    return "?" + urlencode(params, safe=",:")
