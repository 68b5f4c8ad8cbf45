"""Seconds per training step of the Keras convolutional network, on the backend KERAS_BACKEND names.

Usage: KERAS_BACKEND=jax python tools/keras_cnn_bench.py [--channels-first] [--steps N] [--profile]

Builds the network of keras/02-mnist-cnn.ipynb with its loss and optimizer, then fits it on N batches of
128 random images (timing does not depend on the pixels): one epoch to compile, then three timed epochs.
Prints the median seconds per step and that step scaled to a full epoch of 422 batches, and the
seconds of one forward pass (`predict_on_batch`) of a batch. With --profile it also shows where a step's
time goes: PyTorch's profiler on the torch backend, and on the JAX backend the forward and backward pass
of each layer alone, compiled by XLA. XLA's switches are tried through XLA_FLAGS, which runtime.py keeps.
Runs on the CPU threads the backend takes by default, as the notebooks do.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "keras"))
import runtime  # noqa: E402  (the notebooks' XLA flag, before Keras)
import keras  # noqa: E402

STEPS_PER_EPOCH = 422  # 54,000 training rows in batches of 128


def build_model(channels_first: bool) -> keras.Sequential:
    shape = (1, 28, 28) if channels_first else (28, 28, 1)
    return keras.Sequential([
        keras.Input(shape=shape),
        keras.layers.Conv2D(32, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(64, 5, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dense(1024, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])


class StepTimer(keras.callbacks.Callback):
    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[float] = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(time.perf_counter() - self.start)


def jax_layer_profile(repeats: int = 10) -> None:
    """Forward and backward pass of each layer alone, compiled by XLA, in ms per batch of 128."""
    import jax
    import jax.numpy as jnp

    def conv(x, w):
        return jax.nn.relu(jax.lax.conv_general_dilated(
            x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")))

    key = jax.random.PRNGKey(0)
    cases = {
        "conv 5x5, 1 -> 32 channels, 28x28": (conv, (128, 28, 28, 1), (5, 5, 1, 32)),
        "conv 5x5, 32 -> 64 channels, 14x14": (conv, (128, 14, 14, 32), (5, 5, 32, 64)),
        "dense 3136 -> 1024": (lambda x, w: jax.nn.relu(x @ w), (128, 3136), (3136, 1024)),
    }
    for name, (layer, x_shape, w_shape) in cases.items():
        x, w = jax.random.normal(key, x_shape), jax.random.normal(key, w_shape)
        step = jax.jit(jax.grad(lambda x, w: jnp.sum(layer(x, w)), argnums=(0, 1)))
        jax.block_until_ready(step(x, w))
        start = time.perf_counter()
        for _ in range(repeats):
            jax.block_until_ready(step(x, w))
        print(f"  {name}: {1000 * (time.perf_counter() - start) / repeats:.1f} ms forward + backward")


def torch_profile(net: keras.Sequential, x: np.ndarray, y: np.ndarray) -> None:
    import torch

    with torch.profiler.profile() as profiler:
        for start in range(0, 10 * 128, 128):
            net.train_on_batch(x[start:start + 128], y[start:start + 128])
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels-first", action="store_true", help="NCHW images (torch's own layout)")
    parser.add_argument("--steps", type=int, default=40, help="batches per timed epoch")
    parser.add_argument("--profile", action="store_true", help="where a step's time goes")
    arguments = parser.parse_args()
    if arguments.channels_first:
        keras.config.set_image_data_format("channels_first")
    backend = keras.config.backend()
    engine, device = runtime.backend_and_device(backend)
    rng = np.random.default_rng(42)
    shape = (1, 28, 28) if arguments.channels_first else (28, 28, 1)
    x = rng.random((arguments.steps * 128, *shape), dtype=np.float32)
    y = rng.integers(0, 10, len(x))
    keras.utils.set_random_seed(42)
    net = build_model(arguments.channels_first)
    net.compile(optimizer=keras.optimizers.Adam(learning_rate=0.001, epsilon=1e-7),
                loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    timer = StepTimer()
    net.fit(x, y, batch_size=128, epochs=4, verbose=0, callbacks=[timer])
    step = statistics.median(timer.epochs[1:]) / arguments.steps
    net.predict_on_batch(x[:128])
    start = time.perf_counter()
    for _ in range(10):
        net.predict_on_batch(x[:128])
    forward = (time.perf_counter() - start) / 10
    layout = "channels_first" if arguments.channels_first else "channels_last"
    print(f"{backend} {engine.__version__} on {device}, {layout}, XLA_FLAGS={os.environ.get('XLA_FLAGS', '')!r}: "
          f"{1000 * step:.0f} ms per step ({STEPS_PER_EPOCH * step:.1f} s per epoch of "
          f"{STEPS_PER_EPOCH} steps; first epoch {timer.epochs[0]:.1f} s), forward pass {1000 * forward:.0f} ms")
    if arguments.profile and backend == "jax":
        jax_layer_profile()
    if arguments.profile and backend == "torch":
        torch_profile(net, x, y)


if __name__ == "__main__":
    main()
