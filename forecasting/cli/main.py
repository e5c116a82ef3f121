"""Command line: ``python -m forecasting compare|tracks|sweep|presets ...``.

Progress goes to stderr, one line per model and epoch; the result is a readable
table, or with ``--json`` one JSON object on stdout. Bad input exits with code 2
and one line on stderr starting with ``error:``, never a traceback.

``--preset NAME`` takes every setting from a tutorial experiment; flags given
explicitly override single values. The parser is in
:mod:`~forecasting.cli.parser`, the commands in :mod:`~forecasting.cli.commands`
and what they print in :mod:`~forecasting.cli.report`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from forecasting.cli.commands import compare_command, presets_command, sweep_command
from forecasting.cli.parser import EXIT_USAGE, build_parser
from forecasting.data import DataError
from forecasting.runtime.protocol import JobFailed


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for bad input)."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "presets":
            return presets_command()
        if args.command == "sweep":
            return sweep_command(args)
        return compare_command(args)
    except (DataError, ValueError) as err:
        sys.stderr.write(f"error: {err}\n")
        return EXIT_USAGE
    except JobFailed as err:
        sys.stderr.write(f"error: {err}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
