"""What a worker process does once, before its first job: import TensorFlow."""

from __future__ import annotations

import os


def warm_up(threads: int) -> None:
    """Import TensorFlow once and give it ``threads`` threads for its kernels.

    The engine's workers call it by name
    (:attr:`forecasting.settings.config.EngineSettings.initializer`).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # already initialised in this process
        pass
