"""Distributed data parallel training under torchrun, with no change to the commands.

`torchrun --nproc-per-node N -m neuralab ...` sets WORLD_SIZE/RANK/LOCAL_RANK; `setup()` (called
by the CLI) then joins the process group: gloo on CPU, nccl on CUDA. Semantics:

- A batch from a part's loader is the *global* batch. Rank r trains on rows r, r+W, r+2W, ...
  of it, so global batch = per-rank batch x world size, and no two ranks see the same example.
  DDP averages gradients over ranks, which equals the single-process gradient of the global
  batch when the shards are equal in size (make the batch size a multiple of W).
- Evaluation runs the whole test set on every rank (identical figures, no gather needed).
- Only rank 0 creates run folders, logs, writes metrics and saves checkpoints.
"""

from __future__ import annotations

import logging
import os
import warnings

import torch
import torch.distributed as dist
from torch import nn

log = logging.getLogger(__name__)


def world_size() -> int:
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    return rank() == 0


def setup() -> None:
    """Join the process group when launched by torchrun with more than one process."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1 or dist.is_initialized():
        return
    use_cuda = torch.cuda.is_available()
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if not is_main():
        logging.getLogger("neuralab").setLevel(logging.WARNING)
    log.info("distributed: %d processes (%s)", world_size(), dist.get_backend())


def teardown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


class _Dispatch(nn.Module):
    """Routes a call through DDP's forward to any of the model's methods (`forward`, `loss`, ...)."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *args, _method: str = "forward", **kwargs):
        return getattr(self.model, _method)(*args, **kwargs)


class DataParallel(nn.parallel.DistributedDataParallel):
    """DistributedDataParallel that also syncs gradients of a model's `loss(...)` method.

    DDP hooks only its forward call; parts whose step calls `model.loss(...)` get the same
    gradient averaging through `loss`, which goes through DDP's forward.
    """

    def loss(self, *args, **kwargs):
        return self(*args, _method="loss", **kwargs)


def _global_sum(t: torch.Tensor) -> torch.Tensor:
    """The sum over ranks, differentiable: its backward sums the gradients over ranks."""
    from torch.distributed.nn import all_reduce

    with warnings.catch_warnings():   # its successor in torch is private; this one is still the differentiable one
        warnings.simplefilter("ignore", FutureWarning)
        return all_reduce(t)


class GlobalBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm whose training statistics are those of the global batch, on any device.

    torch's SyncBatchNorm runs on GPUs only; this one all-reduces the per-channel sums with
    `torch.distributed.nn.all_reduce`, which autograd differentiates (its backward all-reduces the
    gradients), so the gradient of every rank's loss reaches every rank's inputs. With DDP's mean
    of the parameter gradients, two processes then compute the one-process gradient exactly.
    Weights and buffers are the BatchNorm's own, so checkpoints do not change.
    """

    def _check_input_dim(self, x: torch.Tensor) -> None:
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or world_size() == 1:
            return super().forward(x)
        dims = [d for d in range(x.dim()) if d != 1]                        # all but the channels
        count = _global_sum(torch.tensor(float(x.numel() // x.shape[1]), dtype=x.dtype, device=x.device))
        mean = _global_sum(x.sum(dims)) / count                              # (C,)
        shape = [1, -1] + [1] * (x.dim() - 2)
        var = _global_sum(((x - mean.view(shape)) ** 2).sum(dims)) / count   # biased, as BatchNorm normalises
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked += 1
                momentum = self.momentum if self.momentum is not None else 1.0 / float(self.num_batches_tracked)
                self.running_mean.lerp_(mean.detach(), momentum)
                self.running_var.lerp_(var.detach() * count / (count - 1), momentum)
        y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)
        return y * self.weight.view(shape) + self.bias.view(shape) if self.affine else y


def wrap(model: nn.Module) -> nn.Module:
    """DataParallel (DDP) when distributed, its batch norms made global; the model itself otherwise."""
    if world_size() == 1:
        return model
    for module in model.modules():
        if type(module) in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d):
            module.__class__ = GlobalBatchNorm   # same weights and buffers, global statistics
    device = next(model.parameters()).device
    return DataParallel(_Dispatch(model), device_ids=[device.index] if device.type == "cuda" else None)


def unwrap(model: nn.Module) -> nn.Module:
    return model.module.model if isinstance(model, DataParallel) else model


def shard(batch):
    """This rank's rows of a global batch: every tensor in it is cut, anything else is kept."""
    W = world_size()
    if W == 1:
        return batch
    if isinstance(batch, torch.Tensor):
        return batch[rank()::W]
    if isinstance(batch, (tuple, list)):
        return type(batch)(shard(b) for b in batch)
    return batch  # per-batch settings (a layout, a flag) are the same on every rank


def all_sum(values: dict[str, float]) -> dict[str, float]:
    """Sum each figure over ranks (identity when not distributed)."""
    if world_size() == 1:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64)
    dist.all_reduce(t)
    return dict(zip(keys, t.tolist()))


def barrier() -> None:
    """Wait for every rank (e.g. until rank 0 has written a checkpoint the others will read)."""
    if world_size() > 1:
        dist.barrier()


def broadcast(obj):
    """Rank 0's value of a picklable object, on every rank."""
    if world_size() == 1:
        return obj
    holder = [obj]
    dist.broadcast_object_list(holder, src=0)
    return holder[0]
