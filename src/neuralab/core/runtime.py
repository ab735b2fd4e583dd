"""Seeding, determinism and device choice, in one place for every part."""

from __future__ import annotations

import random

import numpy as np
import torch

from neuralab.core.errors import UserError

DEVICES = ("auto", "cpu", "cuda")
MAX_SEED = 2**32 - 1    # numpy's seeds are 32-bit; every seed of neuralab is 0..MAX_SEED
PRECISIONS = ("fp32", "bf16")   # how a model trains: bf16 is bfloat16 autocast (AMX CPUs, GPUs), weights stay fp32


def seed_everything(seed: int, deterministic: bool = False) -> None:
    """Seed Python, numpy and torch (all devices).

    CPU kernels for the layers we use are deterministic already; `deterministic=True` also asks
    torch for deterministic CUDA kernels (it costs seconds of imports, so it is opt-in).
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.backends.cudnn.benchmark = False  # autotuning picks kernels by timing: not repeatable
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)


def pick_device(name: str = "auto") -> torch.device:
    """`auto` means cuda when present, else cpu."""
    if name not in DEVICES:
        raise UserError(f"--device: unknown device {name!r} (choose from {', '.join(DEVICES)})")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available")
    return torch.device(str(name))


def rng_state() -> dict:
    """Every RNG state a resumed run needs: torch CPU (+CUDA), numpy and Python."""
    state = {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
