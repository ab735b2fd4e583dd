"""The depth study's figures, drawn from saved metrics.jsonl records (never re-derived).

- `accuracy_figure`: the assignment's plots, one panel per depth with train and test accuracy per
  epoch overlaid (as the published solution drew them); the mean over seeds, each seed faint.
- `diagnostics_figure`: why the sigmoid net collapses: gradient norm per layer, how much of the
  input survives per layer (spread), saturated sigmoid and dead ReLU fractions, per epoch.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from neuralab.core.io import save_figure

Metrics = list[dict]  # one run's metrics.jsonl records, epoch 0 first


def _series(metrics: Metrics, key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [m for m in metrics if key in m]
    return np.array([m["epoch"] for m in rows]), np.array([m[key] for m in rows])


def accuracy_figure(curves: dict[int, list[Metrics]], title: str, path: Path) -> Path:
    """curves: depth -> the metrics of each seed's run. One panel per depth, train and test."""
    depths = sorted(curves)
    fig = Figure(figsize=(4 * len(depths), 3.4))
    axes = fig.subplots(1, len(depths), sharey=True, squeeze=False)
    for ax, depth in zip(axes[0], depths):
        for key, color in (("train_accuracy", "tab:blue"), ("test_accuracy", "tab:orange")):
            series = [_series(m, key) for m in curves[depth]]
            for epochs, values in series if len(series) > 1 else []:
                ax.plot(epochs, values, color=color, alpha=0.25, lw=0.8)
            n = min(len(v) for _, v in series)
            mean = np.mean([v[:n] for _, v in series], axis=0)
            ax.plot(series[0][0][:n], mean, color=color, marker="o", ms=3, label=key.split("_")[0])
        ax.set_title(f"depth {depth} ({len(curves[depth])} seed{'s' if len(curves[depth]) > 1 else ''})")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("accuracy")
    axes[0][0].legend(loc="best")
    fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def _per_layer(ax, metrics: Metrics, key: str, label: str, style: str = "-") -> None:
    epochs, values = _series(metrics, key)
    if not len(values):
        return
    values = np.array(values)  # (epochs, layers)
    for i in range(values.shape[1]):
        name = "head" if key == "grad_norm" and i == values.shape[1] - 1 else f"layer {i + 1}"
        ax.plot(epochs, values[:, i], style, marker="o", ms=3, color=f"C{i}", label=f"{label} {name}")


def diagnostics_figure(sigmoid: Metrics, relu: Metrics, depth: int, path: Path) -> Path:
    """Four panels from one seed's sigmoid and ReLU runs of the Keras model at `depth`."""
    fig = Figure(figsize=(11, 7.5))
    axes = fig.subplots(2, 2)
    (g_sig, g_relu), (ax_spread, ax_frac) = axes
    for ax, metrics, name in ((g_sig, sigmoid, "sigmoid"), (g_relu, relu, "ReLU")):
        _per_layer(ax, metrics, "grad_norm", "")
        ax.set_yscale("log")
        ax.set_title(f"{name}, depth {depth}: mean ||dL/dW|| per Dense layer")
    lo = min(a.get_ylim()[0] for a in (g_sig, g_relu))
    hi = max(a.get_ylim()[1] for a in (g_sig, g_relu))
    for ax in (g_sig, g_relu):
        ax.set_ylim(lo, hi)
        ax.legend(fontsize=7)
    _per_layer(ax_spread, sigmoid, "spread", "sigmoid")
    _per_layer(ax_spread, relu, "spread", "ReLU", "--")
    ax_spread.set_yscale("log")
    ax_spread.set_title("spread: std of a unit's output across 1000 images (eval mode)")
    ax_spread.legend(fontsize=7, ncol=2)
    _per_layer(ax_frac, sigmoid, "saturated", "sigmoid saturated")
    _per_layer(ax_frac, relu, "dead", "ReLU dead", "--")
    ax_frac.set_ylim(bottom=0)
    ax_frac.set_title("saturated sigmoid (<0.05, >0.95) / dead ReLU (epoch 0: one batch)")
    ax_frac.legend(fontsize=7)
    for ax in axes.flat:
        ax.set_xlabel("epoch (0 = at initialisation)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return save_figure(fig, path)
