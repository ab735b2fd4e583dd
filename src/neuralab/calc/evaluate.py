"""A trained calculator from its checkpoint, and its figures on sums of MNIST-test digits.

`evaluate_checkpoint` is what `calc eval` runs and what `calc train` prints at its end, so the two
always agree.
"""

from __future__ import annotations

from pathlib import Path

from neuralab.calc.config import ADDED, KIND, CalcConfig
from neuralab.calc.data import Bank, make_examples
from neuralab.calc.layout import Layout
from neuralab.calc.metrics import score
from neuralab.calc.models import build
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.runs import config_from, load_checkpoint, load_weights
from neuralab.core.runtime import pick_device


def load_model(checkpoint: Path | str, device: str = "auto"):
    """(model in eval mode, its CalcConfig, checkpoint metadata): every part's loader has this form."""
    model, config, _, meta = read_checkpoint(checkpoint, device)
    return model, config, meta


def read_checkpoint(checkpoint: Path | str, device: str, format: str | None = None, digits: int | None = None,
          operands: int | None = None):
    """(model, config, layout, sidecar) from one read of the checkpoint; the symbolic model may read
    another layout than it was trained on (any of format, digits, operands given)."""
    state, meta, _ = load_checkpoint(checkpoint, KIND)
    config = config_from(meta["config"], CalcConfig, str(checkpoint), ADDED)
    layout = Layout(format or config.format, digits or config.digits, operands or config.operands, config.specials)
    if config.model == "seed" and layout != config.layout:
        raise UserError(f"{checkpoint}: the seed model only reads the layout it was trained on "
                        f"({config.format}, {config.digits} digits, {config.operands} operands)")
    model = build(config.model, layout, config.reader, views=config.views, touch=config.touch > 0)
    load_weights(model, state, str(checkpoint))
    model.to(pick_device(device)).eval()
    return model, config, layout, meta


def evaluate_checkpoint(checkpoint: Path | str, *, format: str | None = None, digits: int | None = None,
                        operands: int | None = None, count: int | None = None, seed: int = 1,
                        data: mnist.MNIST | None = None, data_dir: Path | str | None = None,
                        device: str = "auto") -> dict:
    """Score a checkpoint on `count` sums of MNIST-test images drawn with `seed`.

    count=None: the `fixed` protocol's floor(10000 / 2N) sums, each image once; 10,000 sums otherwise.
    """
    return score_loaded(read_checkpoint(checkpoint, device, format, digits, operands), count=count, seed=seed,
                        data=data or mnist.load(data_dir), device=device)


def score_loaded(loaded: tuple, *, count: int | None, seed: int, data: mnist.MNIST, device: str) -> dict:
    """`evaluate_checkpoint` on a checkpoint already read by `read_checkpoint`: (model, config, layout, sidecar)."""
    model, config, layout, meta = loaded
    # the MNIST files scored here are the copy the checkpoint was trained from (its hash); the caller warns when not
    same_data = meta["data_hash"] in ("", data.sha256)
    bank = Bank.from_mnist(data, "test", layout.specials)
    if count is None and layout.format != "fixed":
        count = 10_000
    examples = make_examples(layout, bank, count, seed=seed + 20_000)
    out = score(model, layout, bank, examples, pick_device(device))
    out.update(model=config.model, format=layout.format, digits=layout.digits,
               operands=layout.operands, seed=seed, same_mnist_as_training=same_data)
    return out

