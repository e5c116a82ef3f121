"""The same settings give the same numbers as before the redesign of issue 19.

Each expected value was printed by the command line at commit bea57a7, the last
commit before ``forecasting/`` was split into layer packages (2026-12-07):
``python -m forecasting ARGS --json`` (and ``sweep``'s CSV) with the arguments
below. The networks are seeded, so a restructuring must give them to the bit.
"""

from __future__ import annotations

import csv
import json

import pytest

from forecasting.cli.main import main

COMPARE_ARGS = "compare --sample mastercard --epochs 2 --units 8 --seed 455"
COMPARE = {
    "models.lstm": (11.50645282824809, 9.086630746629485),
    "models.gru": (7.833539593411502, 6.120855296118469),
    "models.simple_rnn": (86.27243043877331, 83.86973125175899),
    "baseline.persistence": (5.2764580338895675, 3.8446093487179454),
    "baseline.linear_ar": (5.674247522493185, 4.262140494424015),
}
"""``models.KIND`` / ``baseline.NAME`` -> (RMSE, MAE) of the tutorial comparison."""

TRACKS_ARGS = (
    "tracks --sample fly --id Fly_3 --train-rows 400 --test-rows 200 --window 20 "
    "--epochs 2 --units 8 --models gru lstm --rollout 50"
)
TRACKS = {
    "models.gru": (17.283283600651924, 21.16693263141074, 21.107118246261138),
    "models.lstm": (8.74696785155429, 11.019821807875886, 41.341043046189455),
    "baseline.persistence": (1.1651180197731044, 1.3652742873542303, None),
    "baseline.linear_ar": (0.8187620480449384, 0.9545992425079605, None),
    "baseline.constant_velocity": (1.0547511554864493, 1.19601195687191, None),
}
"""-> (RMSE, mean distance, free-run distance or None) of a tracks comparison."""

SWEEP_ARGS = (
    "sweep --sample fly --ids Fly_3 Fly_4 --train-rows 400 --test-rows 200 "
    "--window 20 --epochs 1 --units 8 --models gru --seeds 2"
)
SWEEP = {
    "Fly_3 persistence": (1.16512, 1.36527),
    "Fly_3 linear_ar": (0.818762, 0.954599),
    "Fly_3 constant_velocity": (1.05475, 1.19601),
    "Fly_4 persistence": (0.826136, 0.709534),
    "Fly_4 linear_ar": (0.616403, 0.679996),
    "Fly_4 constant_velocity": (0.708872, 0.648679),
    "Fly_3 gru 455": (18.6988, 23.0029),
    "Fly_4 gru 455": (23.07, 30.377),
    "Fly_4 gru 456": (23.9948, 27.2336),
    "Fly_3 gru 456": (42.6812, 50.3574),
}
"""``ID MODEL [SEED]`` -> (RMSE, mean distance) as the CSV writes them (6 digits)."""


def _json(args: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main([*args.split(), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_the_tutorial_comparison_gives_the_numbers_of_before(capsys):
    result = _json(COMPARE_ARGS, capsys)
    got = {
        f"{section}.{kind}": (row["rmse"], row["mae"])
        for section in ("models", "baseline")
        for kind, row in result[section].items()
    }
    assert got == pytest.approx(COMPARE, rel=1e-12)


@pytest.mark.slow
def test_a_tracks_comparison_with_a_free_run_gives_the_numbers_of_before(capsys):
    result = _json(TRACKS_ARGS, capsys)
    got = {
        f"{section}.{kind}": (
            row["rmse"],
            row["euclidean"],
            row["rollout"]["euclidean"] if "rollout" in row else None,
        )
        for section in ("models", "baseline")
        for kind, row in result[section].items()
    }
    assert got.keys() == TRACKS.keys()
    for key, values in TRACKS.items():
        assert got[key] == pytest.approx(values, rel=1e-12), key


@pytest.mark.slow
def test_a_sweep_gives_the_numbers_of_before(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    assert main([*SWEEP_ARGS.split(), "--out", str(out)]) == 0
    with out.open() as file:
        got = {
            f"{row['id']} {row['model']} {row['seed']}".strip(): (
                float(row["rmse"]),
                float(row["euclidean"]),
            )
            for row in csv.DictReader(file)
        }
    assert got == pytest.approx(SWEEP, rel=1e-9)
