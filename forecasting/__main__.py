"""``python -m forecasting``: the command line (:mod:`forecasting.cli.main`)."""

from forecasting.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
