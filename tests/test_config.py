import pytest

from forecasting.settings.config import (
    MODEL_KINDS,
    ExperimentConfig,
    ModelConfig,
    SplitConfig,
    TrainConfig,
)


def test_defaults_are_the_tutorials():
    config = ExperimentConfig()
    assert config.columns == ("High",)
    assert (config.split.train_start_year, config.split.train_end_year) == (2016, 2020)
    assert config.window == 60
    assert config.models == MODEL_KINDS
    assert (config.model.units, config.model.layers, config.model.dropout) == (
        125,
        1,
        0.0,
    )
    train = config.train
    assert (train.optimizer, train.epochs, train.batch_size, train.seed) == (
        "rmsprop",
        50,
        32,
        455,
    )


def test_configs_are_frozen():
    config = ModelConfig()
    with pytest.raises(AttributeError):
        config.units = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (
            lambda: ModelConfig(units=0),
            r"units must be an integer between 1 and 4096, got 0",
        ),
        (lambda: ModelConfig(layers=9), r"layers .* got 9"),
        (
            lambda: ModelConfig(dropout=1.5),
            r"dropout must be a number in \[0.0, 0.9\], got 1.5",
        ),
        (
            lambda: TrainConfig(optimizer="adamw"),
            r"optimizer must be one of 'rmsprop', 'adam', 'sgd', got 'adamw'",
        ),
        (lambda: TrainConfig(learning_rate=0), r"learning_rate .* got 0"),
        (lambda: TrainConfig(epochs=0), r"epochs .* got 0"),
        (lambda: TrainConfig(batch_size=2.5), r"batch_size .* got 2.5"),
        (lambda: TrainConfig(seed=-1), r"seed .* got -1"),
        (
            lambda: TrainConfig(early_stopping="yes"),
            r"early_stopping must be True or False, got 'yes'",
        ),
        (lambda: ExperimentConfig(window=1), r"window .* got 1"),
        (
            lambda: ExperimentConfig(models=()),
            r"models must name at least one of 'lstm', 'gru', 'simple_rnn', got \(\)",
        ),
        (
            lambda: ExperimentConfig(models=("lstm", "transformer")),
            r"model kind must be one of .* got 'transformer'",
        ),
        (
            lambda: ExperimentConfig(models=("gru", "gru")),
            r"models must not repeat a kind",
        ),
        (lambda: ExperimentConfig(columns=()), r"columns must be a non-empty tuple"),
        (
            lambda: ExperimentConfig(columns="High"),
            r"columns must be a non-empty tuple .* got 'High'",
        ),
        (
            lambda: ExperimentConfig(scale_range=(1, 0)),
            r"scale_range must be \(low, high\) with low < high, got \(1, 0\)",
        ),
        (
            lambda: ExperimentConfig(scale_range=("a", 1)),
            r"scale_range must be two numbers",
        ),
        (
            lambda: TrainConfig(seeds=0),
            r"seeds must be an integer between 1 and 20, got 0",
        ),
        (
            lambda: ExperimentConfig(target="log"),
            r"target must be one of 'level', 'diff', got 'log'",
        ),
        (
            lambda: SplitConfig.by_years(2020, 2016),
            r"train_end_year must not be before train_start_year, got 2016 < 2020",
        ),
        (
            lambda: SplitConfig.by_years(2016, 2020, 2019),
            r"test_end_year must be after train_end_year \(2020\), got 2019",
        ),
        (
            lambda: SplitConfig.by_fraction(1.0),
            r"train_fraction must be a number in \(0.0, 0.99\], got 1.0",
        ),
        (lambda: SplitConfig.by_rows(1, 5), r"train_rows .* got 1"),
        (lambda: SplitConfig.by_rows(100, 0), r"test_rows .* got 0"),
        (
            lambda: SplitConfig("weeks"),
            r"split method must be one of 'years', 'fraction', 'rows', got 'weeks'",
        ),
    ],
)
def test_invalid_values_name_argument_and_value(factory, match):
    with pytest.raises(ValueError, match=match):
        factory()


def test_lists_become_tuples_so_configs_hash():
    config = ExperimentConfig(columns=["X", "Y"], models=["gru"], scale_range=[-1, 1])
    assert config.columns == ("X", "Y")
    assert config.models == ("gru",)
    assert config.scale_range == (-1.0, 1.0)
    assert hash(config) == hash(
        ExperimentConfig(columns=("X", "Y"), models=("gru",), scale_range=(-1, 1))
    )


def test_split_descriptions():
    assert (
        SplitConfig.by_years(2016, 2020).describe()
        == "train 2016-2020, test 2021 onward"
    )
    assert (
        SplitConfig.by_years(2016, 2019, 2020).describe()
        == "train 2016-2019, test 2020-2020"
    )
    assert SplitConfig.by_fraction(0.8).describe() == "train first 80%, test the rest"
    assert (
        SplitConfig.by_rows(2000, 1000).describe()
        == "train first 2000 rows, test next 1000"
    )


def test_the_last_of_several_seeds_must_be_a_valid_seed():
    TrainConfig(seed=2**31 - 1, seeds=1)
    TrainConfig(seed=2**31 - 3, seeds=3)
    with pytest.raises(
        ValueError, match=r"seed \+ seeds - 1 must be at most 2147483647"
    ):
        TrainConfig(seed=2**31 - 1, seeds=3)
