"""Fast checks that bench/ compares like with like (no timing assertions)."""

from __future__ import annotations

import numpy as np
import pytest

from bench import common, report, sections, training, tutorials, windows
from bench import reference_keras as ref


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(50,), (50, 1), (80, 2)])
def test_make_windows_equals_the_tutorial_loop(dtype, shape):
    values = np.random.default_rng(1).standard_normal(shape).astype(dtype)
    agree = windows.windows_agree(values, 7)
    assert agree["identical"], agree
    assert agree["c_contiguous"]
    assert agree["dtype"] == agree["loop_dtype"] == dtype


def test_window_candidates_give_the_same_windows():
    values = np.random.default_rng(2).standard_normal((90, 2)).astype(np.float32)
    candidates = windows.windows_candidates(values, 10)
    x_loop, y_loop = candidates["loop"]()
    x_fast, y_fast = candidates["make_windows"]()
    x_proto, y_proto = candidates["empty_copyto"]()
    assert np.array_equal(candidates["view_only"](), x_loop)
    for x, y in ((x_fast, y_fast), (x_proto, y_proto)):
        assert np.array_equal(x, x_loop) and np.array_equal(y, y_loop)
        assert x.dtype == x_loop.dtype and x.flags.c_contiguous
    assert candidates["alloc_and_write"]().shape == x_loop.shape


def test_relative_difference_is_safe_near_zero():
    reference = np.array([0.0, 1.0, -2.0])
    assert common.max_rel_diff(reference + [1e-7, 1e-5, 0.0], reference) <= 1e-4
    diff = common.max_rel_diff(reference + [0.0, 0.0, 1e-3], reference)
    assert diff == pytest.approx(5e-4)
    assert common.close(reference + 1e-7, reference)
    assert not common.close(reference + 1e-2, reference)
    assert not common.close(reference[:2], reference)


def test_free_run_agrees_with_the_reference_rollout():
    from forecasting.nn.predict import free_run

    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    model = ref.build_reference_model("gru", window=6, features=2, units=4)
    start = np.random.default_rng(4).random((6, 2))
    ours = free_run(model, start, 12)
    plain = ref.reference_rollout(model, start, 12)
    assert ours.shape == plain.shape == (12, 2)
    assert common.close(ours, plain), common.max_rel_diff(ours, plain)
    batch = free_run(model, np.stack([start, start[::-1]]), 12)
    assert common.close(batch[0], ours)


def test_training_flops_match_the_issue():
    # one LSTM epoch of the tutorial config: ~27 GFLOP forward + backward
    assert training.epoch_gflop("lstm", 1199, 60, 1, 125) == pytest.approx(27, abs=1)
    assert training.epoch_gflop("simple_rnn", 1199, 60, 1, 125) < training.epoch_gflop(
        "gru", 1199, 60, 1, 125
    )


def test_report_names_failed_targets_and_quick_runs():
    meta = {
        "quick": True,
        "command": "python -m bench.run --quick",
        "date": "2025-01-01 00:00 UTC",
        "elapsed_min": 1.0,
        "machine": common.machine(),
        "load_start": [1.0, 1.0, 1.0],
        "load_end": [2.0, 2.0, 2.0],
    }
    text = report.render({"training": {"error": "exit code 1"}}, meta)
    assert "Quick run" in text
    assert "failed: exit code 1" in text
    assert "failed: not run" in text  # the targets that were not run
    assert "`python -m bench.run --quick`" in text


def _section(name: str, number: int, body: str) -> str:
    return f"<!-- section: {name} -->\n### {number}. `{name}`: title\n\n{body}"


def test_tutorials_remeasure_one_section_and_keep_the_others():
    assert list(tutorials.SECTIONS) == ["mastercard", "mastercard-diff", "fly"]
    old = (
        "# Tutorial experiments, reproduced\n\nheader\n\n"
        + _section("mastercard", 1, "level table")
        + "\n\n"
        + _section("fly", 2, "fly table")
        + "\n"
    )
    kept = tutorials.split_sections(old)
    assert set(kept) == {"mastercard", "fly"}
    assert kept["fly"].endswith("fly table")
    blocks = tutorials.merge_sections(
        {"mastercard-diff": _section("mastercard-diff", 2, "diff table")}, old
    )
    assert [b.splitlines()[1] for b in blocks] == [
        "### 1. `mastercard`: title",
        "### 2. `mastercard-diff`: title",
        "### 3. `fly`: title",  # renumbered, otherwise kept as it was
    ]
    assert blocks[0].endswith("level table") and blocks[2].endswith("fly table")


def test_tutorials_refuse_to_drop_a_section_never_measured():
    old = _section("mastercard", 1, "level table")
    with pytest.raises(SystemExit, match="no section mastercard-diff, fly"):
        tutorials.check_kept({"mastercard"}, old)
    tutorials.check_kept(set(tutorials.SECTIONS), None)  # a full run needs nothing


def test_bench_sections_are_replaced_in_place_and_kept_by_run(tmp_path):
    keep_sections, replace_section = sections.keep_sections, sections.replace_section

    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nfrom run.py\n")
    replace_section("parallel", "## Parallel\nold", path)
    replace_section("classroom", "## Classroom", path)
    replace_section("parallel", "## Parallel\nnew", path)
    text = path.read_text()
    assert text.count("<!-- parallel -->") == 1
    assert "new" in text and "old" not in text
    assert text.index("parallel") < text.index("classroom")  # stays in its place
    rewritten = keep_sections(text, "# Benchmarks\n\nrun.py again\n")
    assert rewritten.startswith("# Benchmarks\n\nrun.py again\n")
    assert "## Parallel\nnew" in rewritten and "## Classroom" in rewritten


def test_run_measures_every_target_in_its_own_file():
    from bench import run

    assert run.TARGETS == ("training", "forecast", "windows", "app", "memory")
    assert list(run.CHILDREN) == [
        "training",
        "forecast",
        "windows",
        "app",
        "memory_ours",
        "memory_ours_varied",
        "memory_ours_varied_nojit",
        "memory_reference",
    ]
    rows, section = windows.report({})
    assert rows[0].startswith("| 3 | windows |") and "failed: not run" in rows[0]
    assert section == []


def test_a_child_that_cannot_run_is_reported_as_failed():
    # the real child command (python -m bench.run --child NAME), with a name that
    # argparse refuses: no measurement runs
    result = common.run_child("no_such_target", quick=True)
    assert result["error"] == "exit code 2"
    assert result["elapsed_s"] >= 0
