"""Which levers make training and recursive forecasting fast on this CPU?

Everything is compared against ``bench/reference_keras.py`` (the tutorials'
plain Keras code) with the *same model* (same layer, units, optimizer, loss,
batch size, seed, data). Timings on a noisy 2-core machine are only meaningful
as ratios measured side by side in one run, so the ``matrix`` command runs each
(kind, variant) in a fresh subprocess, interleaved round-robin, and reports
every variant as a ratio to the reference measured in the same round.

Sub-commands (see ``--help`` of each)::

    python bench/levers.py train --kind lstm --variant jit    # one variant, JSON
    python bench/levers.py matrix --rounds 2 --out bench/results/train.jsonl
    python bench/levers.py summarize bench/results/train.jsonl
    python bench/levers.py rmse --variants ref,jit_f32 --epochs 50
    python bench/levers.py forecast --train-epochs 5 --steps 1000
    python bench/levers.py windows --rows 100000
    python bench/levers.py memory --mode clear_gc --cycles 10

Results (and the commands that produced them) are written up in
``bench/LEVERS.md``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import reference_keras as ref  # noqa: E402

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

# --------------------------------------------------------------------------
# Variants. Each is a dict of knobs; "env" is applied before TF is imported.
# --------------------------------------------------------------------------
VARIANTS: dict[str, dict] = {
    # the tutorial: float64 numpy from MinMaxScaler, compile/fit defaults
    "ref": {},
    # data feeding
    "f32": {"dtype": "float32"},
    "dataset": {"feed": "dataset"},
    # steps_per_execution (38 = all steps of an epoch at batch 32)
    "spe8": {"spe": 8},
    "spe32": {"spe": 32},
    "spe_all": {"spe": "all"},
    # XLA
    "jit": {"jit": True},
    "jit_f32": {"jit": True, "dtype": "float32"},
    "jit_spe_all": {"jit": True, "dtype": "float32", "spe": "all"},
    # threading (intra, inter); default is 0/0 = let TF choose (2 here)
    "thr_1_1": {"intra": 1, "inter": 1},
    "thr_2_1": {"intra": 2, "inter": 1},
    "thr_1_2": {"intra": 1, "inter": 2},
    "thr_2_2": {"intra": 2, "inter": 2},
    "jit_spe_all_thr_1_1": {
        "jit": True,
        "dtype": "float32",
        "spe": "all",
        "intra": 1,
        "inter": 1,
    },
    "jit_spe_all_thr_2_1": {
        "jit": True,
        "dtype": "float32",
        "spe": "all",
        "intra": 2,
        "inter": 1,
    },
    "onednn_off": {"env": {"TF_ENABLE_ONEDNN_OPTS": "0"}},
    # layer options (same math)
    "unroll": {"unroll": True},
    "unroll_jit": {"unroll": True, "jit": True, "dtype": "float32"},
    "reset_before": {"reset_after": False, "only": ("gru",)},
    "reset_before_jit": {
        "reset_after": False,
        "jit": True,
        "dtype": "float32",
        "only": ("gru",),
    },
    "no_cudnn": {"use_cudnn": False, "only": ("lstm", "gru")},
    # TF's fused CPU LSTM kernel (BlockLSTM), weights copied from the
    # reference model so the initial model is identical
    "fused_block": {"fused": True, "dtype": "float32", "only": ("lstm",)},
    # hand-written loop: one tf.function call per epoch (tf.while_loop over
    # batches), with and without XLA
    "custom_graph": {"custom": True, "jit": False},
    "custom_xla": {"custom": True, "jit": True},
    "custom_xla_thr_1_1": {"custom": True, "jit": True, "intra": 1, "inter": 1},
    "custom_xla_thr_2_1": {"custom": True, "jit": True, "intra": 2, "inter": 1},
    "custom_xla_unroll": {"custom": True, "jit": True, "unroll": True},
    # batch size, for information only (the config stays batch 32)
    "bs16": {"batch": 16, "info": True},
    "bs64": {"batch": 64, "info": True},
    "bs128": {"batch": 128, "info": True},
    "bs256": {"batch": 256, "info": True},
    "jit_bs128": {"batch": 128, "jit": True, "dtype": "float32", "info": True},
}

DEFAULT_MATRIX = [
    "ref",
    "f32",
    "dataset",
    "spe8",
    "spe32",
    "spe_all",
    "jit",
    "jit_f32",
    "jit_spe_all",
    "thr_1_1",
    "thr_2_1",
    "thr_1_2",
    "thr_2_2",
    "jit_spe_all_thr_1_1",
    "onednn_off",
    "unroll",
    "unroll_jit",
    "reset_before",
    "reset_before_jit",
    "no_cudnn",
    "fused_block",
    "custom_graph",
    "custom_xla",
    "bs16",
    "bs64",
    "bs128",
    "bs256",
]

# variants that can share one process (no threading/env change)
IN_PROCESS = [
    v for v in VARIANTS if not any(k in VARIANTS[v] for k in ("intra", "inter", "env"))
]


def vm_rss_kb() -> int:
    """Resident set size of this process in kB, from /proc/self/status."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def _setup_tf(intra: int | None = None, inter: int | None = None):
    """Import TF quietly and apply threading (must happen before any op runs)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    if intra is not None:
        tf.config.threading.set_intra_op_parallelism_threads(intra)
    if inter is not None:
        tf.config.threading.set_inter_op_parallelism_threads(inter)
    return tf


# --------------------------------------------------------------------------
# Fused LSTM (TF's BlockLSTM CPU kernel): same weights and math as
# keras.layers.LSTM(activation="tanh", recurrent_activation="sigmoid").
# --------------------------------------------------------------------------
def make_block_lstm_layer_class():
    import keras
    import tensorflow as tf

    class BlockLSTM(keras.layers.Layer):
        """Last hidden state of an LSTM computed by one ``BlockLSTM`` op."""

        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            u = self.units
            self.kernel = self.add_weight(
                shape=(input_shape[-1], 4 * u),
                initializer="glorot_uniform",
                name="kernel",
            )
            self.recurrent_kernel = self.add_weight(
                shape=(u, 4 * u), initializer="orthogonal", name="recurrent_kernel"
            )
            self.bias = self.add_weight(
                shape=(4 * u,), initializer="zeros", name="bias"
            )

        def call(self, x):
            x = tf.transpose(x, [1, 0, 2])  # time major
            # Keras gate order is i, f, c, o; BlockLSTM (V1) wants i, c, f, o.
            # (BlockLSTMV2 takes IFCO directly, but TF registers the V1
            # gradient for it, which returns gate-permuted weight gradients.)
            w = tf.concat([self.kernel, self.recurrent_kernel], axis=0)
            wi, wf, wc, wo = tf.split(w, 4, axis=1)
            bi, bf, bc, bo = tf.split(self.bias, 4)
            zeros_state = tf.zeros(tf.stack([tf.shape(x)[1], self.units]), x.dtype)
            peep = tf.zeros([self.units], x.dtype)
            out = tf.raw_ops.BlockLSTM(
                seq_len_max=tf.cast(tf.shape(x)[0], tf.int64),
                x=x,
                cs_prev=zeros_state,
                h_prev=zeros_state,
                w=tf.concat([wi, wc, wf, wo], axis=1),
                wci=peep,
                wcf=peep,
                wco=peep,
                b=tf.concat([bi, bc, bf, bo], axis=0),
                forget_bias=0.0,
                cell_clip=-1.0,  # <= 0 disables clipping (Keras does not clip)
                use_peephole=False,
            )
            return out[6][-1]  # h of the last step

    return BlockLSTM


# --------------------------------------------------------------------------
# Hand-written training loop: one tf.function call per epoch.
# --------------------------------------------------------------------------
def make_epoch_function(model, optimizer, x, y, batch_size: int, jit: bool):
    """Return ``epoch(perm) -> mean loss``; ``perm`` is a padded permutation.

    The epoch runs as a ``tf.while_loop`` over batches inside one
    ``tf.function`` (optionally XLA-compiled). The last, partial batch is padded
    with index -1 and weighted 0, so the loss equals Keras' per-batch mean MSE.
    """
    import tensorflow as tf

    n = x.shape[0]
    n_batches = math.ceil(n / batch_size)
    xt = tf.constant(x, tf.float32)
    yt = tf.constant(y, tf.float32)
    variables = model.trainable_variables
    optimizer.build(variables)

    @tf.function(jit_compile=jit)
    def epoch(perm):
        idx = tf.reshape(perm, (n_batches, batch_size))

        def body(i, total):
            b = idx[i]
            w = tf.cast(b >= 0, tf.float32)
            b = tf.maximum(b, 0)
            xb = tf.gather(xt, b)
            yb = tf.gather(yt, b)
            with tf.GradientTape() as tape:
                pred = model(xb, training=True)
                per_sample = tf.reduce_mean(tf.square(yb - pred), axis=-1)
                loss = tf.reduce_sum(per_sample * w) / tf.reduce_sum(w)
            grads = tape.gradient(loss, variables)
            optimizer.apply(grads, variables)
            return i + 1, total + loss

        _, total = tf.while_loop(
            lambda i, _: i < n_batches, body, (tf.constant(0), tf.constant(0.0))
        )
        return total / n_batches

    def permutation(rng: np.random.Generator) -> np.ndarray:
        perm = np.full(n_batches * batch_size, -1, dtype=np.int32)
        perm[:n] = rng.permutation(n)
        return perm

    return epoch, permutation


def custom_fit(model, x, y, epochs, batch_size, jit, seed, optimizer=None):
    """Train ``model`` with the hand-written loop; per-epoch wall/CPU s, losses."""
    import keras

    optimizer = optimizer or keras.optimizers.RMSprop()
    epoch, permutation = make_epoch_function(model, optimizer, x, y, batch_size, jit)
    rng = np.random.default_rng(seed)
    times, cpu, losses = [], [], []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = float(epoch(permutation(rng)))
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        losses.append(loss)
    return times, cpu, losses


# --------------------------------------------------------------------------
# train: one (kind, variant), printed as one JSON line
# --------------------------------------------------------------------------
class Runner:
    """One (kind, variant) model, ready to train epoch by epoch.

    ``epoch()`` runs one epoch and returns (wall s, CPU s, loss). ``fit_all``
    trains ``epochs`` epochs in one call, the way the dashboard would.
    """

    def __init__(self, kind: str, variant: str, data, seed: int):
        import keras
        import tensorflow as tf

        self.kind, self.variant = kind, variant
        cfg = self.cfg = dict(VARIANTS[variant])
        x, y = data.x_train, data.y_train
        if cfg.get("dtype") == "float32" or cfg.get("custom"):
            x, y = x.astype(np.float32), y.astype(np.float32)
        self.x, self.y = x, y
        self.batch = batch = cfg.get("batch", ref.BATCH_SIZE)
        n_steps = math.ceil(len(x) / batch)
        self.extra: dict = {}

        keras.utils.set_random_seed(seed)
        layer_kwargs = {
            k: cfg[k] for k in ("unroll", "reset_after", "use_cudnn") if k in cfg
        }
        model = ref.build_reference_model(kind, x.shape[1], x.shape[2], **layer_kwargs)
        if cfg.get("fused"):
            model = self._fused_copy(model)
        self.model = model

        if cfg.get("custom"):
            self.optimizer = keras.optimizers.RMSprop()
            self._epoch_fn, self._perm = make_epoch_function(
                model, self.optimizer, x, y, batch, cfg["jit"]
            )
            self._rng = np.random.default_rng(seed)
            return

        compile_kwargs = {}
        if cfg.get("jit"):
            compile_kwargs["jit_compile"] = True
        if "spe" in cfg:
            spe = cfg["spe"]
            compile_kwargs["steps_per_execution"] = n_steps if spe == "all" else spe
        model.compile(optimizer="rmsprop", loss="mse", **compile_kwargs)
        self.ds = None
        if cfg.get("feed") == "dataset":
            self.ds = (
                tf.data.Dataset.from_tensor_slices(
                    (x.astype(np.float32), y.astype(np.float32))
                )
                .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
                .batch(batch)
                .prefetch(tf.data.AUTOTUNE)
            )

    def _fused_copy(self, model):
        """BlockLSTM model with the reference model's initial weights."""
        import keras
        import tensorflow as tf

        x, y = self.x, self.y
        block_cls = make_block_lstm_layer_class()
        fused = keras.Sequential(
            [
                keras.Input((x.shape[1], x.shape[2])),
                block_cls(ref.UNITS),
                keras.layers.Dense(x.shape[2]),
            ]
        )
        fused.set_weights(model.get_weights())
        probe = x[:64].astype(np.float32)
        yprobe = y[:64].astype(np.float32)
        self.extra["fused_max_abs_diff_vs_keras"] = float(
            np.max(np.abs(fused(probe).numpy() - model(probe).numpy()))
        )
        grads = []
        for mod in (model, fused):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(mod(probe, training=True) - yprobe))
            grads.append(tape.gradient(loss, mod.trainable_variables))
        self.extra["fused_max_rel_grad_diff_vs_keras"] = float(
            max(
                np.max(np.abs(a.numpy() - b.numpy())) / np.max(np.abs(a.numpy()))
                for a, b in zip(*grads, strict=True)
            )
        )
        return fused

    def _timer(self, times, cpu, losses):
        import keras

        class Timer(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                self.t0, self.c0 = time.perf_counter(), time.process_time()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.t0)
                cpu.append(time.process_time() - self.c0)
                losses.append(float(logs["loss"]))

        return Timer()

    def fit_all(self, epochs: int):
        """Train ``epochs`` epochs in one call; per-epoch wall s, CPU s, losses."""
        times: list[float] = []
        cpu: list[float] = []
        losses: list[float] = []
        if self.cfg.get("custom"):
            for _ in range(epochs):
                t, c, loss = self.epoch()
                times.append(t)
                cpu.append(c)
                losses.append(loss)
            return times, cpu, losses
        cb = [self._timer(times, cpu, losses)]
        if self.ds is not None:
            self.model.fit(self.ds, epochs=epochs, verbose=0, callbacks=cb)
        else:
            self.model.fit(
                self.x,
                self.y,
                epochs=epochs,
                batch_size=self.batch,
                verbose=0,
                callbacks=cb,
            )
        return times, cpu, losses

    def epoch(self):
        """One epoch; returns (wall s, CPU s, loss)."""
        if self.cfg.get("custom"):
            t0, c0 = time.perf_counter(), time.process_time()
            loss = float(self._epoch_fn(self._perm(self._rng)))
            return time.perf_counter() - t0, time.process_time() - c0, loss
        times, cpu, losses = self.fit_all(1)
        return times[0], cpu[0], losses[0]

    def test_rmse(self, data) -> float:
        pred = self.model(data.x_test.astype(np.float32), training=False).numpy()
        return ref.rmse(data.test_raw, data.scaler.inverse_transform(pred))


def run_train(kind: str, variant: str, epochs: int, seed: int, path, want_rmse: bool):
    cfg = VARIANTS[variant]
    tf = _setup_tf(cfg.get("intra"), cfg.get("inter"))

    data = ref.load_mastercard(path)
    runner = Runner(kind, variant, data, seed)
    epoch_times, epoch_cpu, losses = runner.fit_all(epochs)
    steady = epoch_times[1:] if len(epoch_times) > 1 else epoch_times
    out = {
        "kind": kind,
        "variant": variant,
        "epochs": epochs,
        "batch": runner.batch,
        "first_epoch_s": round(epoch_times[0], 4),
        "epoch_s_median": round(statistics.median(steady), 4),
        # min is the least disturbed by other processes on this shared machine
        "epoch_s_min": round(min(steady), 4),
        "epoch_cpu_s_median": round(statistics.median(epoch_cpu[1:] or epoch_cpu), 4),
        "epoch_s_all": [round(t, 4) for t in epoch_times],
        "final_loss": losses[-1],
        "info_only": bool(cfg.get("info")),
        "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
        "threads": [
            tf.config.threading.get_intra_op_parallelism_threads(),
            tf.config.threading.get_inter_op_parallelism_threads(),
        ],
        "jit_compile_effective": bool(
            runner.cfg.get("jit")
            if runner.cfg.get("custom")
            else runner.model.jit_compile
        ),
        **runner.extra,
    }
    if want_rmse:
        out["test_rmse"] = runner.test_rmse(data)
    return out


def cmd_interleave(a):
    """All in-process variants of one kind, one epoch each in turn, many rounds.

    Under a time-varying background load this is the fairest comparison: each
    round's epochs of every variant run within a few seconds of each other, and
    the ratio is taken per round against the reference epoch of that round.
    """
    _setup_tf()
    data = ref.load_mastercard(a.path)
    variants = a.variants.split(",")
    if "ref" not in variants:
        variants = ["ref", *variants]
    out_path = Path(a.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    for kind in a.kinds.split(","):
        runners = []
        for v in variants:
            only = VARIANTS[v].get("only")
            if only and kind not in only:
                continue
            if any(k in VARIANTS[v] for k in ("intra", "inter", "env")):
                raise SystemExit(f"{v} needs its own process: use matrix")
            runners.append(Runner(kind, v, data, a.seed))
        first = {}
        for r in runners:  # first (tracing/compile) epoch
            first[r.variant] = r.epoch()[0]
        per = {r.variant: [] for r in runners}
        for rnd in range(a.rounds):
            order = runners if rnd % 2 == 0 else runners[::-1]
            for r in order:
                per[r.variant].append(r.epoch())
        ref_t = [t for t, _, _ in per["ref"]]
        ref_c = [c for _, c, _ in per["ref"]]
        for r in runners:
            t = [x[0] for x in per[r.variant]]
            c = [x[1] for x in per[r.variant]]
            row = {
                "kind": kind,
                "variant": r.variant,
                "rounds": a.rounds,
                "batch": r.batch,
                "first_epoch_s": round(first[r.variant], 3),
                "epoch_s_min": round(min(t), 4),
                "epoch_s_median": round(statistics.median(t), 4),
                "ratio_median": round(
                    statistics.median(v / b for v, b in zip(t, ref_t, strict=True)), 3
                ),
                "ratio_of_mins": round(min(t) / min(ref_t), 3),
                "cpu_ratio_median": round(
                    statistics.median(v / b for v, b in zip(c, ref_c, strict=True)), 3
                ),
                "final_loss": per[r.variant][-1][2],
                "info_only": bool(r.cfg.get("info")),
                "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
                **r.extra,
            }
            with out_path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(json.dumps(row), flush=True)
        del runners
        import keras

        keras.backend.clear_session()
        gc.collect()


def _child_env(variant: str) -> dict:
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(VARIANTS[variant].get("env", {}))
    return env


def _run_child(args: list[str], variant: str) -> dict | None:
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_child_env(variant))
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(f"FAILED {args}: {proc.stderr[-2000:]}\n")
        return {"failed": True, "args": args, "stderr_tail": proc.stderr[-600:]}
    return json.loads(lines[-1])


def cmd_matrix(a):
    kinds = a.kinds.split(",")
    variants = a.variants.split(",") if a.variants else DEFAULT_MATRIX
    out_path = Path(a.out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    seq = 0
    for rnd in range(a.rounds):
        for variant in variants:
            for kind in kinds:
                only = VARIANTS[variant].get("only")
                if only and kind not in only:
                    continue
                args = ["train", "--kind", kind, "--variant", variant]
                args += ["--epochs", str(a.epochs), "--seed", str(a.seed)]
                if a.path:
                    args += ["--path", a.path]
                res = _run_child(args, variant)
                res.update({"round": rnd, "seq": seq, "kind": kind, "variant": variant})
                seq += 1
                with out_path.open("a") as fh:
                    fh.write(json.dumps(res) + "\n")
                print(json.dumps(res), flush=True)


def _nearest_ref_ratio(rows: list[dict], metric: str) -> dict:
    """Matrix rows: ratio vs the mean of the nearest ref runs (same kind)."""
    ratios: dict[tuple[str, str], list[float]] = {}
    for kind in {r["kind"] for r in rows}:
        seq = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["seq"])
        ref_idx = [i for i, r in enumerate(seq) if r["variant"] == "ref"]
        for i, r in enumerate(seq):
            before = [j for j in ref_idx if j < i]
            after = [j for j in ref_idx if j > i]
            near = ([seq[before[-1]][metric]] if before else []) + (
                [seq[after[0]][metric]] if after else []
            )
            if r["variant"] == "ref" or not near:
                continue
            ratios.setdefault((r["variant"], kind), []).append(
                r[metric] / statistics.mean(near)
            )
    return ratios


def cmd_summarize(a):
    rows = [
        json.loads(ln) for p in a.files for ln in Path(p).read_text().splitlines() if ln
    ]
    rows = [r for r in rows if not r.get("failed")]
    kinds = ["lstm", "gru", "simplernn"]
    order = list(dict.fromkeys(r["variant"] for r in rows))
    interleaved = all("ratio_median" in r for r in rows)
    metric = {"min": "epoch_s_min", "median": "epoch_s_median"}[a.metric]
    if interleaved:
        print("ratio = median over rounds of (variant epoch / same round's ref epoch)")
        ratios = {(r["variant"], r["kind"]): [r["ratio_median"]] for r in rows}
    else:
        print(
            f"ratio = {metric} / mean {metric} of the nearest ref runs (own processes)"
        )
        ratios = _nearest_ref_ratio(rows, metric)
        ratios.update(
            {(r["variant"], r["kind"]): [1.0] for r in rows if r["variant"] == "ref"}
        )
    secs: dict[tuple[str, str], list[float]] = {}
    firsts: dict[tuple[str, str], list[float]] = {}
    for r in rows:
        secs.setdefault((r["variant"], r["kind"]), []).append(r[metric])
        firsts.setdefault((r["variant"], r["kind"]), []).append(r["first_epoch_s"])
    head = " | ".join(f"{k}: {metric} s (ratio) [1st epoch s]" for k in kinds)
    print(f"| variant | {head} |")
    print("|---|" + "---|" * len(kinds))
    for v in order:
        cells = []
        for k in kinds:
            if (v, k) not in ratios:
                cells.append("n/a")
                continue
            sec = statistics.median(secs[(v, k)])
            ratio = statistics.median(ratios[(v, k)])
            first = statistics.median(firsts[(v, k)])
            cells.append(f"{sec:.3f} ({ratio:.2f}x) [{first:.1f}]")
        print(f"| {v} | " + " | ".join(cells) + " |")


# --------------------------------------------------------------------------
# rmse: full-length training of reference vs candidate variants
# --------------------------------------------------------------------------
def cmd_rmse(a):
    for kind in a.kinds.split(","):
        for variant in a.variants.split(","):
            only = VARIANTS[variant].get("only")
            if only and kind not in only:
                continue
            args = ["train", "--kind", kind, "--variant", variant, "--rmse"]
            args += ["--epochs", str(a.epochs), "--seed", str(a.seed)]
            if a.path:
                args += ["--path", a.path]
            t0 = time.perf_counter()
            res = _run_child(args, variant)
            res["process_wall_s"] = round(time.perf_counter() - t0, 2)
            res["seed"] = a.seed
            res.pop("epoch_s_all", None)
            line = json.dumps(res)
            print(line, flush=True)
            if a.out:
                Path(a.out).parent.mkdir(parents=True, exist_ok=True)
                with open(a.out, "a") as fh:
                    fh.write(line + "\n")


# --------------------------------------------------------------------------
# forecast: recursive k-step forecasting (fly GRU)
# --------------------------------------------------------------------------
def make_rollout_fn(model, steps: int, jit: bool):
    """In-graph recursive forecast: (batch, window, feat) -> (batch, steps, feat)."""
    import tensorflow as tf

    @tf.function(jit_compile=jit)
    def rollout(window):
        preds = tf.TensorArray(window.dtype, size=steps)

        def body(i, win, preds):
            p = model(win, training=False)  # (batch, features)
            win = tf.concat([win[:, 1:, :], p[:, None, :]], axis=1)
            return i + 1, win, preds.write(i, p)

        _, _, preds = tf.while_loop(
            lambda i, *_: i < steps, body, (tf.constant(0), window, preds)
        )
        return tf.transpose(preds.stack(), [1, 0, 2])

    return rollout


def call_loop_rollout(model, first_window, steps):
    """Python loop calling ``model(x, training=False)`` (no ``predict``)."""
    import tensorflow as tf

    x = tf.constant(np.asarray(first_window, np.float32)[None])
    preds = []
    for _ in range(steps):
        p = model(x, training=False)
        preds.append(p)
        x = tf.concat([x[:, 1:, :], p[:, None, :]], axis=1)
    return tf.concat(preds, axis=0).numpy()


def _compare(a, b) -> dict:
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    absdiff = np.abs(a - b)
    return {
        "max_abs": float(absdiff.max()),
        "max_rel": float((absdiff / np.maximum(np.abs(b), 1e-12)).max()),
        "allclose_rtol1e-4": bool(np.allclose(a, b, rtol=1e-4, atol=1e-6)),
    }


def cmd_forecast(a):
    _setup_tf(a.intra, a.inter)
    import keras
    import pandas as pd

    data = ref.load_fly(a.path)
    keras.utils.set_random_seed(a.seed)
    model, fit_s = ref.reference_train(
        "gru", data.x_train, data.y_train, epochs=a.train_epochs, seed=a.seed
    )
    steps = a.steps
    w = ref.WINDOW
    first = data.train_scaled[-w:]
    res = {"train_epochs": a.train_epochs, "fit_s": round(fit_s, 2), "steps": steps}

    def timed(fn, *args):
        t0 = time.perf_counter()
        out = fn(*args)
        return out, time.perf_counter() - t0

    ref_pred, ref_s = timed(ref.reference_rollout, model, first, steps)
    res["ref_predict_loop_s"] = ref_s

    call_pred, call_s = timed(call_loop_rollout, model, first, steps)
    res["a_call_loop_s"] = call_s
    res["a_vs_ref"] = _compare(call_pred, ref_pred)

    first32 = np.asarray(first, np.float32)[None]
    for jit in (False, True):
        tag = "b_xla" if jit else "b_graph"
        fn = make_rollout_fn(model, steps, jit)
        _, first_call = timed(lambda fn=fn: fn(first32).numpy())
        pred, s = timed(lambda fn=fn: fn(first32).numpy())
        reps = [s] + [timed(lambda fn=fn: fn(first32).numpy())[1] for _ in range(2)]
        res[f"{tag}_first_call_s"] = first_call
        res[f"{tag}_s"] = statistics.median(reps)
        res[f"{tag}_vs_ref"] = _compare(pred[0], ref_pred)

    # (c) five individuals in one call vs five calls
    df = pd.read_csv(a.path or ref.default_data_path(ref.FLY_FILE))
    ids = [f"Fly_{i}" for i in range(1, a.individuals + 1)]
    windows = []
    for fid in ids:
        track = df.loc[df["ID"] == fid, ["X", "Y"]].to_numpy(np.float64)[:2000]
        windows.append(data.scaler.transform(track[-w:]))
    batch = np.asarray(windows, np.float32)
    n_ind = len(ids)
    fn = make_rollout_fn(model, steps, True)
    fn(batch[:1]).numpy()  # compile batch-1 shape
    fn(batch).numpy()  # compile batch-n shape
    singles, single_s = timed(
        lambda: [fn(batch[i : i + 1]).numpy()[0] for i in range(n_ind)]
    )
    batched, batched_s = timed(lambda: fn(batch).numpy())
    res["c_individuals"] = n_ind
    res["c_xla_sequential_s"] = single_s
    res["c_xla_batched_s"] = batched_s
    res["c_batched_vs_sequential"] = _compare(batched, np.asarray(singles))
    # reference predict loop on the batch of five (one predict per step)
    if a.ref_batched:
        ref5, ref5_s = timed(
            _predict_loop_batched, model, batch.astype(np.float64), steps
        )
        res["c_ref_predict_loop_batched_s"] = ref5_s
        res["c_ref_batched_vs_xla_batched"] = _compare(batched, ref5)
    res["c_ref_sequential_est_s"] = ref_s * n_ind
    res["c_batched_xla_vs_ref_first"] = _compare(batched[0], ref_pred)

    # model quality (unchanged by any of these): rollout RMSE in pixels
    res["rollout_rmse_px"] = ref.rmse(
        data.test_raw[:steps], data.scaler.inverse_transform(ref_pred)
    )
    for k, v in list(res.items()):
        if isinstance(v, float):
            res[k] = round(v, 4)
    print(json.dumps(res), flush=True)


def _predict_loop_batched(model, windows, steps):
    x = np.array(windows, copy=True)
    preds = []
    for _ in range(steps):
        p = model.predict(x, verbose=0)
        preds.append(p)
        x = np.concatenate([x[:, 1:, :], p[:, None, :]], axis=1)
    return np.stack(preds, axis=1)


# --------------------------------------------------------------------------
# windows: python loop vs numpy sliding_window_view
# --------------------------------------------------------------------------
def stride_windows(values: np.ndarray, window: int, copy: bool = True):
    """Same X, y as ``python_loop_windows`` via ``sliding_window_view``."""
    values = np.asarray(values)
    if values.ndim == 1:
        values = values.reshape(-1, 1)
    view = np.lib.stride_tricks.sliding_window_view(values, window, axis=0)
    X = view[:-1].transpose(0, 2, 1)  # (samples, window, features)
    y = values[window:]
    if copy:
        X, y = np.ascontiguousarray(X), np.ascontiguousarray(y)
    return X, y


def cmd_windows(a):
    rng = np.random.default_rng(a.seed)
    values = rng.standard_normal((a.rows, a.features))
    t_loop = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        X0, y0 = ref.python_loop_windows(values, a.window)
        t_loop.append(time.perf_counter() - t0)
    t_view, t_copy = [], []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        Xv, yv = stride_windows(values, a.window, copy=False)
        t_view.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        X1, y1 = stride_windows(values, a.window, copy=True)
        t_copy.append(time.perf_counter() - t0)
    loop_s = statistics.median(t_loop)
    res = {
        "rows": a.rows,
        "features": a.features,
        "window": a.window,
        "loop_s": loop_s,
        "view_s": statistics.median(t_view),
        "view_plus_copy_s": statistics.median(t_copy),
        "ratio_view_vs_loop": statistics.median(t_view) / loop_s,
        "ratio_copy_vs_loop": statistics.median(t_copy) / loop_s,
        "identical": bool(
            np.array_equal(X0, X1)
            and np.array_equal(y0, y1)
            and np.array_equal(X0, Xv)
            and X0.shape == X1.shape
            and X0.dtype == X1.dtype
        ),
        "shape": list(X0.shape),
    }
    print(json.dumps(res), flush=True)


# --------------------------------------------------------------------------
# memory: train-and-discard cycles with/without clear_session + gc.collect
# --------------------------------------------------------------------------
def purge_custom_gradients(before: set) -> int:
    """Drop ``CustomGradient-*`` entries registered since ``before`` was taken.

    Every traced Keras train step (TF backend) calls the default strategy's
    ``ReplicaContext.all_reduce``, which registers a ``tf.custom_gradient`` in
    TF's process-global gradient registry under a fresh name. The registered
    function closes over tensors of the traced FuncGraph, so every graph ever
    traced by ``fit`` stays alive (``clear_session`` does not touch that
    registry). The entries are only needed while tracing, so once ``fit`` has
    returned they can go. Not thread-safe against a concurrent trace.
    """
    from tensorflow.python.framework import ops

    registry = ops._gradient_registry._registry
    stale = [k for k in registry if k.startswith("CustomGradient-") and k not in before]
    for k in stale:
        del registry[k]
    return len(stale)


def cmd_memory(a):
    _setup_tf()
    import keras
    from tensorflow.python.framework import ops

    rng = np.random.default_rng(0)
    x = rng.random((a.samples, 60, 1)).astype(np.float32)
    y = rng.random((a.samples, 1)).astype(np.float32)
    rss = [vm_rss_kb()]
    objs = [len(gc.get_objects())]
    names = []
    purged = 0
    for _ in range(a.cycles):
        before = set(ops._gradient_registry._registry)
        for kind in ref.KINDS:
            keras.utils.set_random_seed(1)
            model = ref.build_reference_model(kind, 60, 1, units=a.units)
            model.compile(optimizer="rmsprop", loss="mse")
            model.fit(x, y, epochs=1, batch_size=32, verbose=0)
            model.predict(x[:8], verbose=0)
            names.append(model.name)
            del model
        if a.mode in ("clear", "clear_gc"):
            keras.backend.clear_session()
        if a.mode in ("clear_gc_purge", "purge_gc"):
            purged += purge_custom_gradients(before)
        if a.mode in ("clear_gc_purge",):
            keras.backend.clear_session()
        if a.mode in ("gc", "clear_gc", "clear_gc_purge", "purge_gc"):
            gc.collect()
        rss.append(vm_rss_kb())
        objs.append(len(gc.get_objects()))
    growth_late = (rss[-1] - rss[len(rss) // 2]) / max(1, len(rss) - 1 - len(rss) // 2)
    res = {
        "mode": a.mode,
        "cycles": a.cycles,
        "units": a.units,
        "rss_mb": [round(r / 1024, 1) for r in rss],
        "rss_growth_mb_first_to_last_cycle": round((rss[-1] - rss[1]) / 1024, 1),
        "rss_growth_mb_per_cycle_second_half": round(growth_late / 1024, 2),
        "gc_objects": objs,
        "model_names_first_last": [names[0], names[-1]],
        "custom_gradient_entries_purged": purged,
        "custom_gradient_entries_in_registry": sum(
            k.startswith("CustomGradient-") for k in ops._gradient_registry._registry
        ),
    }
    print(json.dumps(res), flush=True)


# --------------------------------------------------------------------------
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="time one (kind, variant) on MasterCard")
    t.add_argument("--kind", default="lstm", choices=ref.KINDS)
    t.add_argument("--variant", default="ref", choices=sorted(VARIANTS))
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--seed", type=int, default=ref.SEED)
    t.add_argument("--path", default=None)
    t.add_argument("--rmse", action="store_true", help="also report test RMSE")

    m = sub.add_parser("matrix", help="run many variants, one subprocess each")
    m.add_argument("--kinds", default=",".join(ref.KINDS))
    m.add_argument("--variants", default=None, help="comma list (default: all)")
    m.add_argument("--rounds", type=int, default=1)
    m.add_argument("--epochs", type=int, default=5)
    m.add_argument("--seed", type=int, default=ref.SEED)
    m.add_argument("--path", default=None)
    m.add_argument("--out", default=str(RESULTS / "train_matrix.jsonl"))

    i = sub.add_parser("interleave", help="in-process variants, epochs interleaved")
    i.add_argument("--kinds", default=",".join(ref.KINDS))
    i.add_argument("--variants", default=",".join(IN_PROCESS))
    i.add_argument("--rounds", type=int, default=5)
    i.add_argument("--seed", type=int, default=ref.SEED)
    i.add_argument("--path", default=None)
    i.add_argument("--out", default=str(RESULTS / "interleave.jsonl"))

    s = sub.add_parser("summarize", help="markdown table from matrix JSONL files")
    s.add_argument("files", nargs="+")
    s.add_argument("--metric", choices=["min", "median"], default="min")

    r = sub.add_parser("rmse", help="full-length training, test RMSE per variant")
    r.add_argument("--kinds", default=",".join(ref.KINDS))
    r.add_argument("--variants", default="ref,jit_f32")
    r.add_argument("--epochs", type=int, default=ref.EPOCHS)
    r.add_argument("--seed", type=int, default=ref.SEED)
    r.add_argument("--path", default=None)
    r.add_argument("--out", default=None)

    f = sub.add_parser("forecast", help="recursive forecast variants (fly GRU)")
    f.add_argument("--path", default=None)
    f.add_argument("--train-epochs", type=int, default=5)
    f.add_argument("--steps", type=int, default=1000)
    f.add_argument("--individuals", type=int, default=5)
    f.add_argument("--seed", type=int, default=ref.SEED)
    f.add_argument("--intra", type=int, default=None)
    f.add_argument("--inter", type=int, default=None)
    f.add_argument(
        "--ref-batched", action="store_true", help="also time predict loop on 5 windows"
    )

    w = sub.add_parser("windows", help="python loop vs sliding_window_view")
    w.add_argument("--rows", type=int, default=100_000)
    w.add_argument("--features", type=int, default=2)
    w.add_argument("--window", type=int, default=ref.WINDOW)
    w.add_argument("--repeats", type=int, default=3)
    w.add_argument("--seed", type=int, default=0)

    mem = sub.add_parser("memory", help="RSS over train-and-discard cycles")
    mem.add_argument(
        "--mode",
        choices=["none", "gc", "clear", "clear_gc", "purge_gc", "clear_gc_purge"],
        default="none",
    )
    mem.add_argument("--cycles", type=int, default=10)
    mem.add_argument("--units", type=int, default=8)
    mem.add_argument("--samples", type=int, default=256)

    a = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    if a.cmd == "train":
        print(
            json.dumps(run_train(a.kind, a.variant, a.epochs, a.seed, a.path, a.rmse))
        )
    elif a.cmd == "matrix":
        cmd_matrix(a)
    elif a.cmd == "interleave":
        cmd_interleave(a)
    elif a.cmd == "summarize":
        cmd_summarize(a)
    elif a.cmd == "rmse":
        cmd_rmse(a)
    elif a.cmd == "forecast":
        cmd_forecast(a)
    elif a.cmd == "windows":
        cmd_windows(a)
    elif a.cmd == "memory":
        cmd_memory(a)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
