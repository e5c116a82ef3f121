"""Inside the cell: a trained layer's hidden state and gates across one window.

A :class:`CellJob` takes a trained model (the bytes of its ``.keras`` file) and one
scaled input window, and on a worker (TensorFlow is imported only in
:meth:`CellJob.run`):

1. rebuilds the model's recurrent layers with ``return_sequences=True`` and the
   same weights, so Keras returns the hidden state ``h`` after every step;
2. recomputes the same recurrence in numpy from the layer's weights
   (:func:`cell_states`), which also gives what Keras does not return: the LSTM's
   cell state and the gate values of LSTM and GRU;
3. checks that the numpy ``h`` equals Keras' ``h`` (else the job fails).

:func:`forecasting.charts.cell.cell_figure` draws the result: the input on top
and one heat map (units x steps) per state or gate below, on a shared time axis.

Keras 3's weights of one recurrent layer, ``layer.get_weights()``, are
``[kernel, recurrent_kernel, bias]`` for all three kinds, with the gates side by
side along the last axis, ``units`` columns each:

* **LSTM**: kernel ``(inputs, 4 * units)``, recurrent kernel ``(units, 4 * units)``,
  bias ``(4 * units,)``; gate order **i, f, c, o** (input gate, forget gate,
  candidate cell state, output gate). Gates use the sigmoid, candidate and output
  tanh: ``c_t = f * c_{t-1} + i * g`` and ``h_t = o * tanh(c_t)``.
* **GRU** (``reset_after=True``, Keras' default): kernel ``(inputs, 3 * units)``,
  recurrent kernel ``(units, 3 * units)``, bias ``(2, 3 * units)`` (row 0 is added
  to the input part, row 1 to the recurrent part); gate order **z, r, h** (update
  gate, reset gate, candidate). The reset gate multiplies the recurrent part
  *after* the matrix product: ``h~ = tanh(x W_h + b_h + r * (h_{t-1} U_h + b'_h))``
  and ``h_t = z * h_{t-1} + (1 - z) * h~``.
* **SimpleRNN**: kernel ``(inputs, units)``, recurrent kernel ``(units, units)``,
  bias ``(units,)``; ``h_t = tanh(x W + h_{t-1} U + b)``.

Every state starts at zero, as in Keras.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from forecasting.nn.jobs import Report, model_from_bytes
from forecasting.settings.config import MODEL_KINDS, MODEL_LABELS

if TYPE_CHECKING:
    import keras

    from forecasting.prep.windows import Windows

TOLERANCE = 1e-4
"""Largest difference between the numpy and the Keras hidden states a job accepts."""

STATE_NAMES: dict[str, tuple[str, ...]] = {
    "lstm": ("h", "c", "i", "f", "o", "g"),
    "gru": ("h", "z", "r", "candidate"),
    "simple_rnn": ("h",),
}
"""The arrays :func:`cell_states` returns per kind, in display order."""

STATE_LABELS: dict[str, str] = {
    "h": "hidden state h",
    "c": "cell state c",
    "i": "input gate i",
    "f": "forget gate f",
    "o": "output gate o",
    "g": "candidate c̃",
    "z": "update gate z",
    "r": "reset gate r",
    "candidate": "candidate h̃",
}
"""Display names of the states and gates."""

GATES: frozenset[str] = frozenset({"i", "f", "o", "z", "r"})
"""The sigmoid gates: values in 0..1 (0 = closed, 1 = open)."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow


def _weights(
    kind: str, x: np.ndarray, kernel: Any, recurrent_kernel: Any, bias: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """Check the shapes of one layer's weights; return them as float64 arrays."""
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind]
    x = np.asarray(x, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    recurrent = np.asarray(recurrent_kernel, dtype=np.float64)
    bias = np.asarray(bias, dtype=np.float64)
    units = recurrent.shape[0] if recurrent.ndim == 2 else 0
    bias_shape = (2, gates * units) if kind == "gru" else (gates * units,)
    if x.ndim != 2:
        raise ValueError(f"x must be (steps, inputs), got shape {x.shape}")
    if (
        units == 0
        or kernel.shape != (x.shape[1], gates * units)
        or recurrent.shape != (units, gates * units)
        or bias.shape != bias_shape
    ):
        raise ValueError(
            f"weights of a {MODEL_LABELS[kind]} layer with {x.shape[1]} inputs must "
            f"be kernel (inputs, {gates} * units), recurrent kernel (units, {gates} "
            f"* units) and bias {bias_shape if units else '(..)'}, got "
            f"{kernel.shape}, {recurrent.shape} and {bias.shape}"
        )
    return x, kernel, recurrent, bias, units


def _put(out: dict[str, np.ndarray], t: int, **values: np.ndarray) -> None:
    for name, value in values.items():
        out[name][t] = value


def cell_states(
    kind: str, x: np.ndarray, kernel: Any, recurrent_kernel: Any, bias: Any
) -> dict[str, np.ndarray]:
    """Run one recurrent layer over one sequence in numpy, keeping every step.

    Args:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        x: The layer's input ``(steps, inputs)``.
        kernel: Input weights ``(inputs, gates * units)`` (module docstring).
        recurrent_kernel: Recurrent weights ``(units, gates * units)``.
        bias: ``(gates * units,)``; for GRU ``(2, 3 * units)``.

    Returns:
        Name -> ``(steps, units)`` float64 array, names as in :data:`STATE_NAMES`:
        ``h`` for every kind; LSTM also ``c``, ``i``, ``f``, ``o``, ``g``; GRU also
        ``z``, ``r``, ``candidate``. Row ``t`` is the value after reading step ``t``.

    Raises:
        ValueError: An unknown kind or weights of the wrong shapes.
    """
    if kind not in STATE_NAMES:
        valid = ", ".join(repr(k) for k in MODEL_KINDS)
        raise ValueError(f"kind must be one of {valid}, got {kind!r}")
    x, kernel, recurrent, bias, u = _weights(kind, x, kernel, recurrent_kernel, bias)
    steps = len(x)
    out = {name: np.zeros((steps, u)) for name in STATE_NAMES[kind]}
    h, c = np.zeros(u), np.zeros(u)
    if kind == "gru":
        from_x = x @ kernel + bias[0]
        for t in range(steps):
            from_h = h @ recurrent + bias[1]
            z = _sigmoid(from_x[t, :u] + from_h[:u])
            r = _sigmoid(from_x[t, u : 2 * u] + from_h[u : 2 * u])
            candidate = np.tanh(from_x[t, 2 * u :] + r * from_h[2 * u :])
            h = z * h + (1.0 - z) * candidate
            _put(out, t, h=h, z=z, r=r, candidate=candidate)
        return out
    from_x = x @ kernel + bias
    for t in range(steps):
        total = from_x[t] + h @ recurrent
        if kind == "simple_rnn":
            h = np.tanh(total)
            out["h"][t] = h
            continue
        i, f = _sigmoid(total[:u]), _sigmoid(total[u : 2 * u])
        g, o = np.tanh(total[2 * u : 3 * u]), _sigmoid(total[3 * u :])
        c = f * c + i * g
        h = o * np.tanh(c)
        _put(out, t, h=h, c=c, i=i, f=f, o=o, g=g)
    return out


@dataclass(frozen=True)
class CellTrace:
    """What one recurrent layer did over one window.

    Attributes:
        kind: Model kind, e.g. ``"lstm"``.
        layer: Which recurrent layer (0 = the one that reads the input).
        window: The model's input ``(steps, features)``, scaled.
        inputs: The layer's own input ``(steps, inputs)`` (``window`` for layer 0,
            the hidden states of the layer below otherwise).
        states: Name -> ``(steps, units)`` (see :func:`cell_states`).
        keras_h: The hidden states Keras returned ``(steps, units)``.
        max_difference: Largest ``|states["h"] - keras_h|``.
    """

    kind: str
    layer: int
    window: np.ndarray
    inputs: np.ndarray
    states: dict[str, np.ndarray]
    keras_h: np.ndarray
    max_difference: float

    @property
    def units(self) -> int:
        """Units of the layer."""
        return int(self.keras_h.shape[1])


@dataclass(frozen=True)
class CellJob:
    """Look inside one recurrent layer of a trained model over one window.

    Attributes:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"`` (the model's layers).
        model_file: The trained model's ``.keras`` bytes.
        window: One input window ``(steps, features)``, scaled like the training
            windows.
        layer: Which recurrent layer to look into (0 = the first).
        estimate: Estimated seconds of work.
    """

    kind: str
    model_file: bytes = field(repr=False)
    window: np.ndarray = field(repr=False)
    layer: int = 0
    estimate: float = 3.0

    def __post_init__(self) -> None:
        if self.kind not in STATE_NAMES:
            valid = ", ".join(repr(k) for k in MODEL_KINDS)
            raise ValueError(f"kind must be one of {valid}, got {self.kind!r}")
        shape = np.shape(self.window)
        if len(shape) != 2 or 0 in shape:
            raise ValueError(f"window must be (steps, features), got shape {shape}")
        if not np.isfinite(self.window).all():
            raise ValueError("window must hold finite numbers, got NaN or infinity")
        if isinstance(self.layer, bool) or not isinstance(self.layer, int):
            raise ValueError(f"layer must be an integer, got {self.layer!r}")
        if self.layer < 0:
            raise ValueError(f"layer must be 0 or more, got {self.layer}")

    @property
    def label(self) -> str:
        """E.g. ``"LSTM: inside the cell"``."""
        return f"{MODEL_LABELS[self.kind]}: inside the cell"

    def key(self) -> str:
        """The model, the window and the layer identify the result."""
        h = hashlib.sha256()
        window = np.ascontiguousarray(self.window, dtype=np.float32)
        for part in (self.kind, self.layer, window.shape, window.tobytes()):
            h.update(part if isinstance(part, bytes) else repr(part).encode())
            h.update(b"|")
        h.update(self.model_file)
        return "cell:" + h.hexdigest()[:32]

    def run(self, report: Report) -> CellTrace:
        """Rebuild, run and recompute the layer (imports TensorFlow).

        Raises:
            ValueError: The model has no such layer, or its layers are not of
                ``kind`` or use other activations than tanh and sigmoid.
            RuntimeError: numpy and Keras disagree by more than :data:`TOLERANCE`.
        """
        model = model_from_bytes(self.model_file)
        layers = _recurrent_layers(model, self.kind)
        if self.layer >= len(layers):
            raise ValueError(
                f"layer must be below {len(layers)} (the model's recurrent layers), "
                f"got {self.layer}"
            )
        window = np.asarray(self.window, dtype=np.float32)
        sequences = keras_sequences(layers[: self.layer + 1], window)
        inputs = window if self.layer == 0 else sequences[self.layer - 1]
        states = cell_states(self.kind, inputs, *layers[self.layer].get_weights())
        keras_h = sequences[self.layer]
        difference = float(np.max(np.abs(states["h"] - keras_h)))
        if not difference <= TOLERANCE:
            raise RuntimeError(
                f"The numpy recurrence differs from Keras by {difference:.2e} "
                f"(more than {TOLERANCE:g}); the weight layout is not understood."
            )
        return CellTrace(
            kind=self.kind,
            layer=self.layer,
            window=window,
            inputs=np.asarray(inputs),
            states=states,
            keras_h=keras_h,
            max_difference=difference,
        )


def _recurrent_layers(model: keras.Model, kind: str) -> list[keras.layers.Layer]:
    """The model's recurrent layers, checked to be ``kind`` with tanh and sigmoid."""
    import keras

    classes = {
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
        "simple_rnn": keras.layers.SimpleRNN,
    }
    layers = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    if not layers or not all(isinstance(x, classes[kind]) for x in layers):
        found = ", ".join(type(x).__name__ for x in layers) or "none"
        raise ValueError(
            f"the model's recurrent layers must be {MODEL_LABELS[kind]}, got {found}"
        )
    for layer in layers:
        config = layer.get_config()
        activations = (config["activation"], config.get("recurrent_activation"))
        if activations[0] != "tanh" or activations[1] not in (None, "sigmoid"):
            raise ValueError(
                "only tanh layers with sigmoid gates can be recomputed, got "
                f"activations {activations}"
            )
        if kind == "gru" and not config["reset_after"]:
            raise ValueError("only GRU layers with reset_after=True are supported")
        if not config["use_bias"]:
            raise ValueError("only recurrent layers with biases are supported")
    return layers


def keras_sequences(
    layers: Sequence[keras.layers.Layer], window: np.ndarray
) -> list[np.ndarray]:
    """Keras' hidden states after every step, for each layer of a stack.

    Builds a new Keras model of copies of ``layers`` (in order, each feeding the
    next) with ``return_sequences=True`` and the same weights. Dropout between
    the layers does nothing at prediction time, so it is left out.

    Args:
        layers: Trained recurrent layers, the first reading ``window``.
        window: One input window ``(steps, features)``.

    Returns:
        One ``(steps, units)`` float32 array per layer.
    """
    import keras

    window = np.asarray(window, dtype=np.float32)
    inputs = keras.Input(shape=window.shape)
    x, outputs, copies = inputs, [], []
    for layer in layers:
        config = layer.get_config()
        config.update(return_sequences=True, return_state=False)
        config.pop("name", None)
        copy = type(layer).from_config(config)
        x = copy(x)
        outputs.append(x)
        copies.append(copy)
    probe = keras.Model(inputs, outputs)
    for copy, layer in zip(copies, layers, strict=True):
        copy.set_weights(layer.get_weights())
    values = probe(window[None], training=False)
    values = values if isinstance(values, (list, tuple)) else [values]
    return [keras.ops.convert_to_numpy(v)[0].astype(np.float32) for v in values]


# Which window -----------------------------------------------------------------------


def window_count(windows: Windows) -> int:
    """Number of windows a student can pick: the training ones, then the test ones."""
    return len(windows.x_train) + len(windows.x_test)


def window_at(windows: Windows, position: int) -> tuple[np.ndarray, pd.Index, Any]:
    """One model input by its place among the training and then the test windows.

    Window ``position`` predicts the row ``p`` of the whole series (training rows
    then test rows) with ``p = position + windows.context_rows`` and reads the
    steps ending at the rows ``p - window .. p - 1`` (for ``target="diff"`` each
    step is the change *to* that row).

    Args:
        windows: A comparison's windows.
        position: ``0 .. window_count(windows) - 1``; the last training window is
            ``len(windows.x_train) - 1``.

    Returns:
        ``(window (steps, features) scaled, index labels of its steps, label of the
        row it predicts)``.

    Raises:
        ValueError: If ``position`` is out of range.
    """
    n_train, count = len(windows.x_train), window_count(windows)
    if isinstance(position, bool) or not 0 <= position < count:
        raise ValueError(f"position must be in 0..{count - 1}, got {position!r}")
    split = windows.split
    rows = split.train_index.append(split.test_index)
    if position < n_train:
        x, predicted = windows.x_train[position], position + windows.context_rows
    else:
        x, predicted = windows.x_test[position - n_train], len(split.train_index)
        predicted += position - n_train
    return np.asarray(x), rows[predicted - windows.window : predicted], rows[predicted]
