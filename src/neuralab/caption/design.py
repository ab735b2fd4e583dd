"""The 1.6 design answer, written from the code's own config and model (either encoder), and the
architecture figure, whose boxes and shapes come from running the model on one clip."""

from __future__ import annotations

import textwrap

from pathlib import Path

import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from torch import nn

from neuralab.caption.grammar import COLOURS, MAX_WORDS, VOCAB, WORDS
from neuralab.caption.attention import GRID, FrameAttention, WordAttention
from neuralab.caption.decoder import Captioner
from neuralab.caption.planes import CROP, MOTION, SLOT, ColourPlanes, SlotEncoder
from neuralab.core.io import save_figure

FRAME, SEQUENCE = "per frame", "sequence"


def layer_shapes(model: Captioner, clip: torch.Tensor) -> list[tuple[str, str, tuple]]:
    """(group, description, output shape) for every stage of one teacher-forced pass on `clip`
    (1, T, 3, 64, 64); a conv block (Conv2d + BatchNorm + ReLU (+ MaxPool)) is one stage, shown with
    its last shape. The reader's rows have one image per colour present in each frame."""
    rows, hooks = [], []

    def record(group, module):
        def hook(_, __, out):
            out = out[0] if isinstance(out, tuple) else out
            rows.append([group, _describe(module), tuple(out.shape)])
        return hook

    whole = (SlotEncoder, WordAttention)                  # one row for the module, none for its parts
    for name, module in model.named_modules():
        leaf = next(module.children(), None) is None and not isinstance(module, nn.Flatten)
        inside = name.startswith("word_attention.")
        if leaf and not inside or isinstance(module, whole):
            group = FRAME if name.startswith(("encoder", "project", "frame_attention")) else SEQUENCE
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
                text.split()[0] in ("BatchNorm2d", "ReLU", "MaxPool2d", "Dropout", "Dropout2d"):
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
    if isinstance(m, (nn.Dropout, nn.Dropout2d)):
        return f"{type(m).__name__} {m.p:g}"
    if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d)):
        return f"{type(m).__name__} {m.kernel_size}"
    if isinstance(m, ColourPlanes):
        return f"colour planes (fixed, no weights): one per palette colour, then {CROP}x{CROP} crops"
    if isinstance(m, SlotEncoder):
        return f"slots: per colour, present + ink + centre (2) + digit probabilities (10) = {SLOT}"
    if isinstance(m, FrameAttention):
        return (f"attention per frame: {len(m.queries)} learned queries, each a softmax over the {GRID * GRID} "
                "windows -> what it read, where, how far it moved")
    if isinstance(m, WordAttention):
        return f"attention per word: the top LSTM asks each frame's {GRID * GRID} windows (weights shown)"
    return type(m).__name__


def architecture_figure(model: Captioner, clip: torch.Tensor, path: Path | str) -> Path:
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
        lines = textwrap.wrap(text, 72)   # a long stage (the attention) takes two lines inside its box
        ax.text(0.45, y, "\n".join(lines), va="center", fontsize=8 if len(lines) == 1 else 6.5, linespacing=1.1)
        ax.text(6.9, y, str(shape), va="center", fontsize=8, family="monospace")
        if i:
            ax.annotate("", (3.5, y + 0.32), (3.5, y + 0.68), arrowprops=dict(arrowstyle="->", lw=0.8))
    reads = ("the digit CNN reads one crop per colour present" if isinstance(model.encoder, SlotEncoder) else
             "the CNNs read the whole frame (brightness; RGB pooled 4x4)")
    ax.text(0.3, -len(rows) - 0.4, f"blue: every frame (B*T, ...); {reads}; "
            f"orange: LSTM stack over T+L={frames}+{MAX_WORDS + 1} steps and the word softmax", fontsize=7.5,
            color="#333")
    fig.tight_layout()
    return save_figure(fig, path)


def encoder_paragraphs(config, model: Captioner) -> tuple[str, str]:
    """The answer's two paragraphs that depend on the encoder: its layers, and what it learns and what
    is fixed."""
    layers = _attention_layers if config.encoder == "attention" else _planes_layers
    return (layers(config, model) + " Over time: " + ", ".join(f"LSTM {m.input_size}→{m.hidden_size}"
                                                                for m in model.lstms)
            + f" (stacked, {config.hidden} units): the bottom LSTM reads the frame features, the top one also reads "
            f"the embedding ({config.embed} dimensions) of the previous word and emits the caption, as in S2VT. The "
            "digit CNN is " + _cnn_training(config), _learned(config))


def design_answer(config, model: Captioner) -> str:
    """Markdown answering 1.6's six points, every number taken from `config` and `model`."""
    return "\n\n".join([
        "**Input data format.** A clip is a float tensor (T, 3, 64, 64) of T = "
        f"{config.frames} RGB frames scaled to [0, 1], batched as (B, T, 3, 64, 64). A caption is a sequence "
        f"of word indices over a vocabulary of {len(VOCAB)} tokens ({len(WORDS)} words plus <pad>, <bos>, <eos>), "
        f"ended by <eos> and right-padded, at most {MAX_WORDS + 1} tokens.",
        *encoder_paragraphs(config, model),
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


def _counts(model: Captioner) -> str:
    n_params = sum(p.numel() for p in model.parameters())
    reader = sum(p.numel() for p in model.encoder.reader.parameters())
    return (f"{_convs(model)} convolutional, {_dense(model)} dense, {len(model.lstms)} recurrent, an embedding and "
            f"the output layer; {n_params:,} parameters, {reader:,} of them in the digit CNN")


def _convs(model: Captioner) -> int:
    return sum(isinstance(m, nn.Conv2d) for m in model.modules())


def _kernels(module: nn.Module) -> str:
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    return " and ".join(sorted({f"{m.kernel_size[0]}x{m.kernel_size[1]}" for m in convs}))


def _planes_layers(config, model: Captioner) -> str:
    colours = len(COLOURS)
    return (f"**Layers ({_counts(model)}).** Per frame: a fixed layer with no weights splits the frame into "
            f"{colours} grayscale planes, one per palette colour (each pixel goes to the colour nearest its own "
            "direction in RGB space); for each colour present, its centre of mass is found and a "
            f"{CROP}x{CROP} crop centred there (as MNIST centres its digits) is read by the `{config.reader}` digit "
            f"CNN ({_convs(model)} {_kernels(model.encoder)} convolutions with pooling, then two dense layers to 10 "
            f"logits). A frame becomes {colours} slots of {SLOT} numbers (present, ink: how much of the digit "
            "shows, centre row and column, 10 digit probabilities); each slot also gets its centre's change since "
            f"the previous frame ({MOTION} numbers, a motion stream like the optical flow S2VT adds to its frames), "
            f"and a dense layer maps the {colours} x {SLOT + MOTION} values to {config.features} features.")


def _attention_layers(config, model: Captioner) -> str:
    maps, reader = model.encoder, model.encoder.reader
    frame, word = model.frame_attention, model.word_attention
    values, glimpse = maps.mix[0].out_features, word.look[0].out_features
    convs = sum(isinstance(m, nn.Conv2d) for m in reader.features.modules())
    return (f"**Layers ({_counts(model)}).** Per frame: the `{config.reader}` digit CNN reads the frame's "
            "brightness (at each pixel the largest of R, G and B) as a sliding window: its "
            f"{convs} {_kernels(reader.features)} convolutions with pooling give a map at a stride of 4, and its two "
            f"dense layers, now a 4x4 and a 1x1 convolution, give each of {GRID}x{GRID} windows of 28x28 pixels "
            f"its {reader.digits.in_channels} hidden features and 10 digit logits. A small colour CNN (a 1x1 and a "
            f"7x7 convolution over the RGB frame average-pooled 4x4) adds {maps.colour[0].out_channels} learned "
            "colour features per window, two coordinate channels (CoordConv) give its centre, and a dense "
            f"layer at each window mixes them into {values} values. Attention per frame: {len(frame.queries)} "
            f"learned queries each take a softmax over the {GRID * GRID} windows; what each reads, its expected "
            "position and that position's change since the previous frame go through a dense layer to "
            f"{config.features} features. Attention per word (Show, Attend and Tell over the windows of each "
            "frame): the top LSTM's output asks every frame; what it reads, averaged over the frames, and the track "
            f"of its expected positions over the {config.frames} frames go through a dense layer to a glimpse of "
            f"{glimpse} numbers that the word layer reads beside the LSTM's output. Motion is learned from where the "
            "attention lands over time.")


def _learned(config) -> str:
    if config.encoder == "attention":
        return ("**What is learned and what is fixed.** Fixed: the brightness (the largest channel, a grey image "
                "for a digit of any colour), the 4x4 average pooling, the coordinate grid and, after pretraining, the digit CNN up to its hidden features. Learned from the captions: which windows hold a digit, which colour "
                "is which word, which digit has which colour, where each is in every frame and how it moves. "
                "Nothing in the model knows the palette, how many digits a clip holds or where they are: its code "
                "imports nothing from the clip generator (a test checks this). Learned from MNIST labels: the digit "
                "CNN, whose last layer (hidden features to digit logits) the captions then fine-tune.")
    return ("**What is learned and what is fixed.** Fixed by hand for these clips: the palette (a layer with no "
            "weights splits each frame into its 6 colours), each colour's centre of mass, ink and motion (computed "
            "by code) and the crop around the centre. Reading per colour binds each digit, position and motion to "
            "its colour by construction, which only works because the clips are synthetic, with a known palette and "
            "one digit per colour. Learned: the digit CNN (from MNIST labels, then frozen), the dense layer over the "
            "slots, the embedding and the LSTMs.")


def _dense(model: Captioner) -> int:
    return sum(isinstance(m, nn.Linear) for m in model.modules()) - 1   # less the output layer


def _cnn_training(config) -> str:
    pretrained = (f"pretrained for {config.pretrain_steps} steps of {config.pretrain_batch} on MNIST-train digit "
                  "classification (the images training clips draw from), the analogue of ImageNet pretraining, then ")
    if not config.pretrain_steps:
        pretrained = "not pretrained (pretraining is off in this config) and "
    if config.freeze_cnn and config.encoder == "attention":
        return pretrained + ("frozen up to its hidden features (their maps of the training clips are computed "
                             "once, in bfloat16), while its last layer is fine-tuned with the rest of the model.")
    if config.freeze_cnn:
        return pretrained + ("frozen: the slots of the training clips are computed once, and only the dense "
                             "layer, the LSTMs, the embedding and the softmax are trained on them.")
    return pretrained + "trained with the rest, end to end."


def _data_regime(config) -> str:
    if config.freeze_cnn:
        seen = config.epochs * config.steps_per_epoch * config.batch_size / config.train_clips
        return (f"training batches are drawn from a pool of {config.train_clips:,} generated clips (each seen "
                f"about {seen:.0f} times)" + ("" if config.encoder == "attention" else
                                             ", and the frozen CNN's weights cannot overfit them"))
    return "every training step sees newly generated clips, so no clip is seen twice"
