"""The Learn page's sections: the three cells, their size, and the student's runs.

Each function draws one section of ``pages/learn.py``. Nothing here imports
TensorFlow: "Check with Keras" and "Inside the cell" (:mod:`ui.views.cell`) run
their Keras work as jobs on the workers (:mod:`ui.running.jobs`). Numbers from
the student's own last runs (:mod:`ui.running.runs`) are used as examples when
there are any.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from forecasting import charts
from forecasting.analysis.compare import BASELINE_LABELS, Comparison, rollout_error
from forecasting.data.outputs import markdown_name, markdown_text
from forecasting.nn.models import parameter_count
from forecasting.settings.config import MODEL_KINDS, MODEL_LABELS, ExperimentConfig
from ui.forms import state
from ui.running import jobs
from ui.running.runs import RunRecord
from ui.views import cell
from ui.views.tables import BEST_STYLE

TUTORIAL = ExperimentConfig()


def cells() -> None:
    """What SimpleRNN, LSTM and GRU compute, one tab each."""
    st.header("Three kinds of memory cell", divider="gray")
    simple, lstm, gru = st.tabs(["SimpleRNN", "LSTM", "GRU"])
    with simple:
        st.latex(r"h_t = \tanh\left(W x_t + U h_{t-1} + b\right)")
        st.markdown(
            "The simplest cell: the new memory is a squashed mix of the new input and "
            "the old memory. Every step rewrites the whole memory, so what happened "
            "many steps ago fades quickly: gradients shrink step by step when the "
            "network learns (the *vanishing gradient*)."
        )
    with lstm:
        st.latex(
            r"""\begin{aligned}
            f_t &= \sigma(W_f x_t + U_f h_{t-1} + b_f) && \text{forget gate}\\
            i_t &= \sigma(W_i x_t + U_i h_{t-1} + b_i) && \text{input gate}\\
            o_t &= \sigma(W_o x_t + U_o h_{t-1} + b_o) && \text{output gate}\\
            \tilde{c}_t &= \tanh(W_c x_t + U_c h_{t-1} + b_c) && \text{candidate}\\
            c_t &= f_t \odot c_{t-1} + i_t \odot \tilde{c}_t && \text{cell state}\\
            h_t &= o_t \odot \tanh(c_t)
            \end{aligned}"""
        )
        st.markdown(
            "Long Short-Term Memory keeps a second memory, the *cell state* $c_t$, "
            "that is changed only by **adding** and **scaling**. Three gates decide "
            "what to forget, what to write and what to show. Because the cell state "
            "can pass through many steps almost unchanged, information (and the "
            "learning signal) survives long windows. Four sets of weights: the "
            "largest of the three cells."
        )
    with gru:
        st.latex(
            r"""\begin{aligned}
            z_t &= \sigma(W_z x_t + U_z h_{t-1} + b_z) && \text{update gate}\\
            r_t &= \sigma(W_r x_t + U_r h_{t-1} + b_r) && \text{reset gate}\\
            \tilde{h}_t &= \tanh\big(W_h x_t + r_t \odot (U_h h_{t-1} + b'_h)
                + b_h\big) && \text{candidate}\\
            h_t &= z_t \odot h_{t-1} + (1 - z_t) \odot \tilde{h}_t
            \end{aligned}"""
        )
        st.markdown(
            "The Gated Recurrent Unit merges the LSTM's memories into one. The "
            "*update gate* $z_t$ chooses, number by number, between keeping the old "
            "memory and taking the new candidate; the *reset gate* $r_t$ decides how "
            "much of the old memory the candidate may use. Three sets of weights, so "
            "fewer than an LSTM (counted below). In this project's measurements it "
            "was as accurate as the LSTM on the MasterCard tutorial over five seeds "
            "(docs/RESULTS.md), and with XLA an epoch took about three quarters of "
            "the LSTM's time (BENCHMARKS.md). (Keras adds the reset gate after "
            "multiplying, with an extra bias $b'$, as written here.)"
        )


def _parameter_inputs() -> tuple[int, int, int]:
    """The units, input features and layers inputs; their values."""
    state.keep(
        {
            "learn_units": TUTORIAL.model.units,
            "learn_features": 1,
            "learn_layers": TUTORIAL.model.layers,
        }
    )
    a, b, c = st.columns(3)
    units = int(
        a.number_input("Units", min_value=1, max_value=1024, step=1, key="learn_units")
    )
    features = int(
        b.number_input(
            "Input features",
            min_value=1,
            max_value=8,
            step=1,
            key="learn_features",
            help="1 for one price column, 2 for X and Y.",
        )
    )
    layers = int(
        c.number_input("Layers", min_value=1, max_value=4, step=1, key="learn_layers")
    )
    return units, features, layers


def parameters() -> None:
    """How many weights each model learns, with a check in Keras."""
    st.header("How many weights does each model learn?", divider="gray")
    units, features, layers = _parameter_inputs()
    counts = {
        MODEL_LABELS[k]: parameter_count(k, units, features, layers)
        for k in MODEL_KINDS
    }
    st.markdown(
        "Each layer with $u$ units and $f$ inputs per step has, per gate, a matrix "
        "$W$ of $u \\times f$, a matrix $U$ of $u \\times u$ and a bias of $u$. "
        "SimpleRNN has 1 such block, GRU 3 (with a second bias, as Keras builds it) "
        "and LSTM 4; the dense output layer adds $u \\cdot f + f$. The window length "
        "does **not** change the count: the same weights are used at every step."
    )
    st.latex(
        r"\text{SimpleRNN: } 1\,[u(f+u) + u] \qquad "
        r"\text{GRU: } 3\,[u(f+u) + 2u] \qquad "
        r"\text{LSTM: } 4\,[u(f+u) + u]"
    )
    left, right = st.columns([1, 2])
    left.dataframe(
        pd.DataFrame({"parameters": counts}).style.format("{:,}"), width="stretch"
    )
    right.plotly_chart(
        charts.parameters_figure(
            counts, title=f"{units} units × {layers} layer(s), {features} feature(s)"
        ),
        width="stretch",
    )
    _check_with_keras(counts, units, features, layers)


def _check_with_keras(
    counts: dict[str, int], units: int, features: int, layers: int
) -> None:
    """The *Check with Keras* button: Keras's counts beside ours."""
    if st.button(
        "Check with Keras",
        key="learn_check",
        help="Builds the three models in Keras (this loads TensorFlow if it is not "
        "loaded yet) and shows model.summary().",
    ):
        checked = jobs.check_with_keras(
            MODEL_KINDS, TUTORIAL.window, features, units, layers
        )
        for kind, (keras_count, text) in checked.items():
            ours = counts[MODEL_LABELS[kind]]
            mark = (
                "✅ same as above" if keras_count == ours else f"❌ we counted {ours:,}"
            )
            with st.expander(
                f"{MODEL_LABELS[kind]}: Keras counts {keras_count:,} parameters {mark}"
            ):
                st.code(text, language=None)


def one_step(price_run: RunRecord | None) -> None:
    """Why a one-step price forecast looks so good, on the last price run."""
    st.header("Why a one-step price forecast looks so good", divider="gray")
    st.markdown(
        "On the price page every prediction is made from the **real** prices of the "
        "days just before it. Prices change little from one day to the next, so "
        "simply repeating yesterday's price (the *persistence* baseline) is already "
        'very close. A network that has learned "tomorrow is about today" draws a '
        "line that hugs the real price, one day late: it looks impressive on a chart "
        "but tells you nothing the last price did not. A model is only useful if it "
        "**beats persistence** in the metrics table. To make the models learn the "
        "movement itself, set **The models learn** to *the change from one step to "
        "the next* on the price page: then a model that predicts no change is "
        "exactly persistence, and any skill must come from predicting the change. "
        "On the MasterCard tutorial this brings LSTM, GRU and SimpleRNN within 1-4% "
        "of persistence's error, but none of the 15 runs (five seeds each) beat it "
        "(docs/RESULTS.md), as expected if a daily price change is close to "
        "unpredictable from past prices alone."
    )
    if price_run is None:
        st.info(
            "Train on the **Price forecasting** page, then come back: this section "
            "will show your own numbers."
        )
    else:
        _echo_table(price_run)
        _close_up(price_run.comparison)


def _echo_table(price_run: RunRecord) -> None:
    """Each model's error beside its distance from yesterday's price."""
    comparison = price_run.comparison
    by_kind = comparison.metrics.set_index("kind")  # rows by stable kind id
    persistence = comparison.baselines.get("persistence")
    naive = BASELINE_LABELS["persistence"]
    rows = []
    for run in comparison.runs.values():
        rmse = float(by_kind.loc[run.kind, "rmse"])
        echo = float(np.mean(np.abs(run.predictions - persistence)))
        rows.append(
            {
                "model": run.label,
                "RMSE vs real": rmse,
                "mean distance from yesterday's price": echo,
            }
        )
    if "persistence" in by_kind.index:
        rows.append(
            {
                "model": naive,
                "RMSE vs real": float(by_kind.loc["persistence", "rmse"]),
                "mean distance from yesterday's price": 0.0,
            }
        )
    label = markdown_name(price_run.data_label)
    summary = markdown_text(price_run.summary)
    st.markdown(f"Your last price run ({label}, {summary}):")
    shown = pd.DataFrame(rows).set_index("model")
    st.dataframe(
        shown.style.format("{:,.3f}").highlight_min(
            subset=["RMSE vs real"], props=BEST_STYLE
        ),
        width="stretch",
    )
    st.caption(
        "If a model's distance from yesterday's price is small compared with its "
        "error, the model mostly repeats the last value it saw."
    )


def _close_up(comparison: Comparison) -> None:
    """The last test days: the best model against yesterday's price."""
    by_kind = comparison.metrics.set_index("kind")
    persistence = comparison.baselines.get("persistence")
    naive = BASELINE_LABELS["persistence"]
    best = min(comparison.runs.values(), key=lambda r: by_kind.loc[r.kind, "rmse"])
    split = comparison.split
    last = min(40, len(split.test))
    fig = charts.forecast_figure(
        split.test_index[-last:],
        split.test[-last:],
        {
            best.label: best.predictions[-last:],
            naive: persistence[-last:],
        },
        feature=0,
        title=f"The last {last} test days up close: {best.label} vs yesterday's price",
        y_title=split.columns[0],
    )
    st.plotly_chart(fig, width="stretch")


def free_runs(track_run: RunRecord | None) -> None:
    """What a free run shows, on the last tracking run."""
    st.header("What a free-run forecast shows", divider="gray")
    st.markdown(
        "A **free run** starts from the last real window and then feeds every "
        "prediction back in as if it were real, step after step, without ever seeing "
        "the real path again. Small errors add up, so the free run drifts away: how "
        "long it stays close shows what the network really learned about the "
        "movement (speed, turns, resting), while one-step predictions mostly show "
        "that positions change little between frames. Try it on the **Tracking "
        "forecasting** page with a free-run horizon."
    )
    errors = rollout_error(track_run.comparison) if track_run is not None else {}
    if not errors:
        st.info(
            "Train on the **Tracking forecasting** page with a free-run horizon above "
            "0, then come back to compare the one-step and free-run errors here."
        )
    else:
        by_kind = track_run.comparison.metrics.set_index("kind")
        rows = [
            {
                "model": MODEL_LABELS[kind],
                "one-step mean distance": float(by_kind.loc[kind, "euclidean"]),
                "free-run mean distance": value,
            }
            for kind, value in errors.items()
        ]
        st.markdown(
            f"Your last tracking run ({markdown_name(track_run.data_label)}, free "
            "run of "
            f"{track_run.comparison.rollout_steps} steps):"
        )
        st.dataframe(
            pd.DataFrame(rows).set_index("model").style.format("{:,.2f}"),
            width="stretch",
        )


def inside(price_run: RunRecord | None, track_run: RunRecord | None) -> None:
    """Inside the cell: a trained model reads one window of the student's data."""
    st.header("Inside the cell: your model reads one window", divider="gray")
    st.markdown(
        "Pick one window of your own series and watch the network you trained read it, "
        "one step at a time from left to right. The top chart is the input as the "
        "network sees it (scaled to the training range; the changes if the models "
        "learn the change). Below it, each heat map has **one row per unit and one "
        "column per step**: the colour is that unit's value just after reading that "
        "step.\n\n"
        "- **Hidden state h** (blue below 0, red above, -1..1): the memory handed to "
        "the next step. Its last column is all the dense layer sees to make the "
        "forecast.\n"
        "- **Gates** (dark = 0, closed; yellow = 1, open). LSTM: a *forget gate* near "
        "1 keeps the cell state, an *input gate* near 1 writes the candidate into it, "
        "an *output gate* near 1 shows it in h. GRU: an *update gate* near 1 keeps the "
        "old memory, near 0 takes the candidate; a *reset gate* near 0 lets the "
        "candidate ignore the old memory.\n\n"
        "Look for rows that follow the input (units that track the level), rows that "
        "hardly change (a slow memory, or a unit the model does not use), and whether "
        "anything from the start of the window still shows in the last column."
    )
    st.caption(
        "A worker rebuilds your trained layer in Keras so that it returns h after "
        "every step (return_sequences=True), and computes the equations above in "
        "numpy from the same weights to get the gates, which Keras does not return. "
        "The page checks that both give the same h."
    )
    cell_runs = {
        page: record
        for page, record in (("price", price_run), ("tracking", track_run))
        if record is not None
    }
    if not cell_runs:
        st.info(
            "Train on the **Price forecasting** or **Tracking forecasting** page, then "
            "come back to look inside your own model."
        )
    else:
        cell.show(cell_runs)
