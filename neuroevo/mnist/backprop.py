"""Backprop: gradients of softmax cross-entropy for the flat genome, SGD (momentum) and Adam, minibatch training.

Written with numpy only, on the same flat vector and initialisation as the GA and ES, so the three methods differ
only in how they update it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..brain import Layout
from .budget import Tracker
from .nets import act, log_softmax


@dataclass(frozen=True)
class BackpropConfig:
    optimizer: str = "adam"  # adam or sgd (with momentum)
    lr: float = 1e-3  # step size (sgd: try 0.05)
    momentum: float = 0.9  # sgd only
    batch: int = 128  # images per step
    beta1: float = 0.9  # adam first-moment decay
    beta2: float = 0.999  # adam second-moment decay
    eps: float = 1e-8  # adam denominator floor


def loss_and_grad(layout: Layout, genome: np.ndarray, x: np.ndarray, y: np.ndarray,
                  activation: str) -> tuple[float, np.ndarray]:
    """Mean cross-entropy over the batch and its gradient (n_params,) float32 in genome order."""
    layers = layout.split(genome)
    hs = [x]  # inputs of each layer
    h = x
    for i, (w, b) in enumerate(layers):
        h = h @ w + b
        if i < len(layers) - 1:
            h = act(h, activation)
            hs.append(h)
    lp = log_softmax(h)
    n = x.shape[0]
    loss = float(-lp[np.arange(n), y].mean())
    dz = np.exp(lp)  # softmax (B, C)
    dz[np.arange(n), y] -= 1.0
    dz /= np.float32(n)
    grad = np.empty(layout.n_params, dtype=genome.dtype)
    offsets = np.cumsum([0] + [w.size + b.size for w, b in layers])
    for i in range(len(layers) - 1, -1, -1):
        w, _ = layers[i]
        p = offsets[i]
        grad[p : p + w.size] = (hs[i].T @ dz).ravel()
        grad[p + w.size : offsets[i + 1]] = dz.sum(axis=0)
        if i == 0:
            break
        da = dz @ w.T
        a = hs[i]  # activation output of layer i-1
        if activation == "relu":
            dz = da * (a > 0)
        elif activation == "tanh":
            dz = da * (1.0 - a * a)
        else:
            dz = da * a * (1.0 - a)
    return loss, grad


class Adam:
    """Adam on a flat vector (bias-corrected moments)."""

    def __init__(self, n: int, lr: float, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        self.m = np.zeros(n, np.float32)
        self.v = np.zeros(n, np.float32)
        self.lr, self.b1, self.b2, self.eps, self.t = lr, beta1, beta2, eps, 0

    def update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        """theta -= step, in place (grad is the gradient of what is minimised)."""
        self.t += 1
        self.m *= self.b1
        self.m += (1 - self.b1) * grad
        self.v *= self.b2
        self.v += (1 - self.b2) * grad * grad
        a = self.lr * np.sqrt(1 - self.b2**self.t) / (1 - self.b1**self.t)
        theta -= (a * self.m / (np.sqrt(self.v) + self.eps)).astype(np.float32)


class SGD:
    """SGD with heavy-ball momentum on a flat vector."""

    def __init__(self, n: int, lr: float, momentum: float = 0.9):
        self.vel = np.zeros(n, np.float32)
        self.lr, self.mu = lr, momentum

    def update(self, theta: np.ndarray, grad: np.ndarray) -> None:
        self.vel *= self.mu
        self.vel -= self.lr * grad
        theta += self.vel


def make_optimizer(cfg: BackpropConfig, n: int) -> Adam | SGD:
    if cfg.optimizer == "adam":
        return Adam(n, cfg.lr, cfg.beta1, cfg.beta2, cfg.eps)
    if cfg.optimizer == "sgd":
        return SGD(n, cfg.lr, cfg.momentum)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r} (adam or sgd)")


def train(genome: np.ndarray, cfg: BackpropConfig, tracker: Tracker, rng: np.random.Generator,
          epochs: int | None = None) -> tuple[dict, np.ndarray]:
    """Minibatch training from genome (shuffled epochs) until the tracker's budget or the given epochs are spent.

    Returns the run summary (best-on-validation net scored on test) and the final parameters.
    """
    layout, d, activation = tracker.layout, tracker.data, tracker.activation
    theta = np.array(genome, dtype=np.float32, copy=True)
    opt = make_optimizer(cfg, theta.size)
    n = d.x_train.shape[0]
    tracker.evaluate(theta)
    epoch = 0
    stop = False
    while not stop and (epochs is None or epoch < epochs):
        order = rng.permutation(n)
        for s in range(0, n, cfg.batch):
            idx = order[s : s + cfg.batch]
            _, g = loss_and_grad(layout, theta, d.x_train[idx], d.y_train[idx], activation)
            opt.update(theta, g)
            if tracker.step(3.0 * idx.size, lambda: theta) and epochs is None:
                stop = True
                break
        epoch += 1
    out = tracker.finish(theta)
    out["epochs"] = epoch
    return out, theta
