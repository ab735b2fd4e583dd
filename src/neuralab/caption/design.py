"""The 1.6 design answer, written from the code's own config and model, and the architecture
figure, whose boxes and shapes come from running the model on one clip."""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from neuralab.caption.grammar import COLOURS, MAX_WORDS, VOCAB, WORDS
from neuralab.caption.model import (
    CROP,
    MOTION,
    SLOT,
    CaptionModel,
    ColourPlanes,
    SlotEncoder,
)

FRAME, SEQUENCE = "per frame", "sequence"


def layer_shapes(model: CaptionModel, clip: torch.Tensor) -> list[tuple[str, str, tuple]]:
    """(group, description, output shape) for every stage of one teacher-forced pass on `clip`
    (1, T, 3, 64, 64); a conv block (Conv2d + BatchNorm + ReLU (+ MaxPool)) is one stage, shown with
    its last shape. The reader's rows have one image per colour present in each frame."""
    rows, hooks = [], []

    def record(group, module):
        def hook(_, __, out):
            out = out[0] if isinstance(out, tuple) else out
            rows.append([group, _describe(module), tuple(out.shape)])
        return hook

    for name, module in model.named_modules():
        leaf = next(module.children(), None) is None and not isinstance(module, nn.Flatten)
        if leaf or module is model.encoder:
            group = FRAME if name.startswith(("encoder", "project")) else SEQUENCE
            hooks.append(module.register_forward_hook(record(group, module)))
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(clip, torch.zeros(1, MAX_WORDS + 1, dtype=torch.long))
    model.train(was_training)
    for h in hooks:
        h.remove()
    merged = []
    for group, text, shape in rows:                      # fold BN/ReLU/pool/dropout into the row above
        if merged and group == merged[-1][0] == FRAME and \
                text.split()[0] in ("BatchNorm2d", "ReLU", "MaxPool2d", "Dropout"):
            merged[-1][1] += f", {text}"
            merged[-1][2] = shape
        else:
            merged.append([group, text, shape])
    return [tuple(r) for r in merged]


def _describe(m: nn.Module) -> str:
    if isinstance(m, nn.Conv2d):
        return f"Conv2d {m.in_channels}->{m.out_channels} {m.kernel_size[0]}x{m.kernel_size[1]}"
    if isinstance(m, nn.LSTM):
        return f"LSTM {m.input_size}->{m.hidden_size}"
    if isinstance(m, nn.Linear):
        return f"Linear {m.in_features}->{m.out_features}"
    if isinstance(m, nn.Embedding):
        return f"Embedding {m.num_embeddings}->{m.embedding_dim} (previous word)"
    if isinstance(m, nn.Dropout):
        return f"Dropout {m.p:g}"
    if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
        return f"{type(m).__name__} {m.kernel_size}"
    if isinstance(m, ColourPlanes):
        return f"colour planes (fixed, no weights): one per palette colour, then {CROP}x{CROP} crops"
    if isinstance(m, SlotEncoder):
        return f"slots: per colour, present + ink + centre (2) + digit probabilities (10) = {SLOT}"
    return type(m).__name__


def architecture_figure(model: CaptionModel, clip: torch.Tensor, path: Path | str) -> Path:
    """Draw the model, run on `clip` (1, T, 3, 64, 64), as a column of boxes with each stage's output
    shape; returns the path."""
    rows, frames = layer_shapes(model, clip), clip.size(1)
    fig = Figure(figsize=(8.5, 0.62 * len(rows) + 1.2))
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(-len(rows) - 0.6, 1)
    ax.axis("off")
    ax.text(5, 0.4, f"input clip (1, {frames}, 3, 64, 64): B=1 clip of T={frames} RGB frames",
            ha="center", fontsize=9, weight="bold")
    colours = {FRAME: "#dbe9f6", SEQUENCE: "#fde6c8"}
    for i, (group, text, shape) in enumerate(rows):
        y = -i - 0.5
        ax.add_patch(Rectangle((0.3, y - 0.32), 6.4, 0.64, fc=colours[group], ec="#555"))
        ax.text(0.45, y, text, va="center", fontsize=8)
        ax.text(6.9, y, str(shape), va="center", fontsize=8, family="monospace")
        if i:
            ax.annotate("", (3.5, y + 0.32), (3.5, y + 0.68), arrowprops=dict(arrowstyle="->", lw=0.8))
    ax.text(0.3, -len(rows) - 0.4, "blue: every frame (B*T, ...); the digit CNN reads one crop per colour present; "
            f"orange: LSTM stack over T+L={frames}+{MAX_WORDS + 1} steps and the word softmax", fontsize=7.5,
            color="#333")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return Path(path)


def design_answer(config, model: CaptionModel) -> str:
    """Markdown answering 1.6's six points, every number taken from `config` and `model`."""
    n_params = sum(p.numel() for p in model.parameters())
    reader = sum(p.numel() for p in model.encoder.parameters())
    convs = [m for m in model.encoder.modules() if isinstance(m, nn.Conv2d)]
    kernels = " and ".join(sorted({f"{m.kernel_size[0]}x{m.kernel_size[1]}" for m in convs}))
    lstm_sizes = [f"LSTM {m.input_size}→{m.hidden_size}" for m in model.lstms]
    colours = len(COLOURS)
    return "\n\n".join([
        "**Input data format.** A clip is a float tensor (T, 3, 64, 64) of T = "
        f"{config.frames} RGB frames scaled to [0, 1], batched as (B, T, 3, 64, 64). A caption is a sequence "
        f"of word indices over a vocabulary of {len(VOCAB)} tokens ({len(WORDS)} words plus <pad>, <bos>, <eos>), "
        f"ended by <eos> and right-padded, at most {MAX_WORDS + 1} tokens.",
        f"**Layers ({len(convs)} convolutional, {_dense(model)} dense, {config.layers} recurrent, an embedding and "
        f"the output layer; {n_params:,} parameters, {reader:,} of them in the digit CNN).** Per frame: a fixed "
        f"layer with no weights splits the frame into {colours} grayscale planes, one per palette colour (each "
        "pixel goes to the colour nearest its own direction in RGB space); for each colour present, its centre "
        f"of mass is found and a {CROP}x{CROP} crop centred there (as MNIST centres its digits) is read by the "
        f"`{config.reader}` digit CNN ({len(convs)} {kernels} convolutions with pooling, then two dense layers to 10 "
        f"logits). A frame becomes {colours} slots of {SLOT} numbers (present, ink: how much of the digit "
        "shows, centre row and column, 10 digit probabilities); each slot also gets its centre's change since "
        f"the previous frame ({MOTION} numbers, a motion stream like the optical flow S2VT adds to its frames), "
        f"and a dense layer maps the {colours} x {SLOT + MOTION} values to {config.features} features. Reading "
        "per colour binds each digit, position and motion to its colour by construction. Over time: "
        + ", ".join(lstm_sizes) + f" (stacked, {config.hidden} units): the "
        "bottom LSTM reads the frame features, the top one also reads the embedding "
        f"({config.embed} dimensions) of the previous word and emits the caption, as in S2VT. The digit CNN is "
        + _cnn_training(config),
        f"**Regularisation.** Dropout {config.dropout:g} on the frame features, between LSTM layers and before "
        "the softmax; batch normalisation and dropout in the digit CNN, and random shifts of up to "
        f"{config.pretrain_shift} pixels while pretraining it; " + _data_regime(config)
        + f"; the kept checkpoint is the epoch with the best exact match on {config.val_clips} validation clips "
        f"(early stopping). Gradients are clipped to norm {config.clip_norm:g} for stability.",
        f"**Output.** At each decoding step a softmax over the {len(VOCAB)} tokens; the caption is the words "
        "before the first <eos>.",
        "**Loss.** Cross-entropy of each reference word given the clip and the previous reference words, i.e. the "
        "negative log-likelihood of the caption, averaged over the non-padding tokens of the batch; Adam, "
        f"learning rate {config.lr:g} decaying to {config.lr_end:g}, batches of {config.batch_size} clips.",
        "**Training vs execution.** Training feeds the true previous word (teacher forcing), with dropout on"
        + (" (the frozen digit CNN always uses its pretraining statistics)" if config.freeze_cnn
           else " and batch statistics in batch norm")
        + ". Execution feeds the model's own previous word, with dropout off and running statistics"
        f", and decodes by beam search of width {config.beam} (greedy when 1; validation "
        f"uses greedy), stopping at <eos> or after {MAX_WORDS + 1} steps.",
    ])


def _dense(model: CaptionModel) -> int:
    return sum(isinstance(m, nn.Linear) for m in model.modules()) - 1   # less the output layer


def _cnn_training(config) -> str:
    pretrained = (f"pretrained for {config.pretrain_steps} steps of {config.pretrain_batch} on MNIST-train digit "
                  "classification (the images training clips draw from), the analogue of ImageNet pretraining, then ")
    if not config.pretrain_steps:
        pretrained = "not pretrained (pretraining is off in this config) and "
    if config.freeze_cnn:
        return pretrained + ("frozen: the slots of the training clips are computed once, and only the dense "
                             "layer, the LSTMs, the embedding and the softmax are trained on them.")
    return pretrained + "trained with the rest, end to end."


def _data_regime(config) -> str:
    if config.freeze_cnn:
        seen = config.epochs * config.steps_per_epoch * config.batch_size / config.train_clips
        return (f"training batches are drawn from a pool of {config.train_clips:,} generated clips (each seen "
                f"about {seen:.0f} times), and the frozen CNN's weights cannot overfit them")
    return "every training step sees newly generated clips, so no clip is seen twice"
