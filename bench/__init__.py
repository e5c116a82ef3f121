"""Benchmarks and reproductions, run from the repository root as ``python -m bench.X``.

``run`` (everything in BENCHMARKS.md, or one of ``training``, ``forecast``,
``windows``, ``app_start``, ``memory`` alone), ``parallel``, ``classroom``,
``wire``, ``tutorials`` (docs/RESULTS.md) and ``reference_keras`` (the tutorials'
plain Keras code every measurement compares against). Not part of the installed
package.

``server`` starts and stops a Streamlit server for ``app_start``, ``classroom``,
``wire`` and the browser tests (``tests/e2e/conftest.py``). ``classroom`` is
built from ``monitor``, ``versions``, ``browsers``, ``scenarios`` and
``classroom_report``; ``wire`` shares the first two.
"""
