"""Widget values that survive page changes, kept in one place.

Streamlit forgets the value of every widget that is not drawn in a run, so going
from one page to another and back would reset all settings. Every widget whose
value should outlive a page change is therefore drawn with a ``key`` and no
``value``, right after one call of this module:

* :func:`keep` for plain values, e.g. ``keep({"learn_units": 32})``;
* :func:`keep_choice`, :func:`keep_choices` and :func:`keep_number` for values
  that must also stay among a widget's current options or within its range.

Each call gives the key its remembered value (or the default the first time),
brings it into the options or range, and copies it to a key that Streamlit does
not clean up. :func:`reset` sets values from code (a preset, a shared link, new
data). Nothing else in the app reads or writes the remembered copies.

Finished runs are kept by :mod:`ui.running.runs`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

_KEEP = "_keep_"


def _restore(key: str, default: Any) -> None:
    """Give the key its remembered (or default) value if Streamlit dropped it."""
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get(_KEEP + key, default)


def _remember(key: str) -> None:
    """Copy the key's current value to a key that survives paging."""
    if key in st.session_state:
        st.session_state[_KEEP + key] = st.session_state[key]


def keep(defaults: Mapping[str, Any]) -> None:
    """Keep widget values across pages: call before drawing the widgets.

    Args:
        defaults: Widget key -> value used when nothing was remembered yet.
    """
    for key, default in defaults.items():
        _restore(key, default)
        _remember(key)


def reset(values: Mapping[str, Any]) -> None:
    """Set widget keys to new values (before their widgets are drawn)."""
    for key, value in values.items():
        st.session_state[key] = value
        st.session_state[_KEEP + key] = value


def keep_choice(key: str, options: Sequence[Any], default: Any) -> None:
    """Keep a select widget's value, and make sure it is one of its options."""
    _restore(key, default)
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    _remember(key)


def keep_choices(key: str, options: Sequence[Any], default: Sequence[Any]) -> None:
    """Keep a multiselect's values, dropping those not among its options.

    When every stored value was dropped, ``default`` is used instead; an empty
    choice stays empty.
    """
    _restore(key, list(default))
    current = st.session_state.get(key)
    if not isinstance(current, (list, tuple)):
        st.session_state[key] = list(default)
    else:
        kept = [value for value in current if value in options]
        st.session_state[key] = kept if kept or not current else list(default)
    _remember(key)


def keep_number(key: str, low: float, high: float, default: float) -> float | None:
    """Keep a number widget's value, clamped into ``[low, high]``.

    The value takes the type of ``default`` (``int`` or ``float``).

    Returns:
        The value before it was clamped, or ``None`` if it was in range.
    """
    _restore(key, default)
    value = st.session_state.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        value = default
    kept = type(default)(min(max(value, low), high))
    st.session_state[key] = kept
    _remember(key)
    return None if kept == value else value
