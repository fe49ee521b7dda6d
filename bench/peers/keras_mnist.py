"""The lab's models in Keras (TensorFlow CPU): Adam lr 0.001 (eps 1e-8), batch 100, shuffled
epochs. Usage: keras_mnist.py MODEL EPOCHS DATA_DIR THREADS. Prints one JSON line."""

import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from common import MODELS, START, load_mnist, report

import tensorflow as tf
from tensorflow import keras


class EpochTimer(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self.t0)


def main():
    name, epochs, data_dir, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(777)
    (x, y), (xt, yt) = load_mnist(data_dir)
    hidden, dropout = MODELS[name]
    # Xavier normal weights, the course's normal(0, 1) biases.
    init = dict(kernel_initializer="glorot_normal",
                bias_initializer=keras.initializers.RandomNormal(stddev=1.0))
    layers = [keras.Input((784,))]
    for h in hidden:
        layers.append(keras.layers.Dense(h, activation="relu", **init))
        if dropout > 0:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, **init))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=0.001, epsilon=1e-8),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    startup = time.perf_counter() - START
    timer = EpochTimer()
    model.fit(x, y, batch_size=100, epochs=epochs, shuffle=True, verbose=0, callbacks=[timer])
    t0 = time.perf_counter()
    _, accuracy = model.evaluate(xt, yt, batch_size=1000, verbose=0)
    report("keras " + keras.__version__ + " / tf " + tf.__version__, name, timer.times, startup,
           time.perf_counter() - t0, accuracy * 100, threads)


main()
