"""A trained calculator from its checkpoint, and its figures on sums of MNIST-test digits.

`evaluate_checkpoint` is what `calc eval` runs and what `calc train` prints at its end, so the two
always agree.
"""

from __future__ import annotations

from pathlib import Path

from neuralab.calc.config import KIND, CalcConfig
from neuralab.calc.data import Bank, make_examples
from neuralab.calc.layout import Layout
from neuralab.calc.metrics import score
from neuralab.calc.models import build
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.runs import config_from, load_checkpoint
from neuralab.core.runtime import pick_device


def load_model(checkpoint: Path | str, layout: Layout | None = None, device: str = "auto"):
    """A checkpoint's model (in eval mode) and config; the symbolic model may read another layout."""
    state, meta, _ = load_checkpoint(checkpoint, KIND)
    config = config_from(meta["config"], CalcConfig, str(checkpoint))
    layout = layout or config.layout
    if config.model == "seed" and layout != config.layout:
        raise UserError(f"{checkpoint}: the seed model only reads the layout it was trained on "
                        f"({config.format}, {config.digits} digits, {config.operands} operands)")
    model = build(config.model, layout, config.reader, views=config.views)
    try:
        model.load_state_dict(state)
    except RuntimeError:
        raise UserError(f"{checkpoint}: its weights do not fit a {config.model} model with the "
                        f"{config.reader!r} reader; it was made by another version of neuralab") from None
    model.to(pick_device(device)).eval()
    return model, config, layout


def evaluate_checkpoint(checkpoint: Path | str, *, format: str | None = None, digits: int | None = None,
                        operands: int | None = None, count: int | None = 10000, seed: int = 1,
                        data: mnist.MNIST | None = None, data_dir: Path | str | None = None,
                        device: str = "auto") -> dict:
    """Score a checkpoint on `count` sums of MNIST-test images drawn with `seed`.

    For `fixed`, count=None follows the protocol (floor(10000 / 2N) sums, each image once).
    """
    _, meta, _ = load_checkpoint(checkpoint, KIND)
    trained = config_from(meta["config"], CalcConfig, str(checkpoint)).layout
    layout = Layout(format or trained.format, digits or trained.digits, operands or trained.operands,
                    trained.specials)
    model, config, layout = load_model(checkpoint, layout, device)
    data = data or mnist.load(data_dir)
    same_data = meta["data_hash"] in ("", data.sha256)   # the caller says so when it is not
    bank = Bank.from_mnist(data, "test", layout.specials)
    examples = make_examples(layout, bank, count, seed=seed + 20_000)
    out = score(model, layout, bank, examples, pick_device(device))
    out.update(model=config.model, format=layout.format, digits=layout.digits,
               operands=layout.operands, seed=seed, trained_on_this_data=same_data)
    return out

