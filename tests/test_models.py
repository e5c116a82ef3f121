import pytest

from forecasting.nn.models import build_model, parameter_count
from forecasting.settings.config import MODEL_KINDS


def expected_params(kind: str, units: int, n_in: int, n_out: int) -> int:
    gates = {"lstm": 4, "gru": 3, "simple_rnn": 1}[kind]
    # Keras' GRU has reset_after=True: two bias vectors per gate.
    biases = 2 if kind == "gru" else 1
    recurrent = gates * (units * (n_in + units) + biases * units)
    return recurrent + units * n_out + n_out


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_contract_for_every_kind(kind):
    model = build_model(kind, window=12, n_features=2, units=5)
    assert model.name == kind
    assert model.input_shape == (None, 12, 2)
    assert model.output_shape == (None, 2)
    assert model.count_params() == expected_params(kind, 5, 2, 2)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_stacked_layers_with_dropout(kind):
    model = build_model(kind, window=8, n_features=1, units=4, layers=3, dropout=0.2)
    names = [layer.__class__.__name__ for layer in model.layers]
    recurrent = [
        layer for layer in model.layers if layer.__class__.__name__ != "Dropout"
    ][:-1]
    assert len(recurrent) == 3
    assert [layer.return_sequences for layer in recurrent] == [True, True, False]
    assert names.count("Dropout") == 3
    assert names[-1] == "Dense"
    assert model.output_shape == (None, 1)


def test_no_dropout_layer_when_rate_is_zero():
    model = build_model("gru", window=8, n_features=1, units=4, layers=2)
    assert "Dropout" not in [layer.__class__.__name__ for layer in model.layers]


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_tutorial_size_follows_the_gate_formula(kind):
    # 125 units on one feature: LSTM 63,626, GRU 48,126, SimpleRNN 16,001 weights.
    expected = {"lstm": 63_626, "gru": 48_126, "simple_rnn": 16_001}[kind]
    assert expected_params(kind, 125, 1, 1) == expected
    assert build_model(kind, 60, 1).count_params() == expected


def test_unknown_kind_lists_valid_choices():
    with pytest.raises(
        ValueError,
        match=r"model kind must be one of 'lstm', 'gru', 'simple_rnn', got 'rnn'",
    ):
        build_model("rnn", 10, 1)


def test_bad_sizes():
    with pytest.raises(ValueError, match=r"units .* got 0"):
        build_model("lstm", 10, 1, units=0)
    with pytest.raises(ValueError, match=r"window must be a positive integer, got 0"):
        build_model("lstm", 0, 1)


@pytest.mark.parametrize("kind", MODEL_KINDS)
@pytest.mark.parametrize(
    ("units", "features", "layers"), [(7, 1, 1), (5, 2, 3), (50, 1, 4)]
)
def test_parameter_count_without_tensorflow_matches_keras(
    kind, units, features, layers
):
    model = build_model(kind, 10, features, units=units, layers=layers, dropout=0.2)
    assert parameter_count(kind, units, features, layers) == model.count_params()


def test_parameter_count_unknown_kind():
    with pytest.raises(
        ValueError, match=r"one of 'lstm', 'gru', 'simple_rnn', got 'x'"
    ):
        parameter_count("x", 3, 1)
