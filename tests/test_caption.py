"""Caption part: grammar, clip generator, model shapes and decoding, metrics, overfitting."""

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from neuralab.caption import grammar, train
from neuralab.caption.clips import (
    DigitSource,
    frames_to_tensor,
    held_out,
    make_batch,
    make_clip,
    perturbed,
    tokens_tensor,
    trajectory,
)
from neuralab.caption.config import make_config
from neuralab.caption.grammar import Actor, caption, parse
from neuralab.caption.metrics import bleu4, exact_match, word_accuracy
from neuralab.caption.attention import AttentionCaptioner
from neuralab.caption.decoder import beam_search, greedy
from neuralab.caption.evaluate import load_model, nearby_agreement
from neuralab.caption.model import build_model
from neuralab.caption.planes import (
    ColourPlanes,
    PlanesCaptioner,
    SlotEncoder,
    centred_crops,
    with_motion,
)
from neuralab.core.errors import UserError
from neuralab.core.mnist import MNIST
from neuralab.core.provenance import REFERENCE_RESULTS
from neuralab.core.runs import Run


def fake_mnist(n_train: int = 60000, n_test: int = 10000, train_value: int = 100, val_value: int = 60,
               test_value: int = 255) -> MNIST:
    """Digit d is a fixed random 28x28 stroke pattern; MNIST-train images 0..54999 have brightness
    `train_value`, 55000.. `val_value`, MNIST-test `test_value`, so a clip shows where its digits came from."""
    rng = np.random.default_rng(0)
    patterns = (rng.random((10, 28, 28)) < 0.3).astype(np.uint8)
    patterns[:, :4] = patterns[:, -4:] = 0
    y_train, y_test = np.arange(n_train) % 10, np.arange(n_test) % 10
    brightness = np.where(np.arange(n_train) < 55000, train_value, val_value).astype(np.uint8)
    x_train = patterns[y_train] * brightness[:, None, None]
    x_test = patterns[y_test] * np.uint8(test_value)
    return MNIST(x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64), "fake", "0" * 64)


@pytest.fixture(scope="module")
def source() -> DigitSource:
    return DigitSource(fake_mnist())


actors = st.builds(Actor, st.integers(0, 9), st.integers(0, 5), st.integers(0, 5))


@given(st.lists(actors, min_size=1, max_size=2, unique_by=lambda a: a.colour))
def test_caption_round_trips_through_the_grammar(chosen):
    sentence = caption(chosen)
    assert len(sentence.split()) == {1: 5, 2: 9}[len(chosen)]   # "the" + 4 words, or 4 + "and" + 4
    assert parse(sentence) == grammar.ordered(chosen)


@pytest.mark.parametrize("bad", ["the red three moves", "red three moves up and red four moves up",
                                 "blue nine moves up and green two moves down", "the red ten moves up",
                                 "blue two moves up and red seven bounces vertically",
                                 "the red three bounces up", "a red three moves up"])
def test_parse_rejects_sentences_outside_the_grammar(bad):
    with pytest.raises(ValueError):
        parse(bad)


def test_vocabulary_size_is_documented():
    assert len(grammar.WORDS) == 26 and len(grammar.VOCAB) == 29
    assert "26 words" in grammar.__doc__ and "29 in all" in grammar.__doc__


@pytest.mark.parametrize("split", ["random", "compositional"])
@pytest.mark.parametrize("role", ["train", "val", "test"])
def test_every_generated_caption_is_in_the_grammar(source, split, role):
    for i in range(60):
        clip = make_clip(source, role, split, seed=3, index=i)
        assert len(clip.caption.split()) == {1: 5, 2: 9}[len(clip.actors)]
        assert parse(clip.caption) == grammar.ordered(clip.actors)
        assert clip.frames.shape == (10, 64, 64, 3) and clip.frames.dtype == np.uint8


def test_train_val_and_test_digit_images_are_disjoint(source):
    # brightness marks the source: MNIST-train 0..54999 -> 100, 55000.. -> 60, MNIST-test -> 255
    for role, value in (("train", 100), ("val", 60), ("test", 255)):
        for i in range(40):
            assert make_clip(source, role, "random", seed=1, index=i).frames.max() == value


def test_compositional_split_keeps_held_out_combinations_for_test(source):
    for i in range(80):
        assert not any(held_out(a) for a in make_clip(source, "train", "compositional", 0, i).actors)
        assert all(held_out(a) for a in make_clip(source, "test", "compositional", 0, i).actors)
    singles = {(a.digit,) for a in (Actor(d, c, m) for d in range(10) for c in range(6) for m in range(6))
               if not held_out(a)}
    assert len(singles) == 10   # every digit still appears in training


def test_clips_are_deterministic_by_seed(source):
    a, b = make_clip(source, "train", "random", 5, 7), make_clip(source, "train", "random", 5, 7)
    assert np.array_equal(a.frames, b.frames) and a.caption == b.caption
    assert not np.array_equal(a.frames, make_clip(source, "train", "random", 6, 7).frames)


@pytest.mark.parametrize("frames", [10, 20])
@pytest.mark.parametrize("motion", range(6))
def test_motions_stay_in_frame_and_bounces_reflect(motion, frames):
    for k in range(50):
        path = trajectory(motion, frames, np.random.default_rng(k))
        assert path.min() >= 0 and path.max() <= 36
        steps = np.diff(path, axis=0)
        moving = steps[:, np.abs(steps).sum(0).argmax()]
        assert (steps[:, 1 - np.abs(steps).sum(0).argmax()] == 0).all()
        if grammar.MOTIONS[motion].startswith("moves"):
            assert len(set(np.sign(moving))) == 1 and 0 not in moving
        else:
            assert {-1, 1} <= set(np.sign(moving))


def test_bad_frame_count_is_a_user_error(source):
    with pytest.raises(UserError):
        make_clip(source, "train", "random", 0, 0, frames=9)


CAPTIONERS = {"planes": PlanesCaptioner, "attention": AttentionCaptioner}


@pytest.mark.parametrize("encoder", CAPTIONERS)
@pytest.mark.parametrize("layers", [1, 2])
def test_model_shapes(layers, encoder):
    model = CAPTIONERS[encoder](features=16, embed=8, hidden=24, layers=layers, reader="lenet")
    assert len(model.lstms) == layers
    clips, tokens = torch.rand(3, 10, 3, 64, 64), torch.randint(3, 29, (3, 9))
    assert model(clips, tokens).shape == (3, 9, 29)
    model.eval()
    assert model.encode_frames(clips)[0].shape == (3, 10, 16)
    out = greedy(model, clips)
    assert out.shape[0] == 3 and out.shape[1] <= 10
    assert torch.equal(beam_search(model, clips, width=1), out)
    assert beam_search(model, clips, width=3).shape[0] == 3


@pytest.mark.parametrize("encoder", CAPTIONERS)
def test_beam_finds_the_best_sentence_of_a_tiny_model(encoder):
    torch.manual_seed(0)
    model = CAPTIONERS[encoder](features=8, embed=4, hidden=8, layers=1, reader="lenet").eval()
    clips = torch.rand(2, 10, 3, 64, 64)
    best = beam_search(model, clips, width=29 * 29, max_len=2)   # wide enough to be exhaustive
    states = model.start(clips)
    logp1, states1 = model.step(torch.full((2,), grammar.BOS), states)
    for b in range(2):
        scores = {}
        for w1 in range(29):
            lp2, _ = model.step(torch.tensor([w1]), states1.pick(torch.tensor([b])))
            for w2 in range(29):
                scores[(w1, w2)] = logp1[b, w1].item() + (0.0 if w1 == grammar.EOS else lp2[0, w2].item())
        w1, w2 = max((k for k in scores if k[0] != grammar.EOS or k[1] == grammar.PAD), key=scores.get)
        assert best[b].tolist()[:2] == [w1, w2]


def test_metrics_on_known_cases():
    assert exact_match(["the red one moves up", "the red one moves"], ["the red one moves up"] * 2) == 0.5
    assert word_accuracy(["a b x", "a"], ["a b c", "a b"]) == pytest.approx(3 / 5)
    assert bleu4(["a b c d e f"], ["a b c d e f"]) == pytest.approx(1.0)
    # 1..4-gram precisions 4/5, 3/4, 2/3, 1/2, no brevity penalty
    assert bleu4(["a b c d e"], ["a b c d f"]) == pytest.approx((4 / 5 * 3 / 4 * 2 / 3 * 1 / 2) ** 0.25)
    # perfect precisions, brevity penalty exp(1 - 6/4)
    assert bleu4(["a b c d"], ["a b c d e f"]) == pytest.approx(math.exp(-0.5))
    # corpus sums, not a mean of sentence scores: 2nd pair has no 4-gram match on its own
    corpus = bleu4(["a b c d", "x y z w"], ["a b c d", "x y z q"])
    assert corpus == pytest.approx((7 / 8 * 5 / 6 * 3 / 4 * 1 / 2) ** 0.25)
    assert bleu4(["a b c"], ["a b c"]) == 0.0           # no 4-grams at all
    with pytest.raises(ValueError):
        bleu4([], [])


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text("abc ", min_size=1, max_size=12), min_size=1, max_size=4))
def test_bleu_of_a_corpus_with_itself_is_one_or_zero(sentences):
    score = bleu4(sentences, sentences)
    has_4grams = any(len(s.split()) >= 4 for s in sentences)
    assert score == (pytest.approx(1.0) if has_4grams else 0.0)


words = st.sampled_from(["the", "red", "green", "one", "two", "moves", "up", "down", "and"])
sentence = st.lists(words, min_size=1, max_size=10).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(sentence, sentence), min_size=1, max_size=6))
def test_bleu_matches_sacrebleu(pairs):
    """Our corpus BLEU-4 is sacrebleu's with whitespace tokens and no smoothing (it reports 0..100)."""
    sacrebleu = pytest.importorskip("sacrebleu")
    predictions, references = map(list, zip(*pairs))
    reference = sacrebleu.corpus_bleu(predictions, [references], tokenize="none", smooth_method="none", force=True)
    assert bleu4(predictions, references) * 100 == pytest.approx(reference.score, abs=1e-9)


def test_overfitting_a_handful_of_clips_reaches_exact_match(source):
    torch.manual_seed(0)
    video, tokens, captions = make_batch(source, "train", "random", 0, range(4))
    model = PlanesCaptioner(features=32, embed=16, hidden=64, layers=2, dropout=0.0, reader="lenet")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    scores = []
    for step in range(200):
        model.train()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(video, tokens).flatten(0, 1), tokens.flatten(), ignore_index=0)
        loss.backward()
        optimizer.step()
        if step % 10 == 9:
            model.eval()
            predicted = [grammar.decode(row.tolist()) for row in greedy(model, video)]
            scores.append(exact_match(predicted, captions))
            if scores[-1] == 1.0:
                break
    assert scores[0] < 1.0 and scores[-1] == 1.0   # learnt, not right from the start


def overfit_attention(video, tokens, captions, steps: int = 400) -> tuple[AttentionCaptioner, list[float]]:
    """The learned captioner, its reader's convolutions frozen as in training, fitted to these clips."""
    torch.manual_seed(0)
    model = AttentionCaptioner(features=32, embed=16, hidden=64, layers=2, dropout=0.0, reader="lenet")
    model.freeze_cnn()
    with torch.no_grad():
        parts = model.cacheable(video)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=5e-3)
    scores = []
    for step in range(steps):
        model.train()
        optimizer.zero_grad()
        logits = model.teacher(model.encode_cached(parts), tokens)
        F.cross_entropy(logits.flatten(0, 1), tokens.flatten(), ignore_index=0).backward()
        optimizer.step()
        if step % 20 == 19:
            model.eval()
            scores.append(exact_match([grammar.decode(r.tolist()) for r in greedy(model, video)], captions))
            if scores[-1] == 1.0:
                break
    return model, scores


@pytest.fixture(scope="module")
def overfitted(source):
    clips = [make_clip(source, "train", "random", 0, i) for i in range(16)]
    video = frames_to_tensor(np.stack([c.frames for c in clips]))
    return clips, *overfit_attention(video, tokens_tensor([c.caption for c in clips]), [c.caption for c in clips])


def test_the_attention_captioner_overfits_16_clips(overfitted):
    _, _, scores = overfitted
    assert scores[0] < 1.0 and scores[-1] == 1.0   # learnt, not right from the start


def test_its_attention_sums_to_one_over_each_frame(overfitted):
    clips, model, _ = overfitted
    video = frames_to_tensor(np.stack([c.frames for c in clips[:4]]))
    weights = model.where_it_looked(video, tokens_tensor([c.caption for c in clips[:4]]))  # (4, L, T, 10, 10)
    assert weights.shape[2:] == (10, 10, 10) and (weights >= 0).all()
    assert torch.allclose(weights.sum((-1, -2)), torch.ones(weights.shape[:3]), atol=1e-5)


@pytest.mark.parametrize("index", range(20))
def test_a_nearby_clip_moves_each_digit_a_little_and_keeps_it_in_frame_and_in_its_colour(source, index):
    """What `bench/caption.py` scores the trained captioner on (its caption should not change): each digit
    moved by at most 2 pixels as a whole, still inside the frame, its colour within 25/255 per channel."""
    clip = make_clip(source, "test", "random", 3, index)
    nearby = perturbed(source, "test", clip, np.random.default_rng(index))
    assert nearby.caption == clip.caption and not np.array_equal(nearby.frames, clip.frames)
    moved = nearby.corners - clip.corners                                  # (actors, T, 2)
    assert (np.abs(moved) <= 2).all() and (moved == moved[:, :1]).all()   # one offset per digit
    assert nearby.corners.min() >= 0 and nearby.corners.max() <= 64 - 28
    for actor, image, path in zip(nearby.actors, nearby.images, nearby.corners):
        r, c = path[0]
        ink = source.images["test"][image] == 255                          # fake digits: full-brightness strokes
        pixels = nearby.frames[0, r:r + 28, c:c + 28][ink].astype(int)    # where no other digit covers it, ...
        palette = np.array(grammar.COLOUR_RGB[grammar.COLOURS[actor.colour]])
        assert (np.abs(np.median(pixels, axis=0) - palette) <= 25).all()  # ... its jittered colour


def test_two_actors_are_named_in_colour_order():
    assert caption([Actor(1, 2, 0), Actor(9, 0, 1)]) == "red nine moves down and blue one moves up"
    assert caption([Actor(9, 0, 1), Actor(1, 2, 0)]) == "red nine moves down and blue one moves up"


def test_frozen_reader_gets_no_gradient_and_keeps_its_statistics():
    model = PlanesCaptioner(features=16, embed=8, hidden=24)
    model.freeze_cnn()
    model.train()
    norms = [m for m in model.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    before = [m.running_mean.clone() for m in norms]
    assert norms and not any(m.training for m in norms) and model.project.training
    model(torch.rand(2, 10, 3, 64, 64), torch.randint(3, 29, (2, 9))).sum().backward()
    assert all(p.grad is None for p in model.encoder.parameters())
    assert model.project[1].weight.grad is not None and model.lstms[0].weight_ih_l0.grad is not None
    assert all(torch.equal(b, m.running_mean) for b, m in zip(before, norms))


@pytest.mark.parametrize("encoder, shapes", [("planes", [(6, 10, 6, 14)]),
                                             ("attention", [(6, 10, 10, 10, 128), (6, 10, 3, 16, 16)])])
def test_the_cached_frames_give_the_clips_logits(source, encoder, shapes):
    config = replace(make_config("dry-run"), train_clips=6, encoder=encoder)
    model = build_model(config).eval()
    parts, words = train.cache_frames(model, source, config, torch.device("cpu"))
    video, tokens, _ = make_batch(source, "train", "random", config.seed, range(6))
    assert [p.shape for p in parts] == shapes
    assert torch.equal(words[:, :tokens.size(1)], tokens) and (words[:, tokens.size(1):] == grammar.PAD).all()
    with torch.no_grad():
        cached = model.teacher(model.encode_cached(parts), words)
        direct = model(video, words)
    assert torch.allclose(cached, direct, atol=1e-3) and not torch.allclose(cached[0], cached[1], atol=1e-4)


def test_training_batches_draw_from_the_whole_cached_pool(source):
    config = replace(make_config("dry-run"), train_clips=40, batch_size=8, steps_per_epoch=30)
    pool = train.cache_frames(build_model(config), source, config, torch.device("cpu"))
    words = {tuple(w.tolist()) for parts, batch in train._batches(source, config, pool, 1) for w in batch}
    assert len(words) >= 30   # of the pool's 40 captions (a few may repeat)


def test_pretraining_teaches_the_reader_the_digits(tmp_path):
    source = DigitSource(fake_mnist(val_value=100))   # val digits drawn as the training digits are
    torch.manual_seed(0)
    config = replace(make_config("dry-run"), pretrain_steps=150, pretrain_batch=32)
    model = build_model(config)
    run = Run.create(tmp_path, "caption", config)
    figures = train.pretrain(run, model.encoder.reader, source, config, torch.device("cpu"))
    assert figures["val_accuracy"] > 0.9   # held-out val digits; chance is 0.1


def test_compositional_split_holds_out_combinations_but_shows_every_pair_in_training():
    """The docstring's claim: each (digit, colour), (digit, motion) and (colour, motion) pair of a
    held-out actor is still seen in training; only the triple is new."""
    every = [Actor(d, c, m) for d in range(10) for c in range(6) for m in range(6)]
    trained = [a for a in every if not held_out(a)]
    assert len(every) - len(trained) == 60
    for pick in ((0, 1), (0, 2), (1, 2)):
        key = lambda a: tuple((a.digit, a.colour, a.motion)[i] for i in pick)  # noqa: E731
        assert {key(a) for a in every} == {key(a) for a in trained}, pick


@pytest.mark.parametrize("index", range(12))
def test_colour_planes_give_each_digit_back_in_its_colour(source, index):
    """Each actor's colour plane holds its MNIST image (to uint8 rounding) where the clip put it, the
    other planes are empty, and its slot gives the digit's centre of mass as a fraction of the frame."""
    clip = make_clip(source, "test", "random", 5, index)
    frames = torch.from_numpy(clip.frames).float().div(255).movedim(-1, 1)        # (T, 3, 64, 64)
    # frames where the digits' 28x28 boxes do not touch: every one for a single digit, most for two
    gap = np.abs(np.subtract(*clip.corners)).max(1) if len(clip.actors) == 2 else np.full(len(frames), 99)
    apart = torch.from_numpy(gap >= 28)                                             # (T,)
    planes, slots = ColourPlanes()(frames), SlotEncoder("lenet")(frames)          # (T, 6, 64, 64), (T, 6, 14)
    expected = torch.zeros_like(planes)
    for actor, image, corners in zip(clip.actors, clip.images, clip.corners):
        glyph = torch.from_numpy(source.images["test"][image]).float() / 255      # (28, 28)
        centre = torch.stack([(glyph.sum(1) * torch.arange(28)).sum(), (glyph.sum(0) * torch.arange(28)).sum()])
        for t, (r, c) in enumerate(corners):
            expected[t, actor.colour, r:r + 28, c:c + 28] = glyph
            if apart[t]:                                                          # no overlap moves the centre
                assert torch.allclose(slots[t, actor.colour, 2:4] * 16 + 32,
                                      centre / glyph.sum() + torch.tensor([r, c]), atol=0.05)
                assert slots[t, actor.colour, 1].item() == pytest.approx(glyph.sum().item() / 100, abs=0.01)  # ink
    assert ((planes[apart] - expected[apart]).abs() < 0.02).all()
    steps = with_motion(slots[None])[0] * 4                                       # (T, 6, 16): motion at 14:
    for actor, corners in zip(clip.actors, clip.corners):
        moved = torch.from_numpy(np.diff(corners, axis=0)).float()                 # (T-1, 2) pixels
        both = apart[1:] & apart[:-1]
        assert torch.allclose(steps[1:, actor.colour, 14:][both], moved[both], atol=0.05)
        assert (steps[0, actor.colour, 14:] == 0).all()
    colours = sorted(a.colour for a in clip.actors)
    assert slots[:, colours, 0].all()
    others = [k for k in range(6) if k not in colours]
    # ink shows in no other colour, except where two digits cross: there the frame holds the channel-wise
    # maximum of both colours (red over green is yellow), which may be read as a third colour
    crossing = (expected[:, colours] > 0).all(1).sum((1, 2)) if len(colours) == 2 else torch.zeros(len(planes))
    assert (planes[:, others].sum((1, 2, 3)) < 15 + crossing).all()
    assert not slots[:, others, 0].any() or len(colours) == 2 and (crossing > 0).any()


def test_a_centred_crop_puts_the_centre_at_14():
    plane = torch.zeros(1, 64, 64)
    plane[0, 40, 3] = 1.0
    crop = centred_crops(plane, torch.tensor([40.0]), torch.tensor([3.0]))
    assert crop.shape == (1, 1, 28, 28) and crop[0, 0, 14, 14] == 1.0 and crop.sum() == 1.0


@pytest.mark.parametrize("reader", ["lenet", "vgg"])
def test_the_sliding_reader_reads_every_window_as_the_reader_reads_a_crop(reader):
    """Its dense layers as convolutions: the logits at window (i, j) of a 64x64 frame are those of the
    28x28 crop at pixel (4i, 4j)."""
    from neuralab.core.reader import SlidingReader
    torch.manual_seed(0)
    model = SlidingReader(reader).eval()
    frame = torch.rand(1, 1, 64, 64)
    with torch.no_grad():
        maps = model.digits(model.hidden(frame))                           # (1, 10, 10, 10)
        crops = torch.cat([frame[..., 4 * i:4 * i + 28, 4 * j:4 * j + 28] for i in range(10) for j in range(10)])
        one_by_one = model(crops)                                          # (100, 10)
    assert maps.shape == (1, 10, 10, 10)
    assert torch.allclose(maps[0].flatten(1).T, one_by_one, atol=1e-4)


TRAINED = REFERENCE_RESULTS / "caption" / "attention-random.safetensors"


@pytest.mark.mnist
def test_a_trained_learned_encoder_keeps_its_caption_on_nearby_clips(real_mnist):
    """The learned encoder's reference checkpoint (the random split's kept epoch of the run in
    results/caption/attention.json, copied with its .json; made again when the captioner's version
    changes) on 100 validation clips:
    digits moved by up to 2 pixels and colours by up to 25/255 keep the caption, which is right."""
    model, config, _ = load_model(TRAINED, torch.device("cpu"))
    figures = nearby_agreement(model, DigitSource(real_mnist), config, 100, seed=3, device=torch.device("cpu"),
                               role="val")
    assert figures["exact_match"] >= 0.85 and figures["nearby_exact_match"] >= 0.85
    assert figures["kept"] >= 0.85
