"""What a finished comparison shows, named after the core module each one draws.

``compare`` (results of :mod:`forecasting.analysis.compare` both pages show),
``lab`` (lessons), ``history``, ``intervals``, ``horizon``, ``backtest``,
``cell`` (inside a recurrent cell, :mod:`forecasting.nn.cell`) and ``tables``
(shared formats); ``prices`` and ``tracks`` are each page's own results, and
``learn`` the Learn page's sections.
"""
