"""Seeding, determinism and device choice, in one place for every part."""

from __future__ import annotations

import random

import numpy as np
import torch

from neuralab.core.errors import UserError

DEVICES = ("auto", "cpu", "cuda")
MAX_SEED = 2**32 - 1    # numpy's seeds are 32-bit; every seed of neuralab is 0..MAX_SEED
PRECISIONS = ("fp32", "bf16")   # bf16: bfloat16 autocast where native (`training_precision`); weights fp32


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


def bf16_native(device: torch.device) -> bool:
    """Does `device` compute in bfloat16 natively: a CUDA GPU that supports it, or a CPU with AVX-512
    BF16 or AMX? Elsewhere oneDNN emulates it (a vgg reader's training step ran 6x slower than in
    fp32 on an AVX2 CPU, a local check) or has no kernel for it at all (an LSTM raises)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return device.type == "cpu" and any(check() for check in checks if check is not None)


def training_precision(precision: str, device: torch.device) -> str:
    """The precision a run asking for `precision` trains in on `device`: bf16 only where it is native
    (`bf16_native`), else fp32 (the same model and steps; emulated bf16 is slower, or has no kernel)."""
    return "fp32" if precision == "bf16" and not bf16_native(device) else precision


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
