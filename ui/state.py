"""Session state: widget values and training results that survive page changes.

Streamlit forgets the value of every widget that is not drawn in a run, so going
from one page to another and back would reset all settings. Pages therefore call
:func:`restore` before drawing their widgets (which are created with a ``key`` and
no ``value``) and :func:`remember` after, which copies the values to keys that
Streamlit does not clean up.

Trained comparisons are kept per page in :class:`RunRecord` objects, so results
stay on screen when the student visits another page, and going back to settings
that were already trained in this session shows their results at once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison, Transfer

_KEEP = "_keep_"
_RUNS = "_runs"
_MAX_RUNS_PER_PAGE = 6


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


@dataclass
class RunRecord:
    """A finished comparison and what is needed to show it again.

    Attributes:
        key: Identifies data + settings (the training cache key).
        comparison: The trained comparison.
        data_label: Where the data came from, e.g. ``"mastercard"``.
        summary: The settings in one line, for headings.
        seconds: Wall time of the training run (0 if it came from the cache).
        extras: Page-specific values (e.g. the individual's ID).
        transfers: Other individual -> result of applying the models to it.
    """

    key: str
    comparison: Comparison
    data_label: str
    summary: str
    seconds: float = 0.0
    extras: dict[str, Any] = field(default_factory=dict)
    transfers: dict[str, Transfer] = field(default_factory=dict)


def _runs(page: str) -> OrderedDict[str, RunRecord]:
    runs = st.session_state.setdefault(_RUNS, {})
    return runs.setdefault(page, OrderedDict())


def store_run(page: str, record: RunRecord) -> None:
    """Keep a page's newest result (and a few earlier ones) for this session."""
    runs = _runs(page)
    runs.pop(record.key, None)
    runs[record.key] = record
    while len(runs) > _MAX_RUNS_PER_PAGE:
        runs.popitem(last=False)


def find_run(page: str, key: str) -> RunRecord | None:
    """Return the page's result for exactly these data and settings, if trained."""
    return _runs(page).get(key)


def last_run(page: str) -> RunRecord | None:
    """Return the page's most recent result, if any."""
    runs = _runs(page)
    return next(reversed(runs.values())) if runs else None
