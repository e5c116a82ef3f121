"""Validated, frozen settings that flow from the sidebar or command line to training.

Every dataclass checks its values on creation and raises ``ValueError`` naming the
argument and the value, so a bad setting fails before any data is touched or any
model is built. The defaults are the original tutorial's: High column, train on
2016-2020, window 60, one layer of 125 units, RMSprop, 50 epochs, batch 32, seed 455.
:class:`EngineSettings` says where the training runs (the engine, its workers).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Literal

MODEL_KINDS: tuple[str, ...] = ("lstm", "gru", "simple_rnn")
"""The recurrent layer kinds that :func:`forecasting.nn.models.build_model` knows."""

MODEL_LABELS: dict[str, str] = {"lstm": "LSTM", "gru": "GRU", "simple_rnn": "SimpleRNN"}
"""Display names of the model kinds."""

OPTIMIZERS: tuple[str, ...] = ("rmsprop", "adam", "sgd")
"""Optimizer names accepted by :class:`TrainConfig`."""

OPTIMIZER_LABELS: dict[str, str] = {"rmsprop": "RMSprop", "adam": "Adam", "sgd": "SGD"}
"""Display names of the optimizers."""

SPLIT_METHODS: tuple[str, ...] = ("years", "fraction", "rows")
"""How a series is cut into a training and a test period."""

ENGINES: tuple[str, ...] = ("local", "ray")
"""Where training runs: :mod:`forecasting.runtime.engine`'s backends."""

TARGETS: tuple[str, ...] = ("level", "diff")
"""What the models learn: the level of the series, or its step-to-step change."""


def _check_int(
    name: str, value: object, minimum: int, maximum: int | None = None
) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= minimum
    if ok and maximum is not None:
        ok = value <= maximum
    if not ok:
        bound = (
            f"between {minimum} and {maximum}"
            if maximum is not None
            else f">= {minimum}"
        )
        raise ValueError(f"{name} must be an integer {bound}, got {value!r}")


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        valid = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {valid}, got {value!r}")


def _check_float(
    name: str, value: object, low: float, high: float, *, low_open: bool = False
) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    ok = is_number and math.isfinite(value) and value <= high  # type: ignore[arg-type]
    ok = ok and (value > low if low_open else value >= low)  # type: ignore[operator]
    if not ok:
        opening = "(" if low_open else "["
        raise ValueError(
            f"{name} must be a number in {opening}{low}, {high}], got {value!r}"
        )


@dataclass(frozen=True)
class SplitConfig:
    """How to cut a series into a training period and the test period after it.

    Use the constructors :meth:`by_years`, :meth:`by_fraction` and :meth:`by_rows`
    rather than filling the fields by hand.

    Attributes:
        method: ``"years"``, ``"fraction"`` or ``"rows"``.
        train_start_year: First training year (inclusive), for ``"years"``.
        train_end_year: Last training year (inclusive); the test starts the year after.
        test_end_year: Last test year (inclusive), or ``None`` for all remaining data.
        train_fraction: Share of the rows used for training, for ``"fraction"``.
        train_rows: Number of leading rows used for training, for ``"rows"``.
        test_rows: Number of rows after the training rows used for testing.
    """

    method: Literal["years", "fraction", "rows"] = "years"
    train_start_year: int = 2016
    train_end_year: int = 2020
    test_end_year: int | None = None
    train_fraction: float = 0.8
    train_rows: int = 2000
    test_rows: int = 1000

    def __post_init__(self) -> None:
        _check_choice("split method", self.method, SPLIT_METHODS)
        if self.method == "years":
            _check_int("train_start_year", self.train_start_year, 1000, 9999)
            _check_int("train_end_year", self.train_end_year, 1000, 9999)
            if self.train_end_year < self.train_start_year:
                raise ValueError(
                    f"train_end_year must not be before train_start_year, got "
                    f"{self.train_end_year} < {self.train_start_year}"
                )
            if self.test_end_year is not None:
                _check_int("test_end_year", self.test_end_year, 1000, 9999)
                if self.test_end_year <= self.train_end_year:
                    raise ValueError(
                        f"test_end_year must be after train_end_year "
                        f"({self.train_end_year}), got {self.test_end_year}"
                    )
        elif self.method == "fraction":
            _check_float(
                "train_fraction", self.train_fraction, 0.0, 0.99, low_open=True
            )
        else:
            _check_int("train_rows", self.train_rows, 2)
            _check_int("test_rows", self.test_rows, 1)

    @classmethod
    def by_years(cls, start: int, end: int, test_end: int | None = None) -> SplitConfig:
        """Train on ``start``..``end`` inclusive; test ``end + 1``..``test_end``."""
        return cls(
            "years", train_start_year=start, train_end_year=end, test_end_year=test_end
        )

    @classmethod
    def by_fraction(cls, fraction: float) -> SplitConfig:
        """Train on the first ``fraction`` of the rows, test on the rest."""
        return cls("fraction", train_fraction=fraction)

    @classmethod
    def by_rows(cls, train_rows: int, test_rows: int) -> SplitConfig:
        """Train on the first ``train_rows`` rows, test on the next ``test_rows``."""
        return cls("rows", train_rows=train_rows, test_rows=test_rows)

    def describe(self) -> str:
        """Return a short human-readable description, e.g. ``"train 2016-2020"``."""
        if self.method == "years":
            test = f"test {self.train_end_year + 1}"
            test += f"-{self.test_end_year}" if self.test_end_year else " onward"
            return f"train {self.train_start_year}-{self.train_end_year}, {test}"
        if self.method == "fraction":
            return f"train first {self.train_fraction:.0%}, test the rest"
        return f"train first {self.train_rows} rows, test next {self.test_rows}"


@dataclass(frozen=True)
class ModelConfig:
    """Architecture shared by every model kind of a comparison.

    Attributes:
        units: Units of each recurrent layer.
        layers: Number of stacked recurrent layers.
        dropout: Dropout rate after each recurrent layer (0 disables it).
    """

    units: int = 125
    layers: int = 1
    dropout: float = 0.0

    def __post_init__(self) -> None:
        _check_int("units", self.units, 1, 4096)
        _check_int("layers", self.layers, 1, 8)
        _check_float("dropout", self.dropout, 0.0, 0.9)


@dataclass(frozen=True)
class TrainConfig:
    """How each model is fitted.

    Attributes:
        optimizer: ``"rmsprop"``, ``"adam"`` or ``"sgd"``.
        learning_rate: Optimizer step size.
        epochs: Maximum number of passes over the training windows.
        batch_size: Windows per gradient step.
        seed: Seed for weights, dropout and shuffling; the same seed and config give
            the same predictions.
        early_stopping: Stop when the loss on a validation tail cut from the end of
            the training windows stops improving, and keep the best weights.
        patience: Epochs without improvement before stopping.
        validation_fraction: Share of the training windows held out (from the end)
            for early stopping.
        jit_compile: Compile the training and forecast steps with XLA (faster on
            CPU; turn it off if it misbehaves).
        seeds: Train each model this many times, with seeds ``seed``,
            ``seed + 1``, ...; predictions are averaged and metrics reported as
            mean and standard deviation over the seeds.
    """

    optimizer: str = "rmsprop"
    learning_rate: float = 0.001
    epochs: int = 50
    batch_size: int = 32
    seed: int = 455
    early_stopping: bool = False
    patience: int = 5
    validation_fraction: float = 0.1
    jit_compile: bool = True
    seeds: int = 1

    def __post_init__(self) -> None:
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_float("learning_rate", self.learning_rate, 0.0, 10.0, low_open=True)
        _check_int("epochs", self.epochs, 1, 10_000)
        _check_int("batch_size", self.batch_size, 1, 65_536)
        _check_int("seed", self.seed, 0, 2**31 - 1)
        _check_int("patience", self.patience, 1, 1000)
        _check_int("seeds", self.seeds, 1, 20)
        if self.seed + self.seeds - 1 > 2**31 - 1:
            raise ValueError(
                f"seed + seeds - 1 must be at most {2**31 - 1} (the last seed used), "
                f"got seed {self.seed} with {self.seeds} seeds; choose a smaller seed"
            )
        _check_float(
            "validation_fraction", self.validation_fraction, 0.0, 0.5, low_open=True
        )
        if not isinstance(self.early_stopping, bool):
            raise ValueError(
                f"early_stopping must be True or False, got {self.early_stopping!r}"
            )
        if not isinstance(self.jit_compile, bool):
            raise ValueError(
                f"jit_compile must be True or False, got {self.jit_compile!r}"
            )


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a comparison's numbers, besides the data itself.

    Attributes:
        columns: Target columns (features), e.g. ``("High",)`` or ``("X", "Y")``.
        split: How the series is cut into train and test.
        window: Past steps each prediction sees, ``(samples, window, features)``.
        scale_range: ``(low, high)`` of the MinMax scaler fitted on the train slice.
        models: Model kinds to train side by side, from :data:`MODEL_KINDS`.
        model: Architecture shared by all kinds.
        train: Fitting settings.
        target: ``"level"`` models the values (as the tutorials do); ``"diff"``
            models the step-to-step change, integrated back to levels for the
            metrics and charts.
    """

    columns: tuple[str, ...] = ("High",)
    split: SplitConfig = field(default_factory=SplitConfig)
    window: int = 60
    scale_range: tuple[float, float] = (0.0, 1.0)
    models: tuple[str, ...] = MODEL_KINDS
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    target: str = "level"

    def __post_init__(self) -> None:
        if isinstance(self.columns, str) or not self.columns:
            raise ValueError(
                f"columns must be a non-empty tuple of names, got {self.columns!r}"
            )
        if len(set(self.columns)) != len(self.columns):
            raise ValueError(f"columns must not repeat a name, got {self.columns!r}")
        object.__setattr__(self, "columns", tuple(self.columns))
        _check_int("window", self.window, 2, 100_000)
        low, high = self._range_pair()
        if not low < high:
            raise ValueError(
                "scale_range must be (low, high) with low < high, got "
                f"{self.scale_range!r}"
            )
        object.__setattr__(self, "scale_range", (low, high))
        if isinstance(self.models, str) or not self.models:
            raise ValueError(
                "models must name at least one of "
                f"{', '.join(repr(k) for k in MODEL_KINDS)}, got {self.models!r}"
            )
        for kind in self.models:
            _check_choice("model kind", kind, MODEL_KINDS)
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"models must not repeat a kind, got {self.models!r}")
        object.__setattr__(self, "models", tuple(self.models))
        _check_choice("target", self.target, TARGETS)

    def describe(self) -> str:
        """The settings in one line, for headings, captions and the preset list.

        Example: ``"High · train 2016-2020, test 2021 onward · window 60 · LSTM, GRU
        · 125 units · 50 epochs · RMSprop lr 0.001 · batch 32 · seed 455"``;
        settings at their defaults that the tutorials rarely change (dropout,
        early stopping, one seed, the level target, the 0..1 scale, XLA on) are
        left out.
        """
        model, train = self.model, self.train
        size = f"{model.units} units" + (
            f" × {model.layers} layers" if model.layers > 1 else ""
        )
        parts = [
            ", ".join(self.columns),
            self.split.describe(),
            f"window {self.window}",
            ", ".join(MODEL_LABELS[k] for k in self.models),
            size,
            f"{train.epochs} epochs",
            f"{OPTIMIZER_LABELS[train.optimizer]} lr {train.learning_rate:g}",
            f"batch {train.batch_size}",
            f"seed {train.seed}",
        ]
        if model.dropout:
            parts.append(f"dropout {model.dropout:g}")
        if train.early_stopping:
            parts.append(f"early stopping (patience {train.patience})")
        if train.seeds > 1:
            parts.append(f"{train.seeds} seeds")
        if self.target == "diff":
            parts.append("learns differences")
        if self.scale_range != (0.0, 1.0):
            low, high = self.scale_range
            parts.append(f"scaled to {low:g}..{high:g}")
        if not train.jit_compile:
            parts.append("XLA off")
        return " · ".join(parts)

    def _range_pair(self) -> tuple[float, float]:
        try:
            low, high = (float(v) for v in self.scale_range)
        except (TypeError, ValueError):
            raise ValueError(
                f"scale_range must be two numbers (low, high), got {self.scale_range!r}"
            ) from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise ValueError(f"scale_range must be finite, got {self.scale_range!r}")
        return low, high


TRACKS_DEFAULT = ExperimentConfig(
    columns=("X", "Y"), split=SplitConfig(method="rows"), models=("gru",)
)
"""The tracking defaults (the fly tutorial's): X/Y, train 2000 rows, test the next
1000, one GRU; everything else as :class:`ExperimentConfig`."""


# Where training runs ------------------------------------------------------------------
WORKER_INITIALIZER = "forecasting.nn.setup:warm_up"
"""What a worker process calls first (a name, so the runtime imports no nn)."""


@dataclass(frozen=True)
class EngineSettings:
    """Which engine to use, from flags or the environment.

    Attributes:
        engine: ``"local"`` or ``"ray"`` (``FORECASTING_ENGINE``).
        workers: Worker processes (local) or concurrent tasks (ray); ``None`` for
            one per core (``FORECASTING_WORKERS``).
        ray_address: A Ray cluster's address (``RAY_ADDRESS``); ``None`` starts a
            local Ray for the run.
        surge: Spare local workers (``FORECASTING_SURGE``; the app's default 3,
            one tutorial comparison: a student arriving behind others' long runs
            starts at once; see :mod:`forecasting.runtime.policy`).
        initializer: ``"module:function"`` every worker calls once with its
            thread count before its first job: the networks' package imports
            TensorFlow there (:func:`forecasting.nn.setup.warm_up`).
    """

    engine: str = "local"
    workers: int | None = None
    ray_address: str | None = None
    surge: int = 3
    initializer: str = WORKER_INITIALIZER

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(
                f"engine must be one of {', '.join(ENGINES)}, got {self.engine!r}"
            )
        workers = self.workers
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
        ):
            raise ValueError(f"workers must be a positive integer, got {workers!r}")
        surge = self.surge
        if isinstance(surge, bool) or not isinstance(surge, int) or surge < 0:
            raise ValueError(f"surge must be 0 or more workers, got {surge!r}")

    @classmethod
    def from_env(
        cls,
        engine: str | None = None,
        workers: int | None = None,
        default_surge: int = 3,
    ) -> EngineSettings:
        """Flags first, then ``FORECASTING_ENGINE`` / ``_WORKERS`` / ``_SURGE``.

        ``default_surge`` applies when ``FORECASTING_SURGE`` is unset: the app's
        3, the command line's 1.
        """
        if workers is None:
            workers = _env_int("FORECASTING_WORKERS", "a positive integer")
        surge = _env_int("FORECASTING_SURGE", "0 or more workers")
        return cls(
            engine=engine or os.environ.get("FORECASTING_ENGINE", "local") or "local",
            workers=workers,
            ray_address=os.environ.get("RAY_ADDRESS") or None,
            surge=default_surge if surge is None else surge,
        )


def _env_int(name: str, meaning: str) -> int | None:
    """An integer environment variable, ``None`` when unset."""
    text = os.environ.get(name, "").strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{name} must be {meaning}, got {text!r}") from None
