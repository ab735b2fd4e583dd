"""calc library: the exact-sum likelihood against brute-force enumeration, its gradients, the
decoding rule, the generators (train and test images never mix) and strip segmentation."""

import itertools
import re
from functools import lru_cache

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from neuralab.calc import arith
from neuralab.calc.data import Bank, make_examples
from neuralab.calc.digits import add_digits, to_digits
from neuralab.calc.inputs import read_paths
from neuralab.calc.layout import BLANK, PLUS, SYMBOLS, Layout
from neuralab.calc.segment import frame
from neuralab.core.errors import UserError

SETTINGS = settings(max_examples=15, deadline=None)


def random_logp(seed: int, shape, scale: float = 2.0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (scale * torch.randn(*shape, generator=g, dtype=torch.float64)).log_softmax(-1)


# --- the dynamic program over columns and carries -------------------------------------------

@given(K=st.integers(2, 3), W=st.integers(1, 2), seed=st.integers(0, 10_000))
@SETTINGS
def test_sum_loglik_equals_enumeration_of_digit_assignments(K, W, seed):
    logp = random_logp(seed, (K, W, 10))
    p = logp.exp().numpy()
    # every assignment of a digit to each (operand, column): its probability and its sum, exactly
    probs = np.ones([10] * (K * W))
    values = np.zeros([10] * (K * W), dtype=np.int64)
    for axis, (k, i) in enumerate(itertools.product(range(K), range(W))):
        shape = [1] * (K * W)
        shape[axis] = 10
        probs = probs * p[k, i].reshape(shape)
        values = values + (np.arange(10) * 10**i).reshape(shape)
    rng = np.random.default_rng(seed)
    for total in [int(values.max()), 0, int(rng.integers(0, values.max() + 1))]:
        expected = np.log(probs[values == total].sum())
        got = arith.sum_loglik(logp, to_digits(torch.tensor(total), W + 2)).item()
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    beyond = to_digits(torch.tensor(int(values.max()) + 1 + 10 ** (W + 1)), W + 2)
    assert arith.sum_loglik(logp, beyond).item() == arith.NEG     # no assignment reaches it


@given(K=st.integers(2, 3), W=st.integers(1, 2), seed=st.integers(0, 10_000))
@SETTINGS
def test_sum_loglik_gradients_equal_those_of_the_enumeration(K, W, seed):
    """The dynamic program's gradient is the brute-force log-sum's (torch autograd, float64), and
    torch.autograd.gradcheck confirms it against finite differences."""
    logp = random_logp(seed, (K, W, 10)).requires_grad_()
    place = torch.tensor([10**i for i in range(W)])
    assignments = torch.cartesian_prod(*[torch.arange(10)] * (K * W)).view(-1, K, W)     # (10^KW, K, W)
    totals = (assignments * place).sum((1, 2))
    total = int(totals[seed % len(totals)])
    picked = logp[torch.arange(K)[:, None], torch.arange(W)[None, :], assignments].sum((1, 2))
    brute = torch.logsumexp(picked[totals == total], 0)
    target = to_digits(torch.tensor(total), W + 2)
    (expected,) = torch.autograd.grad(brute, logp)
    (got,) = torch.autograd.grad(arith.sum_loglik(logp, target), logp)
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12)
    assert torch.autograd.gradcheck(lambda x: arith.sum_loglik(x, target), (logp.detach().requires_grad_(),))


def column_by_column(p: np.ndarray, total: int) -> float:
    """Reference for long sums: P(the K operands add up to total), one column after another in
    probability space, each column's sum by np.convolve. p: (K, W, 10) digit probabilities."""
    K, W, _ = p.shape
    digits = [int(c) for c in str(total).zfill(W + 1)[::-1]]
    if len(digits) > W + 1:
        return 0.0
    carry = np.zeros(K)
    carry[0] = 1.0
    for i in range(W):
        column = p[0, i]
        for k in range(1, K):
            column = np.convolve(column, p[k, i])                     # P(column value), 0..9K
        nxt = np.zeros(K)
        for c_in in range(K):
            for value in range(len(column)):
                if (value + c_in) % 10 == digits[i] and (value + c_in) // 10 < K:
                    nxt[(value + c_in) // 10] += carry[c_in] * column[value]
        carry = nxt
    return carry[digits[W]] if digits[W] < K else 0.0


@given(K=st.integers(2, 3), W=st.integers(3, 41), batch=st.integers(1, 3), seed=st.integers(0, 10_000))
@SETTINGS
def test_sum_loglik_of_long_batched_sums_equals_the_column_by_column_reference(K, W, batch, seed):
    """Long sums exercise every shape of the balanced tree (odd and even widths, several rounds)."""
    logp = random_logp(seed, (batch, K, W, 10), scale=1.0)
    rng = np.random.default_rng(seed)
    totals = []
    for b in range(batch):       # a reachable total: the sum of one assignment of digits
        drawn = rng.integers(0, 10, (K, W))
        totals.append(sum(int("".join(map(str, row[::-1]))) for row in drawn))
    target = torch.tensor([[int(c) for c in str(t).zfill(W + 2)[::-1]] for t in totals])   # past int64
    got = arith.sum_loglik(logp, target)
    for b in range(batch):
        assert got[b].item() == pytest.approx(np.log(column_by_column(logp[b].exp().numpy(), totals[b])), rel=1e-9)


@given(numbers=st.lists(st.integers(0, 10**60 - 1), min_size=2, max_size=9))
@SETTINGS
def test_column_addition_of_long_numbers_equals_integer_addition(numbers):
    width = 60
    digits = torch.tensor([[int(c) for c in str(n).zfill(width)[::-1]] for n in numbers])   # (K, W)
    total = add_digits(digits)
    assert int("".join(str(d) for d in total.flip(-1).tolist())) == sum(numbers)


@given(rows=st.lists(st.lists(st.sampled_from([0, 1, 8, 9]), min_size=70, max_size=70), min_size=2, max_size=9))
@SETTINGS
def test_column_addition_carries_along_long_runs_of_nines(rows):
    digits = torch.tensor(rows)                                    # (K, 70), little-endian, mostly 9s and 0s
    total = add_digits(digits)
    assert int("".join(str(d) for d in total.flip(-1).tolist())) == sum(
        int("".join(map(str, row[::-1]))) for row in rows)
    assert add_digits(torch.tensor([[9] * 70, [1] + [0] * 69])).tolist() == [0] * 70 + [1]   # one carry, 70 columns


def _pattern(layout: Layout) -> re.Pattern:
    N, K = layout.digits, layout.operands
    if layout.format == "expression":
        return re.compile(r"\+".join([rf"(\d{{1,{N}}})"] * K) + " *")
    if layout.format == "fixed":
        return re.compile("".join([rf"(\d{{{N}}})"] * K))
    return re.compile("".join([rf"(\d{{1,{N}}}) {{0,{N - 1}}}"] * K))


@lru_cache(maxsize=None)
def valid_strings(layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """Every string of the 12 symbols that is a valid example of the layout: (strings, operands)."""
    pattern, N = _pattern(layout), layout.digits
    rows, numbers = [], []
    for s in itertools.product(range(12), repeat=layout.slots):
        text = "".join(SYMBOLS[c] for c in s)
        m = pattern.fullmatch(text)
        groups_ok = layout.format != "operands" or all(
            len(text[k * N:(k + 1) * N].rstrip(" ")) == len(m.group(k + 1)) for k in range(layout.operands)) if m else False
        if m and groups_ok:
            rows.append(s)
            numbers.append([int(g) for g in m.groups()])
    return np.array(rows), np.array(numbers)


LAYOUTS = [Layout("expression", 1, 2), Layout("expression", 2, 2), Layout("expression", 1, 3),
           Layout("operands", 2, 2), Layout("operands", 1, 3), Layout("fixed", 2, 2)]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"{lay.format}-N{lay.digits}-K{lay.operands}")
@given(seed=st.integers(0, 10_000))
@settings(max_examples=5, deadline=None)
def test_layout_loglik_equals_enumeration_of_symbol_strings(layout, seed):
    strings, numbers = valid_strings(layout)
    logp = random_logp(seed, (1, layout.slots, 12))
    string_p = np.prod(logp[0].exp().numpy()[np.arange(layout.slots), strings], axis=1)
    totals = numbers.sum(1)
    for total in np.random.default_rng(seed).choice(totals, 3):
        got = arith.loglik(logp, layout, torch.tensor([int(total)])).item()
        assert got == pytest.approx(np.log(string_p[totals == total].sum()), rel=1e-9)
    if layout.format == "operands":  # running supervision: every group shows its own operand
        target = numbers[0]
        got = arith.loglik_each(logp, layout, torch.from_numpy(target[None])).item()
        assert got == pytest.approx(np.log(string_p[(numbers == target).all(1)].sum()), rel=1e-9)


@pytest.mark.parametrize("layout", [Layout("expression", 5, 2), Layout("operands", 4, 3), Layout("fixed", 4, 2)])
def test_gradients_are_finite_even_for_near_one_hot_readings(layout):
    torch.manual_seed(0)
    logits = (60.0 * torch.nn.functional.one_hot(torch.randint(0, 12, (8, layout.slots)), 12).float()
              + 0.01 * torch.randn(8, layout.slots, 12)).requires_grad_()
    totals = torch.randint(0, 10**layout.digits, (8,))   # mostly impossible under the readings
    loss = -arith.loglik(logits.log_softmax(-1), layout, totals).mean()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    assert logits.grad.abs().sum() > 0


@pytest.mark.parametrize("layout", [Layout("expression", 3, 2), Layout("operands", 3, 3), Layout("fixed", 3, 2)])
def test_decode_reads_confident_slots_exactly(layout, fake_bank):
    ex = make_examples(layout, fake_bank, 50, seed=3)
    logp = (20.0 * torch.nn.functional.one_hot(torch.from_numpy(ex.symbol), 12).double()).log_softmax(-1)
    assert torch.equal(arith.decode(logp, layout), torch.from_numpy(ex.numbers))


# --- generators -------------------------------------------------------------------------------

def fake_split(value: int, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n images whose every pixel is `value` (so the split can be told from the pixels), labels 0-9."""
    rng = np.random.default_rng(seed)
    return np.full((n, 28, 28), value, np.uint8), rng.integers(0, 10, n)


@pytest.fixture(scope="module")
def fake_bank() -> Bank:
    return Bank(*fake_split(1, 600, 0), "train", "glyph")


def _parse(layout: Layout, symbols: np.ndarray) -> list[int]:
    text = "".join(SYMBOLS[s] for s in symbols)
    if layout.format == "operands":
        N = layout.digits
        return [int(text[k * N:(k + 1) * N].rstrip(" ")) for k in range(layout.operands)]
    if layout.format == "fixed":
        N = layout.digits
        return [int(text[k * N:(k + 1) * N]) for k in range(layout.operands)]
    return [int(t) for t in text.rstrip(" ").split("+")]


@pytest.mark.parametrize("layout", [Layout("expression", 5, 2), Layout("operands", 4, 3), Layout("fixed", 3, 2),
                                    Layout("expression", 3, 3, "glyph")])
@pytest.mark.parametrize("count", [None, 200])
def test_examples_are_consistent_deterministic_and_never_mix_splits(layout, count):
    if count is None and layout.format != "fixed":
        count = 300
    train = Bank(*fake_split(1, 600, 0), "train", layout.specials)
    test = Bank(*fake_split(2, 400, 1), "test", layout.specials)
    for bank, value in ((train, 1), (test, 2)):
        ex = make_examples(layout, bank, count, seed=5)
        again = make_examples(layout, bank, count, seed=5)
        assert np.array_equal(ex.image, again.image) and np.array_equal(ex.numbers, again.numbers)
        digit = ex.symbol < 10
        assert (ex.image[digit] < bank.n_digits).all()
        assert np.array_equal(bank.labels[ex.image[digit]], ex.symbol[digit])
        assert (bank.render(ex.image)[torch.from_numpy(digit)] == value / 255).all()   # only this split's pixels
        assert np.isin(ex.image[ex.symbol == PLUS], bank.plus_index).all()
        assert np.isin(ex.image[ex.symbol == BLANK], bank.blank_index).all()
        assert [_parse(layout, s) for s in ex.symbol] == ex.numbers.tolist()
        if layout.format == "fixed" and count is None:   # the protocol: each image once
            assert len(ex) == bank.n_digits // (2 * layout.digits)
            assert len(np.unique(ex.image)) == ex.image.size


def test_expression_lengths_are_uniform():
    layout = Layout("expression", 5, 2)
    ex = make_examples(layout, Bank(*fake_split(1, 600, 0), "train", "noise"), 20000, seed=0)
    lengths = np.char.str_len(ex.numbers.astype(str))
    freq = np.bincount(lengths.ravel(), minlength=6)[1:] / lengths.size
    assert np.allclose(freq, 0.2, atol=0.01)


# --- strip images -----------------------------------------------------------------------------

def strip(widths, light: bool) -> np.ndarray:
    """A strip of filled 'digits' (rectangles of the given widths) separated by empty columns."""
    img = np.zeros((40, 10 + sum(w + 8 for w in widths)), np.uint8)
    x = 6
    for w in widths:
        img[8:32, x:x + w] = 255
        x += w + 8
    return 255 - img if light else img


@pytest.mark.parametrize("light", [False, True])
def test_strip_is_split_at_empty_columns_and_centred(tmp_path, light):
    path = tmp_path / "strip.png"
    Image.fromarray(strip([4, 12, 7], light)).save(path)
    groups = read_paths([path])
    assert len(groups) == 1
    digits = groups[0].images
    assert digits.shape == (3, 28, 28) and digits.dtype == np.uint8
    ys, xs = np.indices((28, 28))
    for d in digits:
        mass = d.astype(float).sum()
        assert abs((ys * d).sum() / mass - 13.5) <= 1 and abs((xs * d).sum() / mass - 13.5) <= 1
        rows = np.nonzero(d.any(1))[0]
        assert 19 <= rows.max() - rows.min() + 1 <= 21   # the tall side fits 20 pixels
    widths = [np.count_nonzero(d.any(0)) for d in digits]
    assert widths[0] < widths[2] < widths[1]


def test_folder_of_digits_is_read_in_name_order_and_bad_files_refused(tmp_path):
    for name, w in (("b.png", 12), ("a.png", 3)):
        Image.fromarray(strip([w], light=True)).save(tmp_path / name)
    digits = read_paths([tmp_path])[0].images
    assert np.count_nonzero(digits[0].any(0)) < np.count_nonzero(digits[1].any(0))
    (tmp_path / "c.png").write_text("not an image")
    with pytest.raises(UserError, match="not a readable image"):
        read_paths([tmp_path])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="empty group"):
        read_paths([empty])


def test_framing_keeps_aspect():
    tall = np.ones((40, 10))
    out = frame(tall)
    assert np.count_nonzero(out.any(1)) == 20 and np.count_nonzero(out.any(0)) in (5, 6)


def test_reading_each_distinct_image_once_changes_no_output():
    from neuralab.calc.layout import Layout
    from neuralab.calc.models import SymbolicCalc

    torch.manual_seed(0)
    model = SymbolicCalc(Layout("expression", 3, 2, "noise")).eval()
    images = torch.rand(4, 7, 1, 28, 28)
    images[:, 3] = images[0, 3]          # a repeated '+'-like slot
    images[:, 5:] = images[1, 6]         # repeated blanks
    with torch.no_grad():
        per_slot = model.reader(images.flatten(0, 1)).log_softmax(-1).view(4, 7, -1)
        torch.testing.assert_close(model(images), per_slot, rtol=0, atol=1e-6)


def test_bf16_training_reads_in_bfloat16_and_hands_the_arithmetic_fp32():
    from neuralab.calc.models import SymbolicCalc

    torch.manual_seed(0)
    fp32 = SymbolicCalc(Layout("fixed", 3, 2))
    bf16 = SymbolicCalc(Layout("fixed", 3, 2), precision="bf16")
    bf16.load_state_dict(fp32.state_dict())
    images = torch.rand(64, 1, 28, 28)
    for model in (fp32, bf16):
        model.reader.head[2].p = 0.0                                  # no dropout: the two must agree
    with torch.no_grad():      # first, as training updates the batch norms' running statistics
        torch.testing.assert_close(bf16.eval().read(images), fp32.eval().read(images), rtol=0, atol=0)   # reads in fp32
    train32, train16 = fp32.train().read(images), bf16.train().read(images)
    assert train16.dtype == torch.float32 and not torch.equal(train16, train32)     # rounded in the reader
    torch.testing.assert_close(train16.exp(), train32.exp(), rtol=0, atol=0.05)     # bfloat16's 8-bit mantissa


def test_a_long_sum_trains_its_reader_in_chunks_each_its_own_batch_norm_batch():
    from neuralab.calc.models import READ_CHUNK, SymbolicCalc

    torch.manual_seed(0)
    model = SymbolicCalc(Layout("fixed", 200, 2)).train()
    model.reader.head[2].p = 0.0                                      # no dropout: readings must repeat
    images = torch.cat([torch.rand(READ_CHUNK, 1, 28, 28), 0.2 * torch.rand(400 - READ_CHUNK, 1, 28, 28)])
    with torch.no_grad():
        chunked = model.read(images)                                  # (400, 12): two chunks
        first, rest = model.read(images[:READ_CHUNK]), model.read(images[READ_CHUNK:])
        whole = model.reader(images).float()                          # one batch norm batch of 400
    torch.testing.assert_close(chunked, torch.cat([first, rest]), rtol=0, atol=1e-6)
    assert not torch.allclose(chunked[:, :10], whole[:, :10].log_softmax(-1), atol=1e-3)   # batch statistics differ


class PixelReader(torch.nn.Module):
    """Reads a fake image whose pixels are all v as symbol v - 1, except that it takes 3 for 8."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        symbol = (images.flatten(1).mean(1) * 255).round().long().sub(1).clamp(0, 11)
        symbol = torch.where(symbol == 3, 8, symbol)
        return 30.0 * torch.nn.functional.one_hot(symbol, 12).float()


@pytest.mark.parametrize("layout", [Layout("fixed", 40, 2), Layout("expression", 4, 2), Layout("operands", 3, 3)])
def test_scores_match_exact_integer_arithmetic_past_int64(layout):
    from neuralab.calc.metrics import score
    from neuralab.calc.models import SymbolicCalc

    labels = np.random.default_rng(0).integers(0, 10, 3000)
    bank = Bank((labels[:, None, None] + 1).repeat(28, 1).repeat(28, 2).astype(np.uint8), labels, "test", "noise")
    bank.images[bank.plus_index], bank.images[bank.blank_index] = PLUS + 1, BLANK + 1
    ex = make_examples(layout, bank, 300, seed=2)
    model = SymbolicCalc(layout)
    model.reader = PixelReader()
    got = score(model, layout, bank, ex, torch.device("cpu"))

    def totals(symbols: np.ndarray) -> list[int]:   # every reported total, as Python integers
        running = np.cumsum(np.array(_parse(layout, symbols), dtype=object)).tolist()
        return running if layout.format == "operands" else running[-1:]

    truth = [totals(s) for s in ex.symbol]
    read = [totals(np.where(s == 3, 8, s)) for s in ex.symbol]
    strings = [[str(t).ljust(layout.width) for t in row] for row in truth], \
              [[str(t).ljust(layout.width) for t in row] for row in read]
    same_chars = sum(a == b for t, r in zip(*strings) for x, y in zip(t, r) for a, b in zip(x, y))
    assert got["exact_sum_accuracy"] == np.mean([t[-1] == r[-1] for t, r in zip(truth, read)])
    assert got["char_accuracy"] == pytest.approx(same_chars / (len(ex) * len(truth[0]) * layout.width))
    digit = ex.symbol < 10
    assert got["digit_accuracy"] == pytest.approx(np.mean(ex.symbol[digit] != 3))
    if layout.format == "fixed":   # the learning target is the same sum, as digit columns
        target = ex.targets(layout, np.arange(len(ex)))
        assert ["".join(map(str, row[::-1])).lstrip("0") for row in target.tolist()] == [str(t[0]) for t in truth]


def test_fixed_sums_of_long_numbers_have_an_exact_likelihood():
    layout = Layout("fixed", 30, 2)
    bank = Bank(*fake_split(1, 600, 0), "train", "noise")
    ex = make_examples(layout, bank, 8, seed=4)
    logp = (20.0 * torch.nn.functional.one_hot(torch.from_numpy(ex.symbol), 12).double()).log_softmax(-1)
    target = ex.targets(layout, np.arange(8))                      # (8, 31)
    assert torch.allclose(arith.loglik(logp, layout, target), torch.zeros(8, dtype=torch.float64), atol=1e-4)
    wrong = target.clone()
    wrong[:, 17] = (wrong[:, 17] + 1) % 10
    assert (arith.loglik(logp, layout, wrong) < -10).all()


def test_eval_views_average_the_shifted_readings():
    from neuralab.core.reader import SymbolNet, shift

    torch.manual_seed(0)
    reader = SymbolNet("vgg", classes=12, views=5).eval()
    images = torch.rand(6, 1, 28, 28)
    moved = shift(images, 1, -1)
    assert torch.equal(moved[:, :, 1:, :-1], images[:, :, :-1, 1:]) and (moved[:, :, 0] == 0).all()
    with torch.no_grad():
        reader.views = 1
        each = [reader(shift(images, dy, dx)).log_softmax(-1) for dy, dx in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1))]
        reader.views = 5
        torch.testing.assert_close(reader(images), torch.stack(each).mean(0), rtol=0, atol=1e-5)
    reader.train()
    assert reader(images).shape == (6, 12)     # training reads each image once


def test_eval_reads_a_large_batch_as_each_image_alone():
    from neuralab.core.reader import EVAL_CHUNK, SymbolNet

    torch.manual_seed(0)
    reader = SymbolNet("vgg", classes=12, views=5).eval()
    images = torch.rand(2 * EVAL_CHUNK + 3, 1, 28, 28)
    with torch.no_grad():
        alone = torch.cat([reader(image[None]) for image in images])
        torch.testing.assert_close(reader(images), alone, rtol=0, atol=1e-5)
        assert reader(images[:0]).shape == (0, 12)


def test_vgg_reader_is_conv_batchnorm_relu_blocks_then_pools():
    """The reader's features against the same weights written out in float64: four 3x3 conv +
    batch norm (batch statistics, training) + ReLU blocks, a 2x2 max pool after the second and the
    fourth; values and weight gradients."""
    from neuralab.core.reader import SymbolNet

    torch.manual_seed(0)
    reader = SymbolNet("vgg", classes=12).double().train()
    images = torch.rand(16, 1, 28, 28, dtype=torch.float64)
    convs = [m for m in reader.features if isinstance(m, torch.nn.Conv2d)]
    norms = [m for m in reader.features if isinstance(m, torch.nn.BatchNorm2d)]
    weights = [p.detach().clone().requires_grad_() for m in convs + norms for p in (m.weight, m.bias)]

    x = images
    for i in range(4):
        cw, cb, nw, nb = weights[2 * i], weights[2 * i + 1], weights[8 + 2 * i], weights[8 + 2 * i + 1]
        x = torch.nn.functional.conv2d(x, cw, cb)
        x = torch.nn.functional.batch_norm(x, None, None, nw, nb, training=True, eps=norms[i].eps).relu()
        if i in (1, 3):
            x = torch.nn.functional.max_pool2d(x, 2)
    expected = x.flatten(1)                                                    # (16, 32 * 4 * 4)
    got = reader.features(images)
    torch.testing.assert_close(got, expected)
    probe = torch.randn_like(expected)
    (got * probe).sum().backward()
    (expected * probe).sum().backward()
    for module_weight, reference in zip([p for m in convs + norms for p in (m.weight, m.bias)], weights):
        torch.testing.assert_close(module_weight.grad, reference.grad)


def test_the_benchmarks_p_is_the_rule_the_page_reads_by():
    """The digit accuracy p that `score` reports is the fraction of digit images that `read_digits` (the
    page, `calc predict`) reads right, even for a reader that puts most of its mass on '+' and blank."""
    from neuralab.calc.metrics import score
    from neuralab.calc.models import SymbolicCalc
    from neuralab.calc.reading import read_digits

    torch.manual_seed(0)
    layout = Layout("expression", 3, 2)
    labels = np.random.default_rng(1).integers(0, 10, 600)
    bank = Bank(np.random.default_rng(2).integers(0, 256, (600, 28, 28), dtype=np.uint8), labels, "test", "noise")
    model = SymbolicCalc(layout)
    with torch.no_grad():
        model.reader.head[-1].bias[10:] += 3.0   # '+' and blank come first among 12 for most images
    ex = make_examples(layout, bank, 200, seed=3)
    p = score(model, layout, bank, ex, torch.device("cpu"))["digit_accuracy"]
    digit_slots = ex.symbol < 10
    shown = ex.image[digit_slots]
    read, _ = read_digits(model, bank.images[shown])
    assert p == pytest.approx(float(np.mean(np.array(read) == ex.symbol[digit_slots])))
    assert p > 0.05   # with the 12-symbol argmax it was near 0: every image read as '+' or blank
