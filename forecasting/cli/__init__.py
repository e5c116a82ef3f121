"""The command line: ``python -m forecasting``."""
