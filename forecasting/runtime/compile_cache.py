"""The workers' shared disk cache of compiled (XLA) training steps.

One worker's compile serves every other worker and the next server start; the
folder is named by the TensorFlow version and the CPU's instruction sets.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import platform
from pathlib import Path

LOG = logging.getLogger(__name__)

COMPILE_CACHE_ENV = "FORECASTING_COMPILE_CACHE"
"""Folder of the workers' shared disk cache of compiled (XLA) training steps;
empty or ``0`` turns it off."""


def compile_cache_dir(environ: dict[str, str]) -> Path | None:
    """Where the workers keep compiled training steps (None: nowhere).

    Default ``~/.cache/rnn-forecast-explorer/xla-<TensorFlow version>-<CPU>``
    (:func:`cpu_fingerprint`): one worker's compile serves every other worker
    and the next server start.
    """
    configured = environ.get(COMPILE_CACHE_ENV)
    if configured is not None:
        return None if configured.strip() in ("", "0") else Path(configured)
    from importlib import metadata

    version = "unknown"
    for name in ("tensorflow-cpu", "tensorflow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            version = metadata.version(name)
            break
    name = f"xla-{version}-{cpu_fingerprint()}"
    return Path.home() / ".cache" / "rnn-forecast-explorer" / name


def cpu_fingerprint(cpuinfo: str | None = None) -> str:
    """Eight hex digits naming this CPU's instruction sets.

    Compiled steps are machine code for them, so machines that share a home
    folder (a school's network drive) keep apart caches: a step compiled for
    AVX-512 would crash a worker on a CPU without it.

    Args:
        cpuinfo: The text of ``/proc/cpuinfo`` (read when None; the ``flags``
            line counts, in any order, with the machine's architecture).
    """
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:  # not on Linux: the architecture alone
            cpuinfo = ""
    lines = cpuinfo.splitlines()
    flags = next((ln.split(":", 1)[1] for ln in lines if ln.startswith("flags")), "")
    text = " ".join(sorted(set(flags.split()))) + " " + platform.machine()
    return hashlib.sha1(text.encode()).hexdigest()[:8]


def xla_flags(environ: dict[str, str]) -> str:
    """``TF_XLA_FLAGS`` for a worker: the caller's, plus the compile cache.

    TensorFlow loads a compiled step from the cache when its HLO matches
    exactly (the numbers are the same bit for bit) and writes new ones
    atomically, so workers can share one folder.
    """
    flags = environ.get("TF_XLA_FLAGS", "")
    folder = compile_cache_dir(environ)
    if folder is None or "tf_xla_persistent_cache_directory" in flags:
        return flags
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        LOG.warning("no compile cache in %s: %s", folder, err)
        return flags
    return f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()
