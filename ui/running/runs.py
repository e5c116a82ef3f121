"""Finished runs kept per page for the session, so results outlive a page change.

Trained comparisons are kept per page in :class:`RunRecord` objects, so results
stay on screen when the student visits another page, and going back to settings
that were already trained in this session shows their results at once.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:
    from forecasting.analysis.compare import Comparison, Transfer

_RUNS = "_runs"
_MAX_RUNS_PER_PAGE = 6


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
