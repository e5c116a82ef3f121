"""Streamlit building blocks shared by the dashboard's pages.

The pages in ``pages/`` stay thin: they read widgets, build an
:class:`~forecasting.settings.config.ExperimentConfig`, call the core through
:mod:`ui.runner` and draw the results with :mod:`ui.results`. Nothing here imports
TensorFlow at import time; it is loaded only when a model is trained, built or
saved.
"""
