"""The five tutorial experiments this project grew out of, and a random-walk control.

Each preset fills every setting of a comparison: data, split, window, scaling,
architecture and training. The dashboard offers them in a select box ("Start from
a tutorial experiment"); the command line takes ``--preset NAME``, and explicit
flags override single values. A preset states only what its tutorial changed:
everything else is the tutorial default of :mod:`forecasting.settings.config` (the first
preset is those defaults with LSTM and GRU).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forecasting.settings.config import (
    TRACKS_DEFAULT,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)


@dataclass(frozen=True)
class Preset:
    """One tutorial experiment.

    Attributes:
        name: Command-line name, e.g. ``"mastercard-lstm-vs-gru"``.
        title: One-line title for the select box.
        command: ``"compare"`` (prices) or ``"tracks"`` (animal tracks).
        sample: Bundled sample it runs on by default.
        config: Every setting of the comparison.
        story: What the tutorial did, in two sentences for students.
        rollout: Free-run steps (tracks only; 0 for none).
        transfer_to: Another individual to apply the trained model to (tracks).
        individual: The individual to train on (tracks).
        reported: Test RMSE the tutorial reported, by model kind.
    """

    name: str
    title: str
    command: str
    sample: str
    config: ExperimentConfig
    story: str
    rollout: int = 0
    transfer_to: str | None = None
    individual: str | None = None
    reported: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """Return the sample and the settings as one readable line.

        The settings part is :meth:`ExperimentConfig.describe`, e.g.
        ``"mastercard: High · train 2016-2020, test 2021 onward · window 60 · ..."``.
        """
        parts = [f"{self.sample}: {self.config.describe()}"]
        if self.rollout:
            parts.append(f"free run {self.rollout} steps")
        if self.transfer_to:
            parts.append(f"then applied to {self.transfer_to}")
        return " · ".join(parts)


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="mastercard-lstm-vs-gru",
            title="MasterCard: LSTM vs GRU (daily High, 2016-2020 -> 2021)",
            command="compare",
            sample="mastercard",
            config=ExperimentConfig(models=("lstm", "gru")),
            story=(
                "Train one layer of 125 LSTM or GRU units on five years of "
                "MasterCard's daily High and predict each day of 2021 from the 60 "
                "days before it. The tutorial found GRU a little better than LSTM."
            ),
            reported={"lstm": 6.70, "gru": 5.50},
        ),
        Preset(
            name="fly-gru",
            title="Fruit fly: GRU on a 2-D path, one-step and 1000-step free run",
            command="tracks",
            sample="fly",
            individual="Fly_1",
            config=TRACKS_DEFAULT,
            story=(
                "Learn one fly's X/Y path from its first 2000 frames, predict the next "
                "1000 one step at a time and also freely for 1000 steps from the last "
                "training window; then apply the same model to another fly."
            ),
            rollout=1000,
            transfer_to="Fly_2",
        ),
        Preset(
            name="stacked-lstm",
            title="Stacked LSTM: 4 x 50 units, dropout 0.2, Adam (daily Open)",
            command="compare",
            sample="mastercard",
            config=ExperimentConfig(
                columns=("Open",),
                models=("lstm",),
                model=ModelConfig(units=50, layers=4, dropout=0.2),
                train=TrainConfig(optimizer="adam", epochs=100),
            ),
            story=(
                "The classic course experiment on daily stock prices: four "
                "stacked LSTM layers of 50 units with dropout 0.2, trained with "
                "Adam for 100 epochs on the Open price, 60 days per window."
            ),
        ),
        Preset(
            name="stacked-simple-rnn",
            title="Stacked SimpleRNN: 4 x 50 units, dropout 0.2, scaled to -1..1",
            command="compare",
            sample="mastercard",
            config=ExperimentConfig(
                columns=("Open",),
                window=50,
                scale_range=(-1.0, 1.0),
                models=("simple_rnn",),
                model=ModelConfig(units=50, layers=4, dropout=0.2),
                train=TrainConfig(optimizer="adam"),
            ),
            story=(
                "Four stacked SimpleRNN layers of 50 units with dropout 0.2 and "
                "Adam, 50 days per window, the target scaled to -1..1 to suit tanh."
            ),
        ),
        Preset(
            name="netflix-simple-rnn",
            title="Three-layer SimpleRNN: 3 x 20 units, Close, 80/20 split",
            command="compare",
            sample="mastercard",
            config=ExperimentConfig(
                columns=("Close",),
                split=SplitConfig.by_fraction(0.8),
                window=100,
                models=("simple_rnn",),
                model=ModelConfig(units=20, layers=3),
                train=TrainConfig(optimizer="adam"),
            ),
            story=(
                "The Netflix experiment: three SimpleRNN layers of 20 units with Adam, "
                "100 days per window on the Close price, the first 80% of the days for "
                "training. Runs on any CSV with a Close column, or a ticker (--ticker "
                "NFLX when online)."
            ),
        ),
        Preset(
            name="random-walk-control",
            title="Control: LSTM vs GRU on a random walk (Close, 2016-2020 -> 2021)",
            command="compare",
            sample="random_walk",
            config=ExperimentConfig(
                columns=("Close",),
                split=SplitConfig.by_years(2016, 2020),
                window=60,
                models=("lstm", "gru"),
                model=ModelConfig(units=50, layers=1),
                train=TrainConfig(
                    optimizer="rmsprop", epochs=20, batch_size=32, seed=455
                ),
            ),
            story=(
                "A control experiment: LSTM and GRU on a made-up price whose daily "
                "changes are independent random draws, so nothing about tomorrow "
                "can be learned. Any model that looks good here is copying the "
                "last value: expect a skill against persistence of about 0 and a "
                "best lag of +1 in the results table, and a warning saying so "
                "next to the forecast chart."
            ),
        ),
    )
}
"""Presets by name, in the order the tutorials are usually taught (the random-walk
control last)."""


def get_preset(name: str) -> Preset:
    """Return a preset by name.

    Raises:
        ValueError: If the name is unknown; the message lists the valid names.
    """
    if name not in PRESETS:
        valid = ", ".join(PRESETS)
        raise ValueError(f"preset must be one of {valid}, got {name!r}")
    return PRESETS[name]
