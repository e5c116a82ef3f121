"""Widget values that survive page changes, kept in one place.

Streamlit forgets the value of every widget that is not drawn in a run, so going
from one page to another and back would reset all settings. Pages therefore call
:func:`restore` before drawing their widgets (which are created with a ``key`` and
no ``value``) and :func:`remember` after, which copies the values to keys that
Streamlit does not clean up.

Finished runs are kept by :mod:`ui.running.runs`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import streamlit as st

_KEEP = "_keep_"


def restore(defaults: Mapping[str, Any]) -> None:
    """Give each widget key its remembered (or default) value before drawing it.

    Args:
        defaults: Widget key -> value used when nothing was remembered yet.
    """
    for key, default in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = st.session_state.get(_KEEP + key, default)


def remember(keys: Iterable[str]) -> None:
    """Copy the current values of these widget keys to keys that survive paging."""
    for key in keys:
        if key in st.session_state:
            st.session_state[_KEEP + key] = st.session_state[key]


def reset(defaults: Mapping[str, Any]) -> None:
    """Set widget keys to new values (before their widgets are drawn)."""
    for key, value in defaults.items():
        st.session_state[key] = value
        st.session_state[_KEEP + key] = value


def keep_choice(key: str, options: Sequence[Any], default: Any) -> None:
    """Make sure a select widget's stored value is one of its current options."""
    if st.session_state.get(key) not in options:
        st.session_state[key] = default


def keep_choices(key: str, options: Sequence[Any], default: Sequence[Any]) -> None:
    """Drop stored multiselect values that are not among the current options."""
    current = st.session_state.get(key)
    if not isinstance(current, (list, tuple)):
        st.session_state[key] = list(default)
        return
    kept = [value for value in current if value in options]
    st.session_state[key] = kept if kept or not current else list(default)


def keep_number(key: str, low: float, high: float, default: float) -> None:
    """Clamp a stored number into ``[low, high]`` (or use ``default`` if unset)."""
    value = st.session_state.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        value = default
    st.session_state[key] = type(default)(min(max(value, low), high))
