"""Learn: what SimpleRNN, LSTM and GRU compute, their size, and how to read results.

The sections are drawn by :mod:`ui.views.learn`. This page never imports
TensorFlow (the server never does): "Check with Keras" and "Inside the cell"
run their Keras work as jobs on the workers. Numbers from the student's own last
runs (kept in the session) are used as examples when there are any.
"""

from __future__ import annotations

import streamlit as st

from ui import nav
from ui.running import runs
from ui.views import learn

nav.require_app("learn")
st.title("Learn: how recurrent networks forecast")
st.markdown(
    "A recurrent network reads a series **one step at a time** and carries a "
    "small memory, the *hidden state* $h_t$, from each step to the next. After "
    "reading a window of past values (say the last 60 days), a final dense layer "
    "turns the memory into the forecast of the next value."
)
st.latex(r"\hat{y}_{t+1} = V\,h_t + c")
st.caption(
    "Symbols: $x_t$ is the input at step $t$ (a price, or an X/Y position), $h_t$ "
    "the memory after step $t$. $W$, $U$ and $b$ are weights learned in training. "
    r"$\sigma$ squashes numbers into 0..1 (a *gate*: 0 = closed, 1 = open), "
    r"$\tanh$ into -1..1, and $\odot$ multiplies element by element."
)

learn.cells()
learn.parameters()
price_run = runs.last_run("price")
track_run = runs.last_run("tracking")
learn.one_step(price_run)
learn.free_runs(track_run)
learn.inside(price_run, track_run)
