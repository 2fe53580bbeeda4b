"""DNM data: the toy add/subtract set and the MNIST split of the notebooks.

Toy (seed, "Some Examples: toy dataset"; note, "Training"): x ~ N(0, 1), columns (a, b, c, d, e);
targets [b+e, e-d, b+e+d, e-d-c] (a is unused on purpose).

MNIST (note, "Training"): TensorFlow's read_data_sets split -- the first 5,000 of the 60,000 training images are
held out for validation, the other 55,000 train; images flattened to [0, 1] (pixel / 255); one-hot labels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["toy_batch", "toy_floor_mse", "MnistData", "load_mnist_split", "MNIST_VALIDATION"]

MNIST_VALIDATION = 5000

# rows of the target matrix T, targets = x @ T.T, columns of x = (a, b, c, d, e)
_TOY_T = np.array(
    [
        [0, 1, 0, 0, 1],  # b + e
        [0, 0, 0, -1, 1],  # e - d
        [0, 1, 0, 1, 1],  # b + e + d
        [0, 0, -1, -1, 1],  # e - d - c
    ],
    dtype=np.float64,
)


def toy_batch(rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """(x [B, 5], t [B, 4]) of the toy set.

    Source: seed 000 l. 145-149; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 3
        l. 69-74 (x ~ N(0,1) [50, 5]; targets b+e, e-d, b+e+d, e-d-c).
    """
    x = rng.normal(size=(batch_size, 5))
    return x, x @ _TOY_T.T


def toy_floor_mse() -> float:
    """Best MSE reachable with non-negative predictions (squared outputs): mean over outputs of Var(t)/2.

    Even knowing t exactly, the best y >= 0 is max(t, 0), leaving the error E[min(t, 0)^2] = Var(t)/2 for t
    symmetric about 0 (note, "Text versus code" 3). Var(t) = (2, 2, 3, 3) gives 1.25.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 471 (y_hat =
        out^2 >= 0) with cell 3 l. 69-74 (targets symmetric about 0): the best reachable MSE, a minidsn derivation.
    """
    var = (_TOY_T**2).sum(axis=1)
    return float(np.mean(var / 2.0))


class MnistData:
    """Flattened MNIST arrays kept as uint8 (memory) and converted per batch: train 55k, test 10k.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 3 l. 6
        (input_data.read_data_sets with one_hot=True: 55k training images, pixels scaled to [0, 1], one-hot labels)
    """

    def __init__(self, data_dir):
        from minidsn.data.mnist import load_mnist

        tr_x, tr_y = load_mnist(data_dir, "train")
        te_x, te_y = load_mnist(data_dir, "test")
        self.train_x = np.ascontiguousarray(tr_x[MNIST_VALIDATION:].reshape(-1, 784))
        self.train_y = np.ascontiguousarray(tr_y[MNIST_VALIDATION:])
        self.test_x = np.ascontiguousarray(te_x.reshape(-1, 784))
        self.test_y = np.ascontiguousarray(te_y)

    @staticmethod
    def to_float(images_u8: np.ndarray) -> np.ndarray:
        """Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 3 l. 6
            (input_data.read_data_sets: images scaled to [0, 1]).
        """
        return images_u8.astype(np.float64) / 255.0

    @staticmethod
    def one_hot(labels: np.ndarray) -> np.ndarray:
        """Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 3 l. 6
            (one_hot=True).
        """
        return np.eye(10)[labels]


_CACHE: dict = {}


def load_mnist_split(data_dir) -> MnistData:
    """MnistData for data_dir, loaded once per process.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 3 l. 6, l. 71 (55k training
        images, batches of 50).
    """
    key = str(data_dir)
    if key not in _CACHE:
        _CACHE[key] = MnistData(data_dir)
    return _CACHE[key]
