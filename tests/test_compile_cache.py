"""The workers' shared disk cache of compiled training steps.

Real worker processes with TensorFlow (no mock): a fresh worker loads the step
another one compiled, and the numbers do not change.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from jobs_for_tests import fit_in_a_fresh_worker
from test_prepare import job_with_seed

from forecasting.runtime.compile_cache import (
    compile_cache_dir,
    cpu_fingerprint,
    xla_flags,
)


def test_the_cache_folder_comes_from_the_environment_and_can_be_turned_off():
    assert compile_cache_dir({"FORECASTING_COMPILE_CACHE": "/x/y"}) == Path("/x/y")
    assert compile_cache_dir({"FORECASTING_COMPILE_CACHE": "0"}) is None
    assert compile_cache_dir({"FORECASTING_COMPILE_CACHE": ""}) is None
    default = compile_cache_dir({})
    assert default.parent == Path.home() / ".cache" / "rnn-forecast-explorer"
    assert default.name.startswith("xla-")
    assert default.name.endswith(f"-{cpu_fingerprint()}")


def test_machines_with_other_instruction_sets_keep_apart_caches():
    avx512 = "processor : 0\nflags : fpu sse2 avx2 avx512f\n"
    assert cpu_fingerprint(avx512) != cpu_fingerprint("flags : fpu sse2 avx2\n")
    assert cpu_fingerprint(avx512) == cpu_fingerprint("flags\t: avx512f avx2 sse2 fpu")
    assert len(cpu_fingerprint(avx512)) == 8


def test_the_flags_keep_the_callers_and_add_the_folder_once(tmp_path):
    env = {"FORECASTING_COMPILE_CACHE": str(tmp_path / "c")}
    assert xla_flags(env) == f"--tf_xla_persistent_cache_directory={tmp_path / 'c'}"
    assert (tmp_path / "c").is_dir()
    env["TF_XLA_FLAGS"] = "--tf_xla_auto_jit=-1"
    assert xla_flags(env).split() == [
        "--tf_xla_auto_jit=-1",
        f"--tf_xla_persistent_cache_directory={tmp_path / 'c'}",
    ]
    own = {"TF_XLA_FLAGS": "--tf_xla_persistent_cache_directory=/mine"}
    assert xla_flags({**env, **own}) == own["TF_XLA_FLAGS"]
    assert xla_flags({"FORECASTING_COMPILE_CACHE": "0"}) == ""


def test_a_fresh_worker_loads_a_compiled_step_with_the_same_numbers(seed_2_alone):
    compiled, folder, written = seed_2_alone  # a fresh worker compiled it there
    assert written, "nothing was written to the compile cache"
    loaded = fit_in_a_fresh_worker(job_with_seed(2), folder)
    # Loaded, not compiled again: a compile would have written its file anew.
    assert {f.name: f.stat().st_mtime_ns for f in folder.glob("*.pb")} == written
    assert np.array_equal(loaded.predictions, compiled.predictions)
    assert loaded.history == compiled.history
