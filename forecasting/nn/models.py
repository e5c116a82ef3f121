"""One factory for the three recurrent model kinds.

TensorFlow is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forecasting.settings.config import MODEL_KINDS, ModelConfig

if TYPE_CHECKING:
    import keras


def _layer_class(kind: str) -> type:
    import keras

    classes = {
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
        "simple_rnn": keras.layers.SimpleRNN,
    }
    if kind not in classes:
        valid = ", ".join(repr(k) for k in MODEL_KINDS)
        raise ValueError(f"model kind must be one of {valid}, got {kind!r}")
    return classes[kind]


def build_model(
    kind: str,
    window: int,
    n_features: int,
    units: int = 125,
    layers: int = 1,
    dropout: float = 0.0,
    n_outputs: int | None = None,
) -> keras.Model:
    """Build an uncompiled stacked recurrent model.

    The model maps windows ``(samples, window, n_features)`` to next-step values
    ``(samples, n_outputs)``: ``layers`` recurrent layers of ``units`` (tanh), each
    but the last returning sequences, an optional dropout after each, and a Dense
    output with one unit per output feature.

    Args:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        window: Time steps per input window.
        n_features: Features per time step.
        units: Units per recurrent layer.
        layers: Number of stacked recurrent layers.
        dropout: Dropout rate after each recurrent layer; 0 adds no Dropout layer.
        n_outputs: Output units; defaults to ``n_features``.

    Returns:
        A ``keras.Sequential`` named after the kind.

    Raises:
        ValueError: If ``kind`` is unknown (the message lists the valid kinds) or a
            size is out of range.
    """
    layer_class = _layer_class(kind)
    ModelConfig(units=units, layers=layers, dropout=dropout)  # validates the sizes
    if not isinstance(window, int) or window < 1:
        raise ValueError(f"window must be a positive integer, got {window!r}")
    if not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"n_features must be a positive integer, got {n_features!r}")
    import keras

    stack: list[keras.layers.Layer] = [keras.Input(shape=(window, n_features))]
    for i in range(layers):
        stack.append(
            layer_class(units, activation="tanh", return_sequences=i < layers - 1)
        )
        if dropout > 0:
            stack.append(keras.layers.Dropout(dropout))
    stack.append(keras.layers.Dense(n_outputs or n_features))
    return keras.Sequential(stack, name=kind)


_GATES = {"lstm": 4, "gru": 3, "simple_rnn": 1}
_BIASES = {"lstm": 1, "gru": 2, "simple_rnn": 1}  # Keras' GRU: reset_after=True


def parameter_count(
    kind: str,
    units: int,
    n_features: int,
    layers: int = 1,
    n_outputs: int | None = None,
) -> int:
    """Count a model's weights without building it (no TensorFlow import).

    Each recurrent layer has ``gates * (units * (inputs + units) + biases * units)``
    weights: 4 gates for LSTM, 3 for GRU (with two bias vectors, as Keras builds it
    with ``reset_after=True``), 1 for SimpleRNN. The Dense output adds
    ``units * n_outputs + n_outputs``. Dropout has no weights. The result equals
    ``build_model(...).count_params()`` and the total of ``model.summary()``.

    Args:
        kind: ``"lstm"``, ``"gru"`` or ``"simple_rnn"``.
        units: Units per recurrent layer.
        n_features: Features per input step.
        layers: Stacked recurrent layers.
        n_outputs: Output units; defaults to ``n_features``.

    Returns:
        The number of weights.

    Raises:
        ValueError: If ``kind`` is unknown.
    """
    if kind not in _GATES:
        valid = ", ".join(repr(k) for k in MODEL_KINDS)
        raise ValueError(f"model kind must be one of {valid}, got {kind!r}")
    total, inputs = 0, n_features
    for _ in range(layers):
        total += _GATES[kind] * (units * (inputs + units) + _BIASES[kind] * units)
        inputs = units
    outputs = n_outputs or n_features
    return total + units * outputs + outputs
