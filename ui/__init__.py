"""Streamlit building blocks shared by the dashboard's pages, grouped by role.

* :mod:`ui.flow`: the one training-page flow (data, split, form, train,
  results); each training page declares only what differs
  (:class:`ui.flow.TrainingPage`).
* :mod:`ui.forms`: what the student chooses (data sources and steps, the
  training form, presets, shared links) and the one place where widget values
  outlive a page change (:mod:`ui.forms.state`).
* :mod:`ui.running`: training as jobs on the engine, the live board and Cancel,
  and the finished runs kept per page.
* :mod:`ui.views`: what a finished comparison shows, named after the core
  module each one draws (``compare``, ``lab``, ``history``, ``intervals``,
  ``horizon``, ``backtest``, ``cell``), plus each page's own results
  (``prices``, ``tracks``, ``learn``).
* :mod:`ui.nav`: the page menu.

The flow imports views, views import running and forms, running imports neither
(an import-linter contract). Nothing here imports TensorFlow: the workers load it.
"""
