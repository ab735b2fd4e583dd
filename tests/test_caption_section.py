"""Caption part in the report: the design answer follows the config, the figure follows the model,
and build() writes its assets and reuses finished runs."""

import json
from dataclasses import replace

import torch

from neuralab.caption import config, section
from neuralab.caption.config import make_config
from neuralab.caption.design import design_answer, layer_shapes
from neuralab.caption.model import build_model
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.core.section import SectionContext
from tests.test_caption import fake_mnist


def test_design_answer_is_written_from_the_config():
    config = replace(make_config("quick", encoder="planes"), dropout=0.37, beam=5, hidden=40, features=24,
                     reader="lenet")
    text = design_answer(config, build_model(config))
    for fact in ("Dropout 0.37", "beam search of width 5", "LSTM 24→40", "LSTM 72→40", "29 tokens",
                 "2 convolutional, 3 dense", "6 slots of 14 numbers", "`lenet` digit CNN (2 5x5 convolutions"):
        assert fact in text
    assert "frozen" in text and "pool of" in text
    assert "end to end" in design_answer(replace(config, freeze_cnn=False), build_model(config))
    assert "Fixed by hand for these clips: the palette" in text


def test_the_learned_encoders_design_answer_says_what_is_learned():
    config = replace(make_config("quick"), hidden=40, features=24, reader="lenet")
    text = design_answer(config, build_model(config))
    for fact in ("LSTM 24→40", "6 convolutional, 4 dense", "4 learned queries", "10x10 windows of 28x28",
                 "`lenet` digit CNN", "Nothing in the model knows the palette", "its last layer is fine-tuned"):
        assert fact in text, fact
    assert "slots of" not in text and "centre of mass" not in text


def test_the_learned_encoders_figure_rows_show_both_attentions():
    config = replace(make_config("quick"), features=24, hidden=40)
    rows = layer_shapes(build_model(config), torch.rand(1, 10, 3, 64, 64))
    assert ("per frame", "Conv2d 32->128 4x4, ReLU, Dropout2d 0.25", (10, 128, 10, 10)) in rows
    assert any(shape == (1, 10, 4, 68) and text.startswith("attention per frame") for _, text, shape in rows)
    assert any(shape == (1, 10, 10, 100) and text.startswith("attention per word") for _, text, shape in rows)


def test_figure_rows_follow_the_model():
    config = replace(make_config("quick", encoder="planes"), features=24, hidden=40)
    clip = torch.zeros(1, 10, 3, 64, 64)
    clip[:, :, 0, 20:30, 20:30] = 1.0                     # one red square: the reader reads 10 crops
    rows = layer_shapes(build_model(config), clip)
    assert ("per frame", "Conv2d 32->32 3x3, BatchNorm2d, MaxPool2d 2, ReLU", (10, 32, 4, 4)) in rows
    assert any(shape == (10, 6, 14) and text.startswith("slots") for _, text, shape in rows)
    assert len(layer_shapes(build_model(replace(config, layers=1)), clip)) == len(rows) - 2  # one LSTM, one dropout


def test_build_answers_with_the_learned_encoder_and_reuses_runs(tmp_path, monkeypatch):
    monkeypatch.setitem(config.PROFILES, "budget", config.PROFILES["dry-run"])
    monkeypatch.setitem(config.ATTENTION, "budget", {})   # the learned encoder's own pool size too
    monkeypatch.setattr(section.mnist, "load", lambda *a: fake_mnist())
    monkeypatch.setattr(section, "SECONDS_PER_CLIP", 0.6)   # 35 clips scored in a 60 s share
    ctx = SectionContext(out_dir=tmp_path, assets_dir=tmp_path / "assets" / "caption",
                         runs_root=tmp_path / "runs", profile="budget", seconds=60, bench_dir=REFERENCE_RESULTS)
    first = section.build(ctx)
    text = first.text()
    # the headline: the shipped checkpoint of the learned encoder, scored on clips made in this run
    assert "reference checkpoint, scored in this run" in first.lead and "| **attention (headline)** |" in first.lead
    assert "on 35 MNIST-test clips" in first.answer and "the target is 0.90 on 2,000 clips, judged on 35 here" in first.answer
    assert "caption-architecture.png" in first.lead and "Nothing in the model knows the palette" in text
    assert "caption-architecture-planes.png" in text          # the baseline, trained here
    assert "caption-attention.png" in text and (tmp_path / "assets" / "caption" / "caption-attention.png").is_file()
    assert text.count(".gif") == 2 * section.EXAMPLES          # the learned encoder's clips and the baseline's
    assert all((tmp_path / "assets" / "caption" / f"caption-{e}-random-{i}.gif").is_file()
               for e in ("attention", "planes") for i in range(3))
    assert set(first.ours) == {"random exact match", "random BLEU-4", "learned encoder exact match"}
    # the baseline trains to the share less the planned scoring (60 × 0.96 − 35 × 0.6 = 36.6 s), so a rerun reuses it
    assert first.command == "neuralab caption train --profile budget --max-seconds 37 --split random --encoder planes"
    saved = json.loads((REFERENCE_RESULTS / "caption" / "full.json").read_text())
    assert (f"| planes | compositional | **{saved['splits']['compositional']['exact_match']:.4f}** |" in text
            and "The `planes` encoder knows by construction: the palette" in text
            and f"commit {saved['commit'][:7]}" in text)   # the project's full run, named as such
    again = section.build(ctx)
    assert again.run_dirs == first.run_dirs   # reused, not retrained


def test_the_attention_figure_shows_each_word_the_model_said(tmp_path):
    from neuralab.caption.attention_figure import attention_figure, word_attention
    from neuralab.caption.clips import frames_to_tensor
    torch.manual_seed(0)
    config = replace(make_config("dry-run"), frames=10)
    model = build_model(config).eval()
    frames = (torch.rand(10, 64, 64, 3) * 255).to(torch.uint8).numpy()
    words, weights = word_attention(model, frames_to_tensor(frames)[None])
    assert weights.shape == (len(words), 10, 10, 10)
    assert abs(weights.sum((2, 3)) - 1).max() < 1e-5                 # each frame's attention sums to 1
    assert attention_figure(model, frames, tmp_path / "a.png").stat().st_size > 1000
