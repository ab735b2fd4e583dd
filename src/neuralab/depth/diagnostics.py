"""What happens inside the network while it trains, recorded per epoch through hooks.

- `grad_norm[i]`: the mean over the epoch's batches of ||dL/dW_i|| (Frobenius) for Dense i,
  hidden layers first, head last: the gradients SGD actually applied.
- `saturated[i]` (sigmoid only): the fraction of hidden unit outputs of layer i, over all
  training examples of the epoch, below 0.05 or above 0.95, where sigmoid'(z) < 0.048.
- `dead[i]` (ReLU only): the fraction of layer i's units that output 0 for every training
  example of the epoch.
- `spread[i]`: the std of a unit's output across a fixed probe batch in eval mode (no dropout),
  averaged over units: how much of the input still shows at layer i (near 0: every digit looks
  alike to the layers above).
- `train_spread[i]`: the same across each training batch, in training mode: the input-dependent
  part plus the noise that the previous layer's dropout injects.

Hidden activations are read before dropout and only in training mode, except in `probe`, the
one eval-mode pass per epoch that measures `spread`. Sums stay on the model's device (no
per-batch synchronisation on a GPU).
"""

from __future__ import annotations

import torch
from torch import nn

SATURATION_LOW, SATURATION_HIGH = 0.05, 0.95


def saturated_fraction(h: torch.Tensor) -> torch.Tensor:
    """Fraction of entries of sigmoid outputs h (B, units) outside [0.05, 0.95]."""
    return ((h < SATURATION_LOW) | (h > SATURATION_HIGH)).float().mean()


def spread(h: torch.Tensor) -> torch.Tensor:
    """Mean over units of the across-example std of h (B, units)."""
    return h.std(dim=0).mean()


def dead_units(h: torch.Tensor) -> torch.Tensor:
    """Bool (units,): True where a ReLU output h (B, units) is 0 for every row."""
    return ~(h > 0).any(dim=0)


class Monitor:
    """Hooks on a model's Dense weights and activations; `collect()` returns and resets sums."""

    def __init__(self, dense_layers: list[nn.Linear], activations: list[nn.Module], activation: str):
        self.activation = activation
        self._handles = []
        self._grad_sums = [d.weight.new_zeros(()) for d in dense_layers]
        self._batches = 0
        self._act_stats: list[torch.Tensor | None] = [None] * len(activations)
        self._act_batches = 0
        self._spread_sums = [torch.zeros(()) for _ in activations]
        self._probing, self._probe_spread = False, []
        for i, d in enumerate(dense_layers):
            self._handles.append(d.weight.register_hook(self._grad_hook(i)))
        for i, act in enumerate(activations):
            self._handles.append(act.register_forward_hook(self._act_hook(i)))

    def _grad_hook(self, i: int):
        def hook(grad: torch.Tensor) -> None:
            self._grad_sums[i] += torch.linalg.vector_norm(grad.detach())
            if i == 0:  # the first Dense's gradient arrives last in backward: one batch done
                self._batches += 1
        return hook

    def _act_hook(self, i: int):
        def hook(module: nn.Module, inputs, h: torch.Tensor) -> None:
            if not module.training:
                if self._probing:
                    self._probe_spread.append(float(spread(h)))
                return
            h = h.detach()  # (B, units)
            self._spread_sums[i] = self._spread_sums[i].to(h.device) + spread(h)
            if self.activation == "sigmoid":
                stat = saturated_fraction(h)
            else:
                stat = ~dead_units(h)  # alive so far: OR over batches
            prev = self._act_stats[i]
            if prev is None:
                self._act_stats[i] = stat
            else:
                self._act_stats[i] = prev + stat if self.activation == "sigmoid" else prev | stat
            if i == 0:
                self._act_batches += 1
        return hook

    def collect(self) -> dict[str, list[float]]:
        """The epoch's figures (see the module docstring); resets the sums for the next epoch."""
        out: dict[str, list[float]] = {
            "grad_norm": [float(s) / max(self._batches, 1) for s in self._grad_sums]}
        if self._probe_spread:
            out["spread"] = self._probe_spread
        if self._act_batches:
            out["train_spread"] = [float(s) / self._act_batches for s in self._spread_sums]
        stats = [s for s in self._act_stats if s is not None]
        if stats and self.activation == "sigmoid":
            out["saturated"] = [float(s) / self._act_batches for s in stats]
        elif stats:
            out["dead"] = [1.0 - float(s.float().mean()) for s in stats]
        self._grad_sums = [torch.zeros_like(s) for s in self._grad_sums]
        self._batches, self._act_batches = 0, 0
        self._act_stats = [None] * len(self._act_stats)
        self._spread_sums = [torch.zeros(()) for _ in self._spread_sums]
        self._probe_spread = []
        return out

    @torch.no_grad()
    def probe(self, model: nn.Module, x: torch.Tensor) -> None:
        """One eval-mode pass over a fixed batch x (B, 784) to measure `spread`; restores the mode."""
        was_training = model.training
        self._probing, self._probe_spread = True, []
        try:
            model.eval()
            model(x)
        finally:
            self._probing = False
            model.train(was_training)

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []
