"""Plain-Keras reference: how the tutorials build windows, train and forecast.

This module reproduces, as literally as is reasonable, the code of the two
tutorials the dashboard is compared against, so that every speed-up in ``bench/``
(and in docs/LEVERS.md) is measured against the same baseline:

* MasterCard stock tutorial: ``High`` column, train on 2016-2020, test on 2021
  onward (the test windows take their context from the last 60 training rows),
  ``MinMaxScaler`` fit on the training rows only, window 60, one recurrent layer
  of 125 ``tanh`` units + ``Dense(1)``, RMSprop, MSE, 50 epochs, batch 32.
* Fly tracking tutorial: ``Fly_1`` ``X, Y``, first 2000 rows train, next 1000
  test, window 60, ``GRU(125)`` + ``Dense(2)``, and a recursive forecast that
  feeds every prediction back into the window, one ``model.predict`` per step.

Everything is deterministic given a seed (``keras.utils.set_random_seed``).
TensorFlow is imported only inside the functions that need it.

Run ``python -m bench.reference_keras --help`` for a small CLI that trains the
reference models and prints RMSE and timings.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path("/work/shared/data")

MASTERCARD_FILE = "mastercard_stock_history.csv"
FLY_FILE = "fly_tracking_idoc_20flies.csv"

WINDOW = 60
UNITS = 125
EPOCHS = 50
BATCH_SIZE = 32
SEED = 455

KINDS = ("lstm", "gru", "simplernn")


def default_data_path(filename: str) -> Path:
    """``/work/main/data/<file>`` if it exists, else ``/work/shared/data/<file>``."""
    local = REPO / "data" / filename
    if local.exists():
        return local
    return SHARED_DATA / filename


# --------------------------------------------------------------------------
# Windows: the tutorial's python loop ("split_sequence")
# --------------------------------------------------------------------------
def python_loop_windows(
    values: np.ndarray, window: int
) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's ``split_sequence``: X (n, window, features), y (n, features).

    ``X[i] = values[i:i+window]`` and ``y[i] = values[i+window]``, for every ``i``
    with ``i + window < len(values)``. A 1-D series is treated as one feature.
    """
    values = np.asarray(values)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    X, y = [], []
    for i in range(len(values)):
        end_ix = i + window
        if end_ix > len(values) - 1:
            break
        seq_x, seq_y = values[i:end_ix], values[end_ix]
        X.append(seq_x)
        y.append(seq_y)
    features = values.shape[1]
    X_arr = np.array(X).reshape(len(X), window, features)
    y_arr = np.array(y).reshape(len(y), features)
    return X_arr, y_arr


# --------------------------------------------------------------------------
# Datasets, as the tutorials prepare them
# --------------------------------------------------------------------------
@dataclass
class Prepared:
    """Scaled windows plus what is needed to score a forecast in original units."""

    x_train: np.ndarray  # (n, window, features), float64 as sklearn returns it
    y_train: np.ndarray  # (n, features)
    x_test: np.ndarray
    y_test: np.ndarray
    scaler: object  # fitted sklearn MinMaxScaler
    test_raw: np.ndarray  # unscaled targets of the test windows
    train_scaled: np.ndarray  # (rows, features) scaled training rows
    test_scaled: np.ndarray  # (rows, features) scaled test rows


def load_mastercard(
    path: str | os.PathLike | None = None,
    tstart: int = 2016,
    tend: int = 2020,
    window: int = WINDOW,
) -> Prepared:
    """MasterCard tutorial: High, train tstart..tend, test tend+1.., scaler on train."""
    from sklearn.preprocessing import MinMaxScaler

    path = Path(path) if path else default_data_path(MASTERCARD_FILE)
    dataset = pd.read_csv(path, index_col="Date", parse_dates=["Date"])
    dataset = dataset.drop(
        columns=[c for c in ("Dividends", "Stock Splits") if c in dataset]
    )
    training_set = dataset.loc[f"{tstart}" : f"{tend}", "High"].values.reshape(-1, 1)
    test_set = dataset.loc[f"{tend + 1}" :, "High"].values.reshape(-1, 1)

    sc = MinMaxScaler(feature_range=(0, 1))
    training_set_scaled = sc.fit_transform(training_set)
    x_train, y_train = python_loop_windows(training_set_scaled, window)

    # Tutorial: inputs = dataset_total[len(total) - len(test) - n_steps:], which
    # is "the last `window` training rows + the test rows" when the test period
    # directly follows the training period (it does: 2020 -> 2021).
    inputs = np.concatenate([training_set[-window:], test_set]).reshape(-1, 1)
    inputs = sc.transform(inputs)
    x_test, y_test = python_loop_windows(inputs, window)
    return Prepared(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        scaler=sc,
        test_raw=test_set,
        train_scaled=training_set_scaled,
        test_scaled=sc.transform(test_set),
    )


def load_fly(
    path: str | os.PathLike | None = None,
    fly_id: str = "Fly_1",
    n_train: int = 2000,
    n_test: int = 1000,
    window: int = WINDOW,
) -> Prepared:
    """Fly tutorial: one fly's X, Y; first n_train rows train, next n_test test."""
    from sklearn.preprocessing import MinMaxScaler

    path = Path(path) if path else default_data_path(FLY_FILE)
    df = pd.read_csv(path)
    track = df.loc[df["ID"] == fly_id, ["X", "Y"]].to_numpy(dtype=np.float64)
    train = track[:n_train]
    test = track[n_train : n_train + n_test]
    sc = MinMaxScaler(feature_range=(0, 1))
    train_scaled = sc.fit_transform(train)
    x_train, y_train = python_loop_windows(train_scaled, window)
    inputs = sc.transform(np.concatenate([train[-window:], test]))
    x_test, y_test = python_loop_windows(inputs, window)
    return Prepared(
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        scaler=sc,
        test_raw=test,
        train_scaled=train_scaled,
        test_scaled=sc.transform(test),
    )


# --------------------------------------------------------------------------
# Model and training, as the tutorials do it
# --------------------------------------------------------------------------
def _layer_class(kind: str):
    import keras

    kind = kind.lower()
    classes = {
        "lstm": keras.layers.LSTM,
        "gru": keras.layers.GRU,
        "simplernn": keras.layers.SimpleRNN,
    }
    if kind not in classes:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    return classes[kind]


def build_reference_model(
    kind: str, window: int, features: int, units: int = UNITS, **layer_kwargs
):
    """``Sequential([RNN(units, tanh, input_shape=...), Dense(features)])``."""
    import keras

    layer_cls = _layer_class(kind)
    with warnings.catch_warnings():
        # Keras 3 warns that input_shape= on a layer is discouraged; the
        # tutorials pass it, so keep it.
        warnings.simplefilter("ignore", UserWarning)
        model = keras.Sequential(
            [
                layer_cls(
                    units=units,
                    activation="tanh",
                    input_shape=(window, features),
                    **layer_kwargs,
                ),
                keras.layers.Dense(units=features),
            ]
        )
    return model


def reference_train(
    kind: str,
    x_train: np.ndarray,
    y_train: np.ndarray,
    units: int = UNITS,
    epochs: int = EPOCHS,
    batch_size: int = BATCH_SIZE,
    seed: int = SEED,
):
    """Seed, build, ``compile(optimizer="rmsprop", loss="mse")``, ``fit`` with defaults.

    Returns ``(model, seconds)`` where seconds is the wall time of ``fit``.
    """
    import keras

    keras.utils.set_random_seed(seed)
    _, window, features = x_train.shape
    model = build_reference_model(kind, window, features, units=units)
    model.compile(optimizer="rmsprop", loss="mse")
    t0 = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    return model, time.perf_counter() - t0


def reference_predict(model, x: np.ndarray) -> np.ndarray:
    """One-step-ahead predictions for all test windows (``model.predict``)."""
    return model.predict(x, verbose=0)


def reference_rollout(model, first_window: np.ndarray, steps: int) -> np.ndarray:
    """Recursive forecast: predict, append to the window, drop the oldest, repeat.

    ``first_window`` is (window, features); returns (steps, features). One
    ``model.predict(x[None], verbose=0)`` call per step, as in the tutorial.
    """
    x = np.array(first_window, dtype=np.float64, copy=True)
    preds = []
    for _ in range(steps):
        p = model.predict(x[None], verbose=0)[0]
        preds.append(p)
        x = np.vstack([x[1:], p.reshape(1, -1)])
    return np.asarray(preds)


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error over all elements."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(np.shape(y_pred))
    return float(np.sqrt(np.mean((y_true - np.asarray(y_pred, dtype=np.float64)) ** 2)))


def mastercard_test_rmse(model, data: Prepared) -> float:
    """Tutorial metric: RMSE of inverse-transformed predictions vs raw test High."""
    pred = data.scaler.inverse_transform(reference_predict(model, data.x_test))
    return rmse(data.test_raw, pred)


# --------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser(
        "mastercard", help="train the tutorial model(s) and print test RMSE"
    )
    p.add_argument(
        "--path", default=None, help=f"CSV (default: data/{MASTERCARD_FILE})"
    )
    p.add_argument("--kinds", default=",".join(KINDS))
    p.add_argument("--epochs", type=int, default=EPOCHS)
    p.add_argument("--seed", type=int, default=SEED)

    f = sub.add_parser(
        "fly", help="train the fly GRU and time the tutorial's recursive forecast"
    )
    f.add_argument("--path", default=None, help=f"CSV (default: data/{FLY_FILE})")
    f.add_argument("--epochs", type=int, default=EPOCHS)
    f.add_argument("--steps", type=int, default=1000)
    f.add_argument("--seed", type=int, default=SEED)

    args = parser.parse_args(argv)
    if args.cmd == "mastercard":
        data = load_mastercard(args.path)
        for kind in args.kinds.split(","):
            model, secs = reference_train(
                kind, data.x_train, data.y_train, epochs=args.epochs, seed=args.seed
            )
            out = {
                "kind": kind,
                "epochs": args.epochs,
                "fit_seconds": round(secs, 2),
                "train_windows": len(data.x_train),
                "test_rmse": round(mastercard_test_rmse(model, data), 4),
            }
            print(json.dumps(out), flush=True)
    else:
        data = load_fly(args.path)
        model, secs = reference_train(
            "gru", data.x_train, data.y_train, epochs=args.epochs, seed=args.seed
        )
        t0 = time.perf_counter()
        roll = reference_rollout(model, data.train_scaled[-WINDOW:], args.steps)
        roll_secs = time.perf_counter() - t0
        pred = data.scaler.inverse_transform(roll)
        out = {
            "fit_seconds": round(secs, 2),
            "rollout_seconds": round(roll_secs, 2),
            "rollout_rmse_px": round(rmse(data.test_raw[: args.steps], pred), 3),
            "one_step_rmse_px": round(
                rmse(
                    data.test_raw,
                    data.scaler.inverse_transform(
                        reference_predict(model, data.x_test)
                    ),
                ),
                3,
            ),
        }
        print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
