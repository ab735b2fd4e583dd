"""The report's answer to question 1.6 (model design for captioning short video clips), built
from the caption runs themselves: the design answer written from the config, the architecture
figure drawn from the model, example clips with their predicted captions, and the measured exact
match on both splits (trained, or reused from finished runs when ctx.reuse)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from neuralab.caption.attention_figure import attention_figure
from neuralab.caption.clips import DigitSource, frames_to_tensor, make_clip
from neuralab.caption.config import TEST_SEED, CaptionConfig, make_config
from neuralab.caption.design import architecture_figure, design_answer, encoder_paragraphs
from neuralab.caption.evaluate import caption_frames, load_model
from neuralab.caption.gif import write_gif
from neuralab.caption.grammar import VOCAB, WORDS
from neuralab.caption.model import build_model
from neuralab.caption.train import train_or_reuse
from neuralab.core import mnist
from neuralab.core.errors import UserError
from neuralab.core.reference import load_result, reference_paragraph
from neuralab.core.section import Section, SectionContext

TITLE = "Model design: captioning short video clips (built and trained on generated moving-digit clips)"
EXAMPLES = 3  # clips shown per split
TARGETS = {"full": 0.95, "budget": 0.90}   # random-split exact match: 15 min of training; the 10-min report
FIGURES_SHARE = 0.02  # of the budget share, kept for the architecture figure and the example clips: ~2 s


def build(ctx: SectionContext) -> Section:
    device = torch.device("cpu")
    configs = _configs(ctx)
    runs = {split: train_or_reuse(config, mnist.load, ctx.runs_root, device, ctx.reuse)[0]
            for split, config in configs.items()}
    ctx.assets_dir.mkdir(parents=True, exist_ok=True)
    link = lambda p: Path(os.path.relpath(p, ctx.out_dir)).as_posix()  # noqa: E731
    results = {split: run.result for split, run in runs.items()}
    model, config, _ = load_model(runs["random"].path / "best.safetensors", device)
    clip = make_clip(DigitSource(mnist.load()), "test", "random", TEST_SEED, 0, config.frames)
    figure = link(architecture_figure(model, frames_to_tensor(clip.frames)[None],
                                      ctx.assets_dir / "caption-architecture.png"))
    looked = _attention(model, clip, ctx.assets_dir, link) if config.encoder == "attention" else ""
    examples = _examples(ctx, runs, link)
    markdown = "\n\n".join(part for part in [
        _intro(config), design_answer(config, model),
        f"![the captioner, layer by layer, with output shapes]({figure})", looked,
        _other_encoder(config, clip, ctx, link),
        _results(results, ctx.profile), _reference(ctx), examples, _published(),
    ] if part)
    ours = {f"{s} exact match": round(r["exact_match"], 4) for s, r in results.items()}
    ours |= {f"{s} BLEU-4": round(r["bleu4"], 4) for s, r in results.items()}
    return Section(key="caption", number="1.6", title=TITLE, markdown=markdown,
                   ours=ours, run_dirs=[str(r.path) for r in runs.values()],
                   summary=f"random-split exact caption match {results['random']['exact_match']:.3f} on "
                           f"{results['random']['count']} test clips (published: a drawing, no figure)",
                   command="; ".join(_command(c) for c in configs.values()))


def _configs(ctx: SectionContext) -> dict[str, CaptionConfig]:
    """full: the learned encoder on both splits, 15 minutes each. budget: the colour-plane encoder on the
    random split, trained to the share: the learned encoder needs minutes a 10-minute report does not
    have (0.18 exact match in a 197 s share against 0.90 for the colour planes, at commit 2fe88e6); its
    design and architecture are shown untrained, and its measured figures and attention figure come from
    the project's saved full run."""
    if ctx.profile == "full":
        return {split: make_config("full", split) for split in ("random", "compositional")}
    return {"random": make_config("budget", "random", max_seconds=round(ctx.seconds * (1 - FIGURES_SHARE)),
                                  encoder="planes")}


def _attention(model, clip, assets: Path, link, whose: str = "") -> str:
    path = link(attention_figure(model, clip.frames, assets / "caption-attention.png", clip.caption))
    return (f"![where the learned captioner looked for each word of test clip 0]({path})\n\n*Where it looked{whose}: "
            "for each word it said, its word attention summed over the frames, over the clip's frames laid on top "
            "of each other (a moving digit leaves a track).*")


def _other_encoder(trained: CaptionConfig, clip, ctx: SectionContext, link) -> str:
    """The encoder this run did not train: its layers, what it knows by construction, its figure, and
    for the learned encoder where the project's reference checkpoint looked."""
    other = "planes" if trained.encoder == "attention" else "attention"
    config = make_config("full", trained.split, encoder=other)
    model = build_model(config).eval()
    figure = link(architecture_figure(model, frames_to_tensor(clip.frames)[None],
                                      ctx.assets_dir / f"caption-architecture-{other}.png"))
    layers, learned = encoder_paragraphs(config, model)
    name = "the learned encoder" if other == "attention" else "the colour-plane encoder, kept as a named variant"
    looked = _reference_attention(clip, ctx, link) if other == "attention" else ""
    return "\n\n".join(part for part in [
        f"**The other encoder: `{other}`, {name}** (not trained in this run; its measured figures are in the "
        "project's reference results below).", layers, learned,
        f"![the {other} captioner, layer by layer, with output shapes]({figure})", looked] if part)


def _reference_attention(clip, ctx: SectionContext, link) -> str:
    """The attention figure of the learned encoder's reference checkpoint, if the project ships one
    that this code can load (a checkpoint of an older captioner version is left out)."""
    path = None if ctx.bench_dir is None else ctx.bench_dir / REFERENCE_CHECKPOINT
    if path is None or not path.is_file():
        return ""
    try:
        model, _, _ = load_model(path, torch.device("cpu"))
    except UserError:
        return ""
    return _attention(model, clip, ctx.assets_dir, link,
                      f" (the reference checkpoint `results/{REFERENCE_CHECKPOINT}`: the random split's kept "
                      "epoch of the saved full run below, not trained in this report)")


def _command(config: CaptionConfig) -> str:
    encoder = f" --encoder {config.encoder}"
    if config.max_seconds:
        return (f"neuralab caption train --profile budget --max-seconds {config.max_seconds:g} --split {config.split}"
                + encoder)
    return f"neuralab caption train --profile full --split {config.split}" + encoder


KNOWS = {   # what each encoder is given by construction, for the side-by-side table
    "attention": "nothing of the palette, the digits' number or places: all learned from captions",
    "planes": "the palette (a fixed colour split), each colour's centre and motion (computed)",
}
REFERENCE_FILES = {"attention": "caption/attention.json", "planes": "caption/full.json"}
REFERENCE_CHECKPOINT = "caption/attention-random.safetensors"   # that file's random-split kept checkpoint


def _reference(ctx: SectionContext) -> str:
    """The project's saved full-profile runs of both encoders, side by side."""
    blocks = []
    for encoder, relative in REFERENCE_FILES.items():
        record = load_result(ctx.bench_dir, relative)
        if record is None or record.get("encoder", "planes") != encoder:
            continue
        rows = ["| encoder | knows by construction | split | exact match | BLEU-4 | test clips | training wall time |",
                "|---|---|---|---|---|---|---|"]
        rows += [f"| {encoder} | {KNOWS[encoder]} | {split} | {r['exact_match']:.3f} | {r['bleu4']:.3f} | {r['count']} "
                 f"| {r['train_seconds']:.0f} s |" for split, r in record["splits"].items()]
        blocks.append(reference_paragraph(f"the {encoder} encoder, {record['profile']} profile", rows, record))
    return "\n\n".join(blocks)


def _intro(config) -> str:
    return ("Real video data sets cannot be downloaded here, so the clips are generated: "
            f"{config.frames} frames of 64x64 RGB holding one or two coloured MNIST digits, each moving up, down, "
            "left or right, or bouncing vertically or horizontally off the walls. Captions come from a small "
            f"grammar (\"the red three moves left\", \"red seven bounces vertically and blue two moves up\"): every "
            f"sentence has 5 or 9 words, over a vocabulary of {len(WORDS)} words ({len(VOCAB)} tokens with "
            "<pad>, <bos>, <eos>). MNIST-train digits appear only in training clips and MNIST-test digits only "
            "in test clips. The design below is the one the code trains; every figure in it is read from the "
            "model and its saved config.")


def _results(results: dict, profile: str) -> str:
    rows = ["| split | exact match | per-word accuracy | BLEU-4 | test clips | beam | training wall time |",
            "|---|---|---|---|---|---|---|"]
    for split, r in results.items():
        rows.append(f"| {split} | **{r['exact_match']:.3f}** | {r['word_accuracy']:.3f} | {r['bleu4']:.3f} | "
                    f"{r['count']} | {r['beam']} | {r['train_seconds']:.0f} s |")
    return (f"**Measured in this run ({profile} profile).** Exact caption match is the headline. The random split "
            "draws every (digit, colour, motion) combination in training and test; the compositional split keeps 60 "
            "of the 360 combinations out of training and tests only on them. The full profile's target is at least "
            f"{TARGETS['full']:.2f} exact match on 2,000 random-split test clips after at most 15 minutes of training "
            f"on 2 CPU cores; the budget profile's is {TARGETS['budget']:.2f} within its share of the report's time. "
            "Wall times are those of the runs "
            "shown, on the machine that trained them.\n\n" + "\n".join(rows)
            + "\n\n" + _verdict(results["random"], profile))


def _verdict(random: dict, profile: str) -> str:
    goal = TARGETS[profile]
    met = random["exact_match"] >= goal and random["count"] >= 2000
    return (f"Against the target, the random split's {random['exact_match']:.3f} exact match on {random['count']} "
            f"clips {'meets' if met else 'misses'} the {goal:.2f} goal. The checkpoint was chosen on validation clips "
            "(MNIST-train digits 55000 and up) and the test clips were drawn once from a fresh seed; the design "
            "itself was developed on an earlier set of test clips, now retired (see docs/benchmarks.md).")


def _examples(ctx: SectionContext, runs: dict, link) -> str:
    data = DigitSource(mnist.load())
    lines = ["**Examples** (held-out MNIST-test clips; the caption under each clip is the model's):", "",
             "| clip | predicted | true |", "|---|---|---|"]
    for split, run in runs.items():
        model, config, _ = load_model(run.path / "best.safetensors", torch.device("cpu"))
        for i in range(EXAMPLES):
            clip = make_clip(data, "test", split, TEST_SEED, i, config.frames)
            predicted = caption_frames(model, frames_to_tensor(clip.frames)[None], config.beam)[0]
            gif = write_gif(ctx.assets_dir / f"caption-{split}-{i}.gif", clip.frames, predicted, scale=3)
            mark = "✓" if predicted == clip.caption else "✗"
            lines.append(f"| ![{split} clip {i}]({link(gif)}) | {mark} {predicted} | {clip.caption} ({split}) |")
    return "\n".join(lines)


def _published() -> str:
    return ("**The published answer** was only a drawing with a description: frames of 128x128, a CNN "
            "pretrained on labelled images with its dense layers removed, two stacked LSTMs (one reading frames, "
            "one emitting words through a softmax over the vocabulary), trained on log-likelihood; it counted 4 "
            "layers, named no regularisation, and reported no measured accuracy. Here the two stacked LSTMs and the "
            "pretrained digit CNN are kept. The learned encoder (`attention`) keeps the CNN's spatial map and "
            "learns where to look, per frame and per word, as the field does since Show, Attend and Tell (2015); "
            "the first design (`planes`, kept as a named variant) had the frame split into the 6 palette colours by "
            "a fixed layer, with each colour's centre and motion computed by code, which only works on clips whose "
            "palette is known. The figures above have no published counterpart to compare with.")
