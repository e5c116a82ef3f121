"""Cached training with live progress, safe when several sessions train at once.

:func:`train_cached` is the one place where the dashboard trains models. It is an
``st.cache_resource`` function keyed by the data fingerprint, the full
:class:`~forecasting.config.ExperimentConfig`, the free-run length and the track
flag; the frame and the callbacks are passed as underscore arguments, which
Streamlit does not hash. Asking again for settings that were trained before (by
any session) returns the same :class:`~forecasting.compare.Comparison` at once.

Streamlit records ``st`` calls made inside a cached function in order to replay
them on a cache hit, and cannot replay calls on placeholders created outside the
function. So the cached function never touches Streamlit: it runs in a worker
thread, its callbacks only put events on a queue, and the page's own thread reads
the queue and draws the progress bars (:func:`train_with_progress`).

Keras and TensorFlow keep process-wide state (random seeds, name counters), so
every training, model build and forecast goes through
:func:`forecasting.training.exclusive`; a session that has to wait says so.
"""

from __future__ import annotations

import logging
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import metrics
from forecasting.compare import Comparison, ModelRun, Transfer, apply_to, run_comparison
from forecasting.config import MODEL_LABELS, ExperimentConfig
from forecasting.training import ProgressCallback, exclusive

if TYPE_CHECKING:
    import keras

LOG = logging.getLogger(__name__)

WAIT_MESSAGE = "Waiting for another session's training to finish…"
"""Shown while another browser session holds the training lock."""

CALLS: dict[str, int] = {"train": 0, "transfer": 0, "waits": 0}
"""How often each cached function really ran (not served from the cache), and
how often a page showed :data:`WAIT_MESSAGE` (for tests and curious teachers)."""

_CALLS_LOCK = threading.Lock()
_POLL_SECONDS = 0.2

T = TypeVar("T")
Event = tuple[Any, ...]
Emit = Callable[[Event], None]


def _count(name: str) -> None:
    with _CALLS_LOCK:
        CALLS[name] += 1


def cache_key(
    fingerprint: str, config: ExperimentConfig, rollout_steps: int, tracks: bool
) -> str:
    """Identify one trained comparison (the same values key :func:`train_cached`)."""
    return f"{fingerprint}|{config!r}|{rollout_steps}|{tracks}"


@st.cache_resource(show_spinner=False, max_entries=12)
def train_cached(
    fingerprint: str,
    config: ExperimentConfig,
    rollout_steps: int,
    tracks: bool,
    _frame: pd.DataFrame,
    _progress: ProgressCallback | None = None,
    _on_model_done: Callable[[ModelRun], None] | None = None,
    _on_wait: Callable[[], None] | None = None,
) -> Comparison:
    """Train and score every model of ``config`` on ``_frame`` (once per key).

    Args:
        fingerprint: Identifies the data in ``_frame`` (part of the cache key).
        config: All settings (part of the cache key).
        rollout_steps: Free-run forecast length, 0 for none (part of the key).
        tracks: Score as 2-D tracks (part of the key).
        _frame: The series; not hashed, ``fingerprint`` stands for it.
        _progress: ``progress(kind, epoch, epochs, logs)`` after every epoch.
        _on_model_done: Called with each model's run as soon as it is ready.
        _on_wait: Called if another session is training and this one waits.

    Returns:
        The comparison.

    Raises:
        DataError: If the data does not fit the settings.
    """
    _count("train")
    with exclusive(on_wait=_on_wait):
        return run_comparison(
            _frame,
            config,
            progress=_progress,
            rollout_steps=rollout_steps,
            tracks=tracks,
            on_model_done=_on_model_done,
        )


@st.cache_resource(show_spinner=False, max_entries=24)
def transfer_cached(
    run_key: str,
    other_key: str,
    _comparison: Comparison,
    _frame: pd.DataFrame,
    _on_wait: Callable[[], None] | None = None,
) -> Transfer:
    """Apply a comparison's trained models to another series (once per pair).

    Args:
        run_key: The comparison's :func:`cache_key`.
        other_key: Identifies the other series (e.g. data fingerprint + ID).
        _comparison: The trained comparison (stands behind ``run_key``).
        _frame: The other series (stands behind ``other_key``).
        _on_wait: Called if another session is training and this one waits.

    Returns:
        The transfer result.
    """
    _count("transfer")
    with exclusive(on_wait=_on_wait):
        return apply_to(_comparison, _frame)


def _in_worker(
    work: Callable[[Emit], T], on_event: Callable[[Event], None], name: str
) -> T:
    """Run ``work(emit)`` in a thread; hand its events to ``on_event`` here.

    While nothing happens, ``on_event(("tick",))`` is called every 0.2 s, so the
    page can show that it is still busy.

    Returns:
        What ``work`` returned.

    Raises:
        Exception: Whatever ``work`` raised.
    """
    events: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def target() -> None:
        try:
            result = work(events.put)
        except BaseException as err:  # handed to the page thread below
            events.put(("error", err))
        else:
            events.put(("result", result))

    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    while True:
        try:
            event = events.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if not thread.is_alive() and events.empty():
                raise RuntimeError("the worker thread ended without a result") from None
            on_event(("tick",))
            continue
        if event[0] == "result":
            return event[1]
        if event[0] == "error":
            raise event[1]
        on_event(event)


def _format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


def _loss_text(logs: dict[str, float]) -> str:
    parts = [f"loss {logs['loss']:.5f}"] if "loss" in logs else []
    if "val_loss" in logs:
        parts.append(f"val loss {logs['val_loss']:.5f}")
    return ", ".join(parts)


class _ProgressBoard:
    """Per-model progress bars, a status line and the finished models' numbers."""

    def __init__(
        self,
        config: ExperimentConfig,
        test: np.ndarray | None,
        tracks: bool,
        started: float,
    ):
        self.config = config
        self.test = test
        self.tracks = tracks
        self.started = started
        self.shown_at = 0.0
        self.current = config.models[0]
        self.epoch_seen = False
        self.waiting = False
        self.rows: list[dict[str, Any]] = []
        box = st.container(border=True)
        self.status = box.empty()
        self.bars = {}
        for kind in config.models:
            self.bars[kind] = box.progress(0.0, text=f"{MODEL_LABELS[kind]}: waiting")
        self.table = box.empty()
        self._say_training(config.models[0])

    def _say_training(self, kind: str) -> None:
        self.current = kind
        self.shown_at = time.perf_counter()
        n = self.config.models.index(kind) + 1
        total = len(self.config.models)
        elapsed = _format_seconds(self.shown_at - self.started)
        if self.epoch_seen:
            note = "The first epoch of each model includes compiling it."
        else:
            note = (
                "Loading TensorFlow and compiling the model first: the first epoch "
                "takes longest."
            )
        self.status.info(
            f"Training **{MODEL_LABELS[kind]}** (model {n} of {total}), "
            f"{elapsed} so far. {note}",
            icon=":material/model_training:",
        )

    def handle(self, event: Event) -> None:
        """Update the board for one event from the training thread."""
        what = event[0]
        if what == "tick":
            if not self.waiting and time.perf_counter() - self.shown_at >= 1.0:
                self._say_training(self.current)  # keeps the clock running
        elif what == "wait":
            _count("waits")
            self.waiting = True
            self.status.warning(WAIT_MESSAGE, icon=":material/hourglass_top:")
        elif what == "epoch":
            _, kind, epoch, epochs, logs = event
            self.waiting = False
            self.epoch_seen = True
            label = MODEL_LABELS[kind]
            self.bars[kind].progress(
                min(epoch / epochs, 1.0),
                text=f"{label}: epoch {epoch}/{epochs}, {_loss_text(logs)}",
            )
            self._say_training(kind)
        elif what == "model":
            self._model_done(event[1])

    def _model_done(self, run: ModelRun) -> None:
        train = run.train
        stopped = (
            f", stopped early (best epoch {train.best_epoch})"
            if train.epochs_run < self.config.train.epochs
            else ""
        )
        self.bars[run.kind].progress(
            1.0,
            text=f"{run.label}: done, {train.epochs_run} epochs in "
            f"{train.fit_seconds:.1f} s{stopped}",
        )
        row: dict[str, Any] = {"model": run.label}
        if self.test is not None and run.predictions.shape == self.test.shape:
            scores = metrics.score(self.test, run.predictions, self.tracks)
            row.update({metrics.METRIC_NAMES[k]: v for k, v in scores.items()})
        row.update({"fit time (s)": train.fit_seconds, "parameters": train.params})
        if len(run.trains) > 1:
            row["seeds"] = len(run.trains)
        self.rows.append(row)
        self.table.dataframe(
            pd.DataFrame(self.rows).set_index("model"), width="stretch"
        )
        following = self.config.models.index(run.kind) + 1
        if following < len(self.config.models):
            self._say_training(self.config.models[following])


def train_with_progress(
    fingerprint: str,
    frame: pd.DataFrame,
    config: ExperimentConfig,
    rollout_steps: int = 0,
    tracks: bool = False,
    test: np.ndarray | None = None,
) -> tuple[Comparison, float]:
    """Train (or fetch from the cache) with per-model progress bars on the page.

    Args:
        fingerprint: Identifies ``frame``'s data.
        frame: The series to train on.
        config: All settings.
        rollout_steps: Free-run forecast length (0 for none).
        tracks: Score as 2-D tracks.
        test: The real test rows, to show each model's errors as it finishes.

    Returns:
        ``(comparison, seconds)``; ``seconds`` is the wall time of this call.

    Raises:
        DataError: If the data does not fit the settings.
        ValueError: For other bad settings.
    """
    started = time.perf_counter()

    def work(emit: Emit) -> Comparison:
        return train_cached(
            fingerprint,
            config,
            rollout_steps,
            tracks,
            frame,
            lambda kind, epoch, epochs, logs: emit(
                ("epoch", kind, epoch, epochs, logs)
            ),
            lambda run: emit(("model", run)),
            lambda: emit(("wait",)),
        )

    slot = st.empty()
    board: list[_ProgressBoard] = []

    def on_event(event: Event) -> None:
        # Drawn on the first event or tick (0.2 s), so a cache hit shows nothing.
        if not board:
            with slot.container():
                board.append(_ProgressBoard(config, test, tracks, started))
        board[0].handle(event)

    try:
        comparison = _in_worker(work, on_event, "rnn-training")
    finally:
        slot.empty()
    seconds = time.perf_counter() - started
    if board:  # something was trained (not a cache hit): point to the results
        slot.success(
            f"Trained {len(config.models)} model(s) in {_format_seconds(seconds)}; "
            "the results are below.",
            icon=":material/check_circle:",
        )
    return comparison, seconds


def transfer_with_wait(
    run_key: str, other_key: str, comparison: Comparison, frame: pd.DataFrame
) -> Transfer:
    """Apply trained models to another series, saying so if another session trains.

    Returns:
        The transfer result (cached per ``run_key`` and ``other_key``).
    """
    slot = st.empty()

    def work(emit: Emit) -> Transfer:
        return transfer_cached(
            run_key, other_key, comparison, frame, lambda: emit(("wait",))
        )

    def on_event(event: Event) -> None:
        if event[0] == "wait":
            _count("waits")
            slot.warning(WAIT_MESSAGE, icon=":material/hourglass_top:")

    with st.spinner("Forecasting the other individual…"):
        try:
            return _in_worker(work, on_event, "rnn-transfer")
        finally:
            slot.empty()


def model_bytes(model: keras.Model) -> bytes:
    """Return a trained model as the bytes of a ``.keras`` file.

    Keras writes ``.keras`` files only to paths, so the model is saved to a
    temporary folder and read back.
    """
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def report_unexpected(err: BaseException) -> None:
    """Log an unexpected error with its traceback and tell the user in one line."""
    LOG.error("Unexpected error in the dashboard", exc_info=err)
    st.error(
        f"Something went wrong ({type(err).__name__}); try smaller settings, or "
        "reload the page if it happens again."
    )


def check_with_keras(
    kinds: tuple[str, ...], window: int, n_features: int, units: int, layers: int
) -> dict[str, tuple[int, str]]:
    """Build each model kind in Keras and return its weight count and summary.

    TensorFlow is imported here, on demand. Building goes through the training
    lock, because creating layers draws from Keras' global random state that a
    training in another session relies on.

    Returns:
        Kind -> ``(model.count_params(), model.summary() text)``.
    """
    from forecasting.models import build_model

    slot = st.empty()
    result: dict[str, tuple[int, str]] = {}
    with (
        st.spinner("Loading TensorFlow and building the models…"),
        exclusive(on_wait=lambda: slot.warning(WAIT_MESSAGE)),
    ):
        for kind in kinds:
            model = build_model(
                kind, window=window, n_features=n_features, units=units, layers=layers
            )
            result[kind] = (int(model.count_params()), _summary_text(model))
    slot.empty()
    return result


def _summary_text(model: keras.Model) -> str:
    """``model.summary()`` as plain text."""
    parts: list[str] = []
    model.summary(print_fn=lambda text, **_: parts.append(text))
    return "\n".join(parts)
