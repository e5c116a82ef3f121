"""RNN Forecast Explorer core: data, windows, models, training, forecasts, metrics.

This package never imports Streamlit, and imports TensorFlow only inside the
functions that build, train or run models, so that importing it is cheap.
"""

__version__ = "0.1.0"
