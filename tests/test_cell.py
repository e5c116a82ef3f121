"""Inside the cell: the numpy recurrence, the job, the window picker and the figure.

Tests whose names contain ``keras`` build tiny seeded Keras models (and the AppTest
trains one); the others are plain numpy.
"""

import base64
import pickle

import numpy as np
import pandas as pd
import pytest

from forecasting.charts.cell import cell_figure
from forecasting.nn.cell import (
    GATES,
    STATE_LABELS,
    STATE_NAMES,
    CellJob,
    CellTrace,
    cell_states,
    window_at,
    window_count,
)
from forecasting.prep.windows import Split, prepare_windows
from forecasting.settings.config import MODEL_KINDS


def sig(x: float) -> float:
    return 1.0 / (1.0 + np.exp(-x))


# The recurrence by hand ------------------------------------------------------------


def test_simple_rnn_by_hand():
    x = np.array([[1.0], [0.0], [-1.0]])
    out = cell_states("simple_rnn", x, [[0.5]], [[2.0]], [0.1])
    h1 = np.tanh(0.5 + 0.1)
    h2 = np.tanh(2 * h1 + 0.1)
    h3 = np.tanh(-0.5 + 2 * h2 + 0.1)
    assert list(out) == ["h"]
    np.testing.assert_allclose(out["h"][:, 0], [h1, h2, h3], rtol=1e-12)


def test_lstm_by_hand_follows_the_gate_order_i_f_c_o():
    # No weights, only biases: every gate is constant, so each is told apart by
    # its own bias (1, 2, 3, 4 in Keras' order i, f, c, o).
    out = cell_states(
        "lstm", np.zeros((2, 1)), np.zeros((1, 4)), np.zeros((1, 4)), [1, 2, 3, 4]
    )
    i, f, g, o = sig(1), sig(2), np.tanh(3), sig(4)
    c1 = i * g
    c2 = f * c1 + i * g
    assert list(out) == ["h", "c", "i", "f", "o", "g"]
    np.testing.assert_allclose(out["i"][:, 0], [i, i], rtol=1e-12)
    np.testing.assert_allclose(out["f"][:, 0], [f, f], rtol=1e-12)
    np.testing.assert_allclose(out["o"][:, 0], [o, o], rtol=1e-12)
    np.testing.assert_allclose(out["g"][:, 0], [g, g], rtol=1e-12)
    np.testing.assert_allclose(out["c"][:, 0], [c1, c2], rtol=1e-12)
    np.testing.assert_allclose(out["h"][:, 0], [o * np.tanh(c1), o * np.tanh(c2)])


def test_gru_by_hand_adds_the_recurrent_bias_inside_the_reset_gate():
    # bias row 0 goes with the input, row 1 with the recurrent part (z, r, h).
    bias = [[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]]
    out = cell_states("gru", np.zeros((2, 1)), np.zeros((1, 3)), np.zeros((1, 3)), bias)
    z, r = sig(1.5), sig(2.0)
    candidate = np.tanh(3.0 + r * -1.0)
    h1 = (1 - z) * candidate
    h2 = z * h1 + (1 - z) * candidate
    assert list(out) == ["h", "z", "r", "candidate"]
    np.testing.assert_allclose(out["z"][:, 0], [z, z], rtol=1e-12)
    np.testing.assert_allclose(out["r"][:, 0], [r, r], rtol=1e-12)
    np.testing.assert_allclose(out["candidate"][:, 0], [candidate] * 2, rtol=1e-12)
    np.testing.assert_allclose(out["h"][:, 0], [h1, h2], rtol=1e-12)


def test_gru_recurrent_kernel_feeds_back_the_last_hidden_state():
    x = np.array([[1.0], [0.0]])
    kernel = [[0.0, 0.0, 1.0]]  # only the candidate sees the input
    recurrent = [[0.0, 0.0, 2.0]]  # and the old memory, through the reset gate
    out = cell_states("gru", x, kernel, recurrent, np.zeros((2, 3)))
    h1 = 0.5 * np.tanh(1.0)  # z = r = 0.5, h0 = 0
    h2 = 0.5 * h1 + 0.5 * np.tanh(0.5 * 2.0 * h1)
    np.testing.assert_allclose(out["h"][:, 0], [h1, h2], rtol=1e-12)


def test_cell_states_rejects_unknown_kinds_and_wrong_shapes():
    with pytest.raises(ValueError, match="kind must be one of 'lstm'"):
        cell_states("rnn", np.zeros((2, 1)), [[0.0]], [[0.0]], [0.0])
    with pytest.raises(ValueError, match=r"weights of a GRU layer with 1 inputs"):
        cell_states(
            "gru", np.zeros((2, 1)), np.zeros((1, 3)), np.zeros((1, 3)), [0] * 3
        )
    with pytest.raises(ValueError, match=r"x must be \(steps, inputs\)"):
        cell_states("simple_rnn", np.zeros(3), [[0.0]], [[0.0]], [0.0])


# The job without running it -------------------------------------------------------


def test_job_checks_its_arguments():
    window = np.zeros((4, 1), dtype=np.float32)
    with pytest.raises(ValueError, match="kind must be one of"):
        CellJob("rnn", b"", window)
    with pytest.raises(ValueError, match=r"window must be \(steps, features\)"):
        CellJob("gru", b"", np.zeros(4))
    with pytest.raises(ValueError, match="window must hold finite numbers"):
        CellJob("gru", b"", np.full((4, 1), np.nan))
    with pytest.raises(ValueError, match="layer must be 0 or more, got -1"):
        CellJob("gru", b"", window, layer=-1)
    with pytest.raises(ValueError, match="layer must be an integer"):
        CellJob("gru", b"", window, layer=1.0)


def test_job_key_names_model_window_and_layer_and_the_job_pickles():
    window = np.arange(6, dtype=np.float32).reshape(3, 2)
    job = CellJob("lstm", b"model", window)
    assert job.label == "LSTM: inside the cell"
    assert job.key() == CellJob("lstm", b"model", window.copy()).key()
    assert job.key().startswith("cell:")
    others = [
        CellJob("lstm", b"other", window),
        CellJob("lstm", b"model", window + 1),
        CellJob("lstm", b"model", window, layer=1),
        CellJob("gru", b"model", window),
    ]
    assert len({job.key(), *(o.key() for o in others)}) == 5
    assert pickle.loads(pickle.dumps(job)).key() == job.key()


# Which window ---------------------------------------------------------------------


@pytest.fixture
def small_split() -> Split:
    values = np.arange(10.0)[:, None] ** 2  # 0, 1, 4, 9, ... 81
    index = pd.date_range("2021-01-01", periods=10, name="Date")
    return Split(values[:7], values[7:], index[:7], index[7:], ("y",))


def test_window_at_counts_training_then_test_windows(small_split):
    windows = prepare_windows(small_split, 3)
    assert window_count(windows) == 4 + 3  # 7 - 3 training windows, 3 test rows
    x, steps, predicted = window_at(windows, 3)  # the last training window
    np.testing.assert_array_equal(x, windows.x_train[3])
    assert list(steps) == list(small_split.train_index[3:6])
    assert predicted == small_split.train_index[6]
    x, steps, predicted = window_at(windows, 6)  # the last test window
    np.testing.assert_array_equal(x, windows.x_test[2])
    assert list(steps.day) == [7, 8, 9]  # rows 6, 7, 8 of the series
    assert predicted == small_split.test_index[2]
    np.testing.assert_allclose(windows.inverse(x)[:, 0], [36.0, 49.0, 64.0])


def test_window_at_with_changes_reads_the_changes_to_its_steps(small_split):
    windows = prepare_windows(small_split, 3, target="diff")
    assert window_count(windows) == 3 + 3
    x, steps, predicted = window_at(windows, 0)
    # changes to rows 1, 2, 3 (1, 3, 5) predict the change to row 4
    np.testing.assert_allclose(windows.inverse(x)[:, 0], [1.0, 3.0, 5.0], rtol=1e-6)
    assert list(steps.day) == [2, 3, 4]
    assert predicted == small_split.train_index[4]
    x, steps, predicted = window_at(windows, 5)  # the last test window
    # changes to rows 6, 7, 8 predict the change to row 9 (81 - 64 = 17)
    np.testing.assert_allclose(windows.inverse(x)[:, 0], [11.0, 13.0, 15.0], rtol=1e-6)
    assert list(steps.day) == [7, 8, 9]
    assert predicted == small_split.test_index[2]
    with pytest.raises(ValueError, match=r"position must be in 0\.\.5, got 6"):
        window_at(windows, 6)


# The figure -----------------------------------------------------------------------


def fake_trace(kind: str, steps: int = 4, units: int = 3) -> CellTrace:
    rng = np.random.default_rng(0)
    states = {name: rng.uniform(0, 1, (steps, units)) for name in STATE_NAMES[kind]}
    states["h"] = states["h"] * 2 - 1
    return CellTrace(
        kind=kind,
        layer=0,
        window=rng.uniform(0, 1, (steps, 2)),
        inputs=rng.uniform(0, 1, (steps, 2)),
        states=states,
        keras_h=states["h"].astype(np.float32),
        max_difference=0.0,
    )


def test_figure_has_the_input_then_one_heat_map_per_state():
    trace = fake_trace("lstm")
    dates = pd.date_range("2021-01-01", periods=4)
    fig = cell_figure(trace, columns=["X", "Y"], steps=dates, title="inside")
    assert [t.name for t in fig.data] == [
        "X",
        "Y",
        "hidden state h",
        "cell state c",
        "input gate i",
        "forget gate f",
        "output gate o",
        "candidate c̃",
    ]
    np.testing.assert_allclose(fig.data[1].y, trace.window[:, 1])
    for trace_, name in zip(fig.data[2:], STATE_NAMES["lstm"], strict=True):
        assert trace_.type == "heatmap"
        assert np.asarray(trace_.z).shape == (3, 4)  # units x steps
        np.testing.assert_allclose(np.asarray(trace_.z), trace.states[name].T)
        assert list(trace_.y) == [1, 2, 3]
        assert list(pd.to_datetime(trace_.x)) == list(dates)
        axis = "coloraxis" if name in GATES else "coloraxis2"
        assert trace_.coloraxis == axis
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 1.0)
    assert fig.layout.coloraxis2.cmin == -fig.layout.coloraxis2.cmax
    assert fig.layout.title.text == "inside"


def test_figure_of_a_gru_and_of_a_simple_rnn():
    gru = cell_figure(fake_trace("gru"))
    assert [t.name for t in gru.data] == [
        "input 1",
        "input 2",
        *(STATE_LABELS[n] for n in ("h", "z", "r", "candidate")),
    ]
    assert list(gru.data[0].x) == [1, 2, 3, 4]
    simple = cell_figure(fake_trace("simple_rnn", steps=5, units=2))
    assert [t.name for t in simple.data] == ["input 1", "input 2", "hidden state h"]
    assert np.asarray(simple.data[2].z).shape == (2, 5)
    assert simple.layout.coloraxis.cmin is None  # no gates, no gate scale
    with pytest.raises(ValueError, match="steps must have 5 labels, got 2"):
        cell_figure(fake_trace("simple_rnn", steps=5), steps=[1, 2])
    with pytest.raises(ValueError, match="columns must have 2 names, got 1"):
        cell_figure(fake_trace("gru"), columns=["X"])


def test_the_charts_import_no_tensorflow_though_the_cell_figure_reads_nn():
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, forecasting.charts, forecasting.charts.cell, "
        "forecasting.charts.lab; "
        "print(sorted({'streamlit', 'tensorflow', 'keras'} & set(sys.modules)))"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True
    )
    assert result.stdout.strip() == "[]", result.stderr


# Against Keras --------------------------------------------------------------------


def keras_model(kind: str, layers: int = 1, window: int = 9, features: int = 2):
    """A tiny model with seeded, fairly large weights (so the gates spread out)."""
    import keras

    from forecasting.nn.models import build_model

    keras.utils.set_random_seed(3)
    model = build_model(kind, window, features, units=5, layers=layers)
    rng = np.random.default_rng(11)
    model.set_weights([rng.normal(0, 0.7, w.shape) for w in model.get_weights()])
    return model


def run_job(model, kind: str, window: np.ndarray, layer: int = 0) -> CellTrace:
    from forecasting.nn.jobs import model_to_bytes

    job = CellJob(kind, model_to_bytes(model), window, layer)
    return pickle.loads(pickle.dumps(job)).run(lambda payload: None)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_numpy_recurrence_equals_keras_sequences(kind):
    model = keras_model(kind)
    window = np.random.default_rng(5).uniform(0, 1, (9, 2)).astype(np.float32)
    trace = run_job(model, kind, window)
    assert trace.max_difference < 1e-5
    np.testing.assert_allclose(trace.states["h"], trace.keras_h, atol=1e-5)
    assert set(trace.states) == set(STATE_NAMES[kind])
    for name, values in trace.states.items():
        assert values.shape == (9, 5), name
    for name in GATES & set(trace.states):
        values = trace.states[name]
        assert ((values >= 0) & (values <= 1)).all(), name
        assert values.std() > 0.05, name  # the gates really move
    # The last hidden state is what the dense layer turns into the forecast.
    kernel, bias = model.layers[-1].get_weights()
    forecast = np.asarray(model(window[None]))[0]
    np.testing.assert_allclose(
        trace.states["h"][-1] @ kernel + bias, forecast, atol=1e-5
    )


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keras_stacked_layers_each_layer_reads_the_one_below(kind):
    model = keras_model(kind, layers=2, features=1)
    window = np.linspace(0, 1, 9, dtype=np.float32)[:, None]
    first = run_job(model, kind, window, layer=0)
    second = run_job(model, kind, window, layer=1)
    np.testing.assert_allclose(second.inputs, first.keras_h, atol=1e-6)
    assert second.max_difference < 1e-5
    kernel, bias = model.layers[-1].get_weights()
    forecast = np.asarray(model(window[None]))[0]
    np.testing.assert_allclose(
        second.states["h"][-1] @ kernel + bias, forecast, atol=1e-5
    )
    with pytest.raises(ValueError, match="layer must be below 2"):
        run_job(model, kind, window, layer=2)


def test_keras_model_of_another_kind_is_refused():
    model = keras_model("lstm", features=1)
    with pytest.raises(ValueError, match="recurrent layers must be GRU, got LSTM"):
        run_job(model, "gru", np.zeros((9, 1), dtype=np.float32))


# The Learn page -------------------------------------------------------------------


def spec_array(value) -> np.ndarray:
    """An array from Plotly's JSON (a list, or base64 with dtype and shape)."""
    if not isinstance(value, dict):
        return np.asarray(value)
    data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = [int(n) for n in str(value.get("shape", len(data))).split(",")]
    return data.reshape(shape)


def test_keras_learn_page_shows_inside_the_cell_of_the_last_price_run():
    import json
    from pathlib import Path

    from streamlit.testing.v1 import AppTest
    from test_app import tiny

    app = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(app), default_timeout=60).run()
    at.switch_page("pages/learn.py").run()
    assert any("look inside your own model" in i.value for i in at.info)

    at.switch_page("pages/price.py").run()
    at.slider(key="price_years").set_value((2020, 2020))
    at.multiselect(key="price_models").set_value(["lstm", "gru"])
    tiny(at, "price", seed=1301)
    at.form_submit_button[0].click()
    at.run(timeout=240)
    assert not at.exception, [e.message for e in at.exception]

    at.switch_page("pages/learn.py").run()
    assert not at.exception, [e.message for e in at.exception]
    runs = at.session_state["_runs"]["price"]
    comparison = next(reversed(runs.values())).comparison
    windows = comparison.windows
    n_train = len(windows.x_train)
    slider = at.slider(key="learn_cell_window")
    assert (slider.value, slider.max) == (n_train, n_train + len(windows.x_test))
    assert any(f"Window {n_train} of" in c.value for c in at.caption)
    charts = len(at.get("plotly_chart"))

    at.radio(key="learn_cell_kind").set_value("gru")
    at.toggle(key="learn_cell_show").set_value(True).run(timeout=240)
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == charts + 1
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    names = [trace.get("name") for trace in spec["data"]]
    gru = ["hidden state h", "update gate z", "reset gate r", "candidate h̃"]
    assert names == [*comparison.split.columns, *gru]
    assert spec_array(spec["data"][1]["z"]).shape == (4, 5)  # units x steps
    assert any("agree on every hidden state" in c.value for c in at.caption)

    at.slider(key="learn_cell_window").set_value(1).run(timeout=240)  # follows
    assert not at.error, [e.value for e in at.error]
    spec = json.loads(at.get("plotly_chart")[-1].proto.spec)
    np.testing.assert_allclose(
        spec_array(spec["data"][0]["y"]), windows.x_train[0][:, 0]
    )
