"""Streamlit building blocks shared by the dashboard's pages, grouped by role.

* :mod:`ui.forms`: what the student chooses (data sources, the training form,
  shared links) and the one place where widget values outlive a page change
  (:mod:`ui.forms.state`).
* :mod:`ui.running`: training as jobs on the engine, the live board and Cancel.
* :mod:`ui.views`: what a finished comparison shows, one module per core module
  it draws (``compare``, ``lab``, ``history``, ``intervals``, ``horizon``,
  ``backtest``, ``cell``).
* :mod:`ui.nav`: the page menu.

Views import running and forms; running imports forms; forms import neither.
Nothing here imports TensorFlow: the workers load it.
"""
