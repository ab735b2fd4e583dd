"""The assignment's answer (1.4/1.5), read off SepiaBlurNet's own tensors and by running it.

Nothing here is typed in by hand: layer count, filters, shapes and values come from the conv
weights, and output sizes from a forward pass on a 128x128x3 input with each padding.
"""

from __future__ import annotations

import torch
from torch import nn

from neuralab.filters.model import (
    GAUSS_SCALE,
    PADDINGS,
    SEPIA_RANGE_HELP,
    SepiaBlurNet,
    output_shape,
)

CHANNELS = ("R", "G", "B")


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def describe(sepia_range: str = "clip", size: int = 128) -> dict:
    """The answer as a JSON-ready dict; weights are listed (out, in, height, width) as in torch."""
    model = SepiaBlurNet(padding="valid", sepia_range=sepia_range)
    layers = conv_layers(model)
    shapes = {p: list(output_shape(SepiaBlurNet(p, sepia_range), size)) for p in PADDINGS}
    return {
        "layers": len(layers),
        "filters": [m.out_channels for _, m in layers],
        "filter_shapes": [[m.kernel_size[0], m.kernel_size[1], m.in_channels] for _, m in layers],
        "layer_names": [name for name, _ in layers],
        "bias": [m.bias is not None for _, m in layers],
        "parameters": {name: p.tolist() for name, p in model.named_parameters()},
        "parameter_count": sum(p.numel() for p in model.parameters()),
        "weight_layout": "out, in, height, width",
        "between_layers": {"sepia_range": sepia_range, "meaning": SEPIA_RANGE_HELP[sepia_range]},
        "input_shape": [size, size, 3],
        "output_shape": shapes,
    }


def _fmt_shape(shape: list[int]) -> str:
    return "x".join(str(s) for s in shape)


def _blur_lines(w: torch.Tensor) -> list[str]:
    """Each 5x5 slice of the blur weights: zeros named as such, others as k/273 and as decimals."""
    lines = []
    for o in range(w.shape[0]):
        for i in range(w.shape[1]):
            k = w[o, i]
            if not k.any():
                lines.append(f"  filter {o} ({CHANNELS[o]}') on {CHANNELS[i]}: all {k.numel()} values 0")
                continue
            lines.append(f"  filter {o} ({CHANNELS[o]}') on {CHANNELS[i]}: (1/{GAUSS_SCALE}) x")
            for row in k:
                ints = " ".join(f"{round(v * GAUSS_SCALE):3d}" for v in row.tolist())
                decs = " ".join(f"{v:.6f}" for v in row.tolist())
                lines.append(f"    {ints}    = {decs}")
    return lines


def format_text(d: dict) -> str:
    """The human-readable answer printed by `neuralab filters explain`."""
    params = {k: torch.tensor(v) for k, v in d["parameters"].items()}
    n = d["input_shape"][0]
    out = [f"SepiaBlurNet: {d['layers']} convolutional layers, {d['parameter_count']} parameters, no bias",
           f"layer 1 {d['layer_names'][0]}: {d['filters'][0]} filters of shape "
           f"{_fmt_shape(d['filter_shapes'][0])}, stride 1"]
    sepia = params[f"{d['layer_names'][0]}.weight"][:, :, 0, 0]  # (out, in)
    for o, row in enumerate(sepia.tolist()):
        terms = " + ".join(f"{v:.3f} {CHANNELS[i]}" for i, v in enumerate(row))
        out.append(f"  filter {o}: {CHANNELS[o]}' = {terms}   (sum {sum(row):.3f})")
    out.append(f"between layers ({d['between_layers']['sepia_range']}): {d['between_layers']['meaning']}")
    out.append(f"layer 2 {d['layer_names'][1]}: {d['filters'][1]} filters of shape "
               f"{_fmt_shape(d['filter_shapes'][1])}, stride 1")
    out += _blur_lines(params[f"{d['layer_names'][1]}.weight"])
    for pad, shape in d["output_shape"].items():
        out.append(f"output for a {n}x{n}x3 input, {pad} padding: {_fmt_shape(shape)}")
    return "\n".join(out)
