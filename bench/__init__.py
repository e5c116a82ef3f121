"""Benchmarks and reproductions, run from the repository root as ``python -m bench.X``.

``run`` (everything in BENCHMARKS.md, or one of ``training``, ``forecast``,
``windows``, ``app_start``, ``memory`` alone), ``parallel``, ``classroom``,
``tutorials`` (docs/RESULTS.md) and ``reference_keras`` (the tutorials' plain Keras
code every measurement compares against). Not part of the installed package.
"""
