"""Training as jobs on the app's engine: queue, live board, Cancel, kept runs.

:mod:`ui.running.jobs` starts and follows jobs, :mod:`ui.running.progress` draws
their board, :mod:`ui.running.sessions` holds the engine and watches sessions,
and :mod:`ui.running.runs` keeps each page's finished runs for the session.
"""
