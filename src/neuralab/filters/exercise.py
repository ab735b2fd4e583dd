"""Filter-design exercises: variants of question 1.4 with other fixed filters, sizes, padding and stride.

Each variant is a CNN of one or two fixed convolutions (greyscale, inversion, box blur, sharpen,
emboss, Sobel edges, a Gaussian of another size and sigma) on an H x W x C image. Its key gives the
architecture, every filter's shape and value and the output size, and is checked when it is made:
the CNN is built in torch (float64) and applied to a random image of the exercise's size, against
scipy's own correlation with the same zero padding and stride.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.signal import correlate2d

from neuralab.core.grading import check_count
from neuralab.filters.model import per_channel

AGREE = 1e-9   # the key's CNN against scipy, largest absolute difference on a [0, 1] image
LUMA = (0.299, 0.587, 0.114)   # ITU-R BT.601 greyscale
SHARPEN = ((0, -1, 0), (-1, 5, -1), (0, -1, 0))
EMBOSS = ((-2, -1, 0), (-1, 1, 1), (0, 1, 2))
SOBEL_X = ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1))
SIZES = ((32, 32), (64, 48), (100, 100), (128, 128), (224, 224), (256, 192))


@dataclass
class Layer:
    name: str
    how: str                     # the filter in words, for the sheet
    weight: np.ndarray           # (out, in, k, k)
    bias: np.ndarray | None      # (out,)
    padding: int
    stride: int

    @property
    def kernel(self) -> int:
        return self.weight.shape[2]

    def out_size(self, n: int) -> int:
        return (n + 2 * self.padding - self.kernel) // self.stride + 1

    def params(self) -> int:
        return self.weight.size + (0 if self.bias is None else self.bias.size)


def _gaussian(size: int, sigma: float) -> np.ndarray:
    r = np.arange(size) - size // 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _filter(kind: str, rng: random.Random, channels: int) -> tuple[str, str, np.ndarray, np.ndarray | None]:
    """(name, how, weight, bias) of one fixed filter on `channels` input channels."""
    if kind == "greyscale":
        return "greyscale", "one grey channel Y = 0.299 R + 0.587 G + 0.114 B", np.array(LUMA).reshape(1, 3, 1, 1), None
    if kind == "invert":
        return "inversion", "each channel becomes 1 - itself", -per_channel(np.ones((1, 1)), channels), np.ones(channels)
    if kind == "box":
        k = rng.choice((3, 5))
        return f"{k}x{k} box blur", f"each channel becomes the mean of its {k}x{k} neighbourhood", \
            per_channel(np.full((k, k), 1 / k ** 2), channels), None
    if kind == "sharpen":
        return "sharpen", "each channel is sharpened with the kernel [[0,-1,0],[-1,5,-1],[0,-1,0]]", \
            per_channel(np.array(SHARPEN, float), channels), None
    if kind == "emboss":
        return "emboss", "each channel is embossed with the kernel [[-2,-1,0],[-1,1,1],[0,1,2]]", \
            per_channel(np.array(EMBOSS, float), channels), None
    if kind == "sobel":
        sobel = np.array(SOBEL_X, float)
        return "Sobel edges", "two edge maps of the grey image: horizontal change (Sobel x) and vertical change " \
            "(Sobel y, its transpose)", np.stack([sobel, sobel.T])[:, None], None
    size, sigma = rng.choice((3, 5, 7)), rng.choice((0.5, 1.0, 1.5, 2.0))
    return f"{size}x{size} Gaussian blur (sigma {sigma:g})", f"each channel is blurred by a {size}x{size} Gaussian " \
        f"with sigma {sigma:g}, normalised to sum 1", per_channel(_gaussian(size, sigma), channels), None


# the recipes: each a list of filter kinds applied in turn to a colour image
RECIPES = (["greyscale"], ["invert"], ["box"], ["sharpen"], ["emboss"], ["gaussian"],
           ["greyscale", "sobel"], ["greyscale", "box"], ["greyscale", "sharpen"], ["gaussian", "invert"],
           ["greyscale", "gaussian"])


@dataclass
class FilterExercise:
    number: int
    height: int
    width: int
    layers: list[Layer]

    def shapes(self) -> list[tuple[int, int, int]]:
        """(H, W, C) after each layer."""
        h, w, out = self.height, self.width, []
        for layer in self.layers:
            h, w = layer.out_size(h), layer.out_size(w)
            out.append((h, w, layer.weight.shape[0]))
        return out

    def answers(self) -> dict[str, str]:
        """Every numeric answer by part id: sizes, counts, and the weights and bias of each layer's filter 0."""
        n, out = self.number, {f"{self.number}.layers": str(len(self.layers))}
        for l, layer in enumerate(self.layers, start=1):
            f, c, k, _ = layer.weight.shape
            out.update({f"{n}.L{l}.filters": str(f), f"{n}.L{l}.kernel_h": str(k), f"{n}.L{l}.kernel_w": str(k),
                        f"{n}.L{l}.kernel_c": str(c), f"{n}.L{l}.params": str(layer.params())})
            for i, r, s in np.ndindex(c, k, k):
                out[f"{n}.L{l}.W0.{i}.{r}.{s}"] = f"{layer.weight[0, i, r, s]:.12g}"
            if layer.bias is not None:
                out[f"{n}.L{l}.b0"] = f"{layer.bias[0]:.12g}"
        h, w, c = self.shapes()[-1]
        out.update({f"{n}.out.h": str(h), f"{n}.out.w": str(w), f"{n}.out.c": str(c),
                    f"{n}.params": str(sum(layer.params() for layer in self.layers))})
        return out

    def to_json(self) -> dict:
        return {"number": self.number, "input": [self.height, self.width, 3],
                "layers": [{"name": layer.name, "weight": layer.weight.tolist(),
                            "bias": None if layer.bias is None else layer.bias.tolist(),
                            "padding": layer.padding, "stride": layer.stride} for layer in self.layers]}


def apply_torch(ex: FilterExercise, image: np.ndarray) -> np.ndarray:
    """The key's CNN in torch at float64: (C, H, W) -> (C', H', W')."""
    x = torch.from_numpy(image)[None]
    for layer in ex.layers:
        bias = None if layer.bias is None else torch.from_numpy(layer.bias)
        x = F.conv2d(x, torch.from_numpy(layer.weight), bias, stride=layer.stride, padding=layer.padding)
    return x[0].numpy()


def apply_scipy(ex: FilterExercise, image: np.ndarray) -> np.ndarray:
    """The reference: scipy's 2-D correlation per (filter, channel), zero padding, then the stride."""
    x = image
    for layer in ex.layers:
        padded = np.pad(x, ((0, 0), (layer.padding,) * 2, (layer.padding,) * 2))
        out = np.stack([sum(correlate2d(padded[i], layer.weight[o, i], mode="valid") for i in range(x.shape[0]))
                        + (0.0 if layer.bias is None else layer.bias[o]) for o in range(layer.weight.shape[0])])
        x = out[:, ::layer.stride, ::layer.stride]
    return x


def check(ex: FilterExercise, seed: int) -> float:
    """Largest |torch - scipy| on a random image of the exercise's size; the shapes must be the key's."""
    image = np.random.default_rng(seed).random((3, ex.height, ex.width))
    ours, reference = apply_torch(ex, image), apply_scipy(ex, image)
    h, w, c = ex.shapes()[-1]
    if ours.shape != (c, h, w) or reference.shape != (c, h, w):
        raise AssertionError(f"exercise {ex.number}: output {ours.shape} / {reference.shape}, key says {(c, h, w)}")
    return float(np.abs(ours - reference).max())


def _draw(rng: random.Random, number: int) -> FilterExercise:
    height, width = rng.choice(SIZES)
    layers, channels = [], 3
    for kind in rng.choice(RECIPES):
        name, how, weight, bias = _filter(kind, rng, channels)
        k = weight.shape[2]
        padding = 0 if k == 1 else rng.choice((0, k // 2, 1))   # valid, same, or one pixel
        stride = 2 if k > 1 and rng.random() < 0.25 else 1
        layers.append(Layer(name, how, weight, bias, padding, stride))
        channels = weight.shape[0]
    return FilterExercise(number, height, width, layers)


def generate(seed: int, count: int) -> list[FilterExercise]:
    """`count` variants; the same (seed, count) gives the same exercises. Each key is checked against scipy."""
    check_count(count)
    exercises = []
    for number in range(1, count + 1):
        ex = _draw(random.Random(f"filters/{seed}/{number}"), number)
        if (gap := check(ex, seed * 1000 + number)) > AGREE:
            raise AssertionError(f"exercise {number}: the key's CNN differs from scipy by {gap:g}")
        exercises.append(ex)
    return exercises


def _padding_text(layer: Layer) -> str:
    if layer.kernel == 1:
        return "no padding needed (1x1)"
    same = " ('same')" if layer.padding == layer.kernel // 2 else ""
    return ("no padding ('valid')" if layer.padding == 0 else f"zero padding {layer.padding}{same}") + \
        f", stride {layer.stride}"


def sheet_markdown(ex: FilterExercise) -> str:
    """One exercise as the students see it."""
    steps = [f"{i}. **{layer.name}**: {layer.how}; {_padding_text(layer)}." for i, layer in enumerate(ex.layers, 1)]
    return "\n".join([
        f"## Exercise {ex.number}", "",
        f"A {ex.height}x{ex.width}x3 colour image (R, G, B in [0, 1]) goes through a CNN whose weights are set by "
        "hand, not learned. In order:", "", *steps, "",
        "**(a)** Give the architecture: the number of layers, the number of filters in each, every filter's shape "
        "(height x width x input channels), and whether a layer needs a bias.", "",
        "**(b)** Give the value of every parameter.", "",
        f"**(c)** Give the output's size (H x W x C) for this {ex.height}x{ex.width}x3 input, and the number of "
        "parameters.", "",
        f"*Answer parts for grading:* `{ex.number}.layers`, `{ex.number}.L1.filters`, `{ex.number}.L1.kernel_h`, "
        f"`.kernel_w`, `.kernel_c`, `.params`, filter 0's weights `{ex.number}.L1.W0.i.r.c` (input channel i, "
        f"row r, column c) and bias `{ex.number}.L1.b0`, then `{ex.number}.out.h`, `.out.w`, `.out.c` and "
        f"`{ex.number}.params`.", ""])


def _kernel_table(kernel: np.ndarray) -> str:
    rows = ["| " + " | ".join(f"{v:.6g}" for v in row) + " |" for row in kernel]
    return "\n".join(["| " + " | ".join(f"c{i}" for i in range(kernel.shape[1])) + " |",
                      "|" + "---|" * kernel.shape[1], *rows])


def key_markdown(ex: FilterExercise) -> str:
    """One exercise's worked answer: architecture, every value, and the output size with its arithmetic."""
    lines = [f"## Exercise {ex.number}", "", f"**Architecture**: {len(ex.layers)} convolution layer(s), fixed weights.", "",
             "| layer | filters | filter shape (h x w x in) | padding | stride | bias | parameters | output (H x W x C) |",
             "|---|---|---|---|---|---|---|---|"]
    h, w = ex.height, ex.width
    for i, (layer, shape) in enumerate(zip(ex.layers, ex.shapes()), 1):
        f, c, k, _ = layer.weight.shape
        lines.append(f"| {i} {layer.name} | {f} | {k} x {k} x {c} | {layer.padding} | {layer.stride} | "
                     f"{'yes' if layer.bias is not None else 'no'} | {layer.params()} | {' x '.join(map(str, shape))} |")
    lines += ["", "**Output size**, layer by layer: $\\lfloor (n + 2p - k) / s \\rfloor + 1$ for each of H and W:", ""]
    for i, layer in enumerate(ex.layers, 1):
        lines.append(f"- layer {i}: H = ⌊({h} + 2·{layer.padding} − {layer.kernel}) / {layer.stride}⌋ + 1 = "
                     f"{layer.out_size(h)}, W = ⌊({w} + 2·{layer.padding} − {layer.kernel}) / {layer.stride}⌋ + 1 = "
                     f"{layer.out_size(w)}")
        h, w = layer.out_size(h), layer.out_size(w)
    lines += ["", "**Every parameter** (weights as out x in x h x w; every filter not listed on an input channel "
              "is zero there):", ""]
    for i, layer in enumerate(ex.layers, 1):
        for o, i_ in np.ndindex(*layer.weight.shape[:2]):
            if np.any(layer.weight[o, i_]):
                lines += [f"Layer {i}, filter {o}, input channel {i_}:", "", _kernel_table(layer.weight[o, i_]), ""]
        if layer.bias is not None:
            lines += [f"Layer {i} biases: " + ", ".join(f"{b:g}" for b in layer.bias) + ".", ""]
    lines += ["*Checked*: this CNN, built in torch at float64, agrees with scipy's correlation on a random "
              f"{ex.height}x{ex.width}x3 image within {AGREE:g}.", ""]
    return "\n".join(lines)
