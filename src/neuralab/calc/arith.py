"""Exact, differentiable arithmetic over per-image symbol probabilities.

The perception model gives, for every slot, log-probabilities over the 12 symbols. The probability
that the images show numbers adding up to S is the sum, over every reading of the slots that forms
a valid layout and adds up to S, of the product of the slot probabilities. We compute it exactly:

1. A *reading* fixes each operand's length (the layout then says which slots hold which digit
   column and which must be '+' or blank). All length tuples are enumerated: N**K of them.
2. For a reading, the digits of one column are independent, so the column's sum has the
   distribution of the convolution of the K digit distributions (values 0..9K).
3. A dynamic program over columns, with the carry (0..K-1) as state: each column is a K x K
   matrix of log P(its digit of S, carry out | carry in), and their product, taken as a balanced
   tree, gives log P(the columns match S). Its work is linear in the number of columns and its
   sequential depth logarithmic, so a 1000-digit sum costs about as much as a 100-digit one.
4. The log-likelihood is the log-sum over readings. Everything stays in log-space.

Impossible events get the finite log-probability NEG instead of -inf: logsumexp over a row of
-inf has a NaN gradient, and NEG makes exp() vanish just the same.
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import torch
from torch import nn

from neuralab.calc.digits import powers, to_digits
from neuralab.calc.layout import BLANK, PLUS, Layout

NEG = -1e30


@lru_cache(maxsize=None)
def _sum_matrix(m: int, n: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(m * n, m + n - 1) 0/1 matrix sending the pair (a, b) to the value a + b."""
    a, b = torch.meshgrid(torch.arange(m), torch.arange(n), indexing="ij")
    return nn.functional.one_hot((a + b).flatten(), m + n - 1).to(dtype=dtype, device=device)


def log_conv(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Distribution of a sum in log-space: x (..., m), y (..., n) -> (..., m + n - 1).

    Each side is shifted by its maximum before exp(), so the products never overflow and the
    largest terms never underflow; the shifts are added back after the log. A value below the
    dtype's smallest normal number times the maximum (e**-87 in float32) is rounded up to it.
    """
    mx, my = x.amax(-1, keepdim=True).detach(), y.amax(-1, keepdim=True).detach()
    pairs = (x - mx).exp()[..., :, None] * (y - my).exp()[..., None, :]     # (..., m, n)
    p = pairs.flatten(-2) @ _sum_matrix(x.shape[-1], y.shape[-1], x.dtype, x.device)
    return p.clamp_min(torch.finfo(p.dtype).tiny).log() + mx + my


def column_sums(digit_logp: torch.Tensor) -> torch.Tensor:
    """(..., K, W, 10) digit log-probs per operand and column -> (..., W, 9K + 1) column-sum log-probs."""
    q = digit_logp[..., 0, :, :]
    for k in range(1, digit_logp.shape[-3]):
        q = log_conv(q, digit_logp[..., k, :, :])
    return q


def log_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Matrix product in the log semiring: (..., I, J) x (..., J, L) -> (..., I, L)."""
    return torch.logsumexp(a[..., :, :, None] + b[..., None, :, :], -2)


def carry_steps(q: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Every column's carry transition at once: log P(column i gives the sum's digit i and carry
    c_out | carry c_in). q: column-sum log-probs (..., W, V); target (..., D) -> (..., W, K, K)."""
    W, V = q.shape[-2:]
    K = (V - 1) // 9
    c_in = torch.arange(K, device=q.device).view(K, 1)
    c_out = torch.arange(K, device=q.device).view(1, K)
    v = 10 * c_out + target[..., :W, None, None] - c_in               # (..., W, K, K) column value needed
    ok = (v >= 0) & (v < V)
    picked = torch.gather(q[..., None, :].expand(*v.shape[:-1], V), -1, v.clamp(0, V - 1))
    return torch.where(ok, picked, NEG)


def chain(steps: torch.Tensor) -> torch.Tensor:
    """The product of W transition matrices (..., W, K, K) in order, as a balanced tree of pairwise
    products: log2(W) rounds of batched work instead of W sequential steps. -> (..., K, K)."""
    while steps.shape[-3] > 1:
        if steps.shape[-3] % 2:                                       # pad with the identity
            K = steps.shape[-1]
            eye = torch.full((K, K), NEG, dtype=steps.dtype, device=steps.device).fill_diagonal_(0.0)
            steps = torch.cat([steps, eye.expand(*steps.shape[:-3], 1, K, K)], -3)
        steps = log_matmul(steps[..., 0::2, :, :], steps[..., 1::2, :, :])
    return steps[..., 0, :, :]


def sum_loglik(digit_logp: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """log P(the K operands add up to `target`), the operands' digits being independent.

    digit_logp: (..., K, W, 10) little-endian columns; target: the sum's little-endian digits
    (..., D), broadcastable, D >= W + 1 (any digits past the carry column must be 0).
    """
    K, W = digit_logp.shape[-3], digit_logp.shape[-2]
    q = column_sums(digit_logp)                                       # (..., W, V)
    target = target.expand(*q.shape[:-2], target.shape[-1])
    alpha = chain(carry_steps(q, target))[..., 0, :]                  # (..., K): no carry into column 0
    top = target[..., W]                                              # the last carry must be this digit
    final_ok = (top < K) & (target[..., W + 1:] == 0).all(-1)
    return torch.where(final_ok, torch.gather(alpha, -1, top.clamp(0, K - 1)[..., None])[..., 0], NEG)


def _slot_count(fmt: str, N: int, K: int) -> int:
    return K * N + K - 1 if fmt == "expression" else K * N


@lru_cache(maxsize=None)
def reading_tables(fmt: str, N: int, K: int) -> tuple[torch.Tensor, torch.Tensor]:
    """For every reading (operand-length tuple) of a layout with K operands of up to N digits:

    digit_slot (R, K, W=N): the slot of operand k's column i, or T (a virtual slot, surely 0);
    special (R, T): the symbol the slot must show ('+' or blank), or -1 for a digit slot.
    """
    T = _slot_count(fmt, N, K)
    lengths = [(N,) * K] if fmt == "fixed" else itertools.product(range(1, N + 1), repeat=K)
    slots, specials = [], []
    for lens in lengths:
        digit_slot = torch.full((K, N), T, dtype=torch.long)
        special = torch.full((T,), BLANK, dtype=torch.long)
        start = 0
        for k, L in enumerate(lens):
            if fmt != "expression":
                start = k * N
            for i in range(L):                                        # column i is slot start + L-1-i
                digit_slot[k, i] = start + L - 1 - i
            special[start:start + L] = -1
            start += L
            if fmt == "expression" and k < K - 1:
                special[start] = PLUS
                start += 1
        slots.append(digit_slot)
        specials.append(special)
    return torch.stack(slots), torch.stack(specials)


def reading_scores(logp: torch.Tensor, fmt: str, N: int, K: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Slot log-probs (B, T, 12) -> digit log-probs per reading (B, R, K, W, 10) and the
    log-prob (B, R) that the reading's '+' and blank slots show '+' and blank."""
    digit_slot, special = (t.to(logp.device) for t in reading_tables(fmt, N, K))
    B = logp.shape[0]
    zero = torch.full((B, 1, 10), NEG, dtype=logp.dtype, device=logp.device)
    zero[..., 0] = 0.0                                                # the virtual slot is surely 0
    digits = torch.cat([logp[..., :10], zero], 1)                     # (B, T + 1, 10)
    digit_logp = digits[:, digit_slot]                                # (B, R, K, W, 10)
    R, T = special.shape
    picked = torch.gather(logp[:, None].expand(B, R, T, logp.shape[-1]), -1,
                          special.clamp(min=0)[None, :, :, None].expand(B, R, T, 1))[..., 0]
    structure = torch.where(special >= 0, picked, 0.0).sum(-1)        # (B, R)
    return digit_logp, structure


def loglik(logp: torch.Tensor, layout: Layout, total: torch.Tensor) -> torch.Tensor:
    """Exact log P(the slots show a valid example whose operands add up to total): (B,).

    total: int64 (B,) or, for numbers past int64 (the `fixed` format), little-endian digits (B, D).
    """
    if total.dim() == 1:
        total = to_digits(total, layout.width + 1)
    digit_logp, structure = reading_scores(logp, layout.format, layout.digits, layout.operands)
    return torch.logsumexp(structure + sum_loglik(digit_logp, total[:, None]), -1)


def loglik_each(logp: torch.Tensor, layout: Layout, numbers: torch.Tensor) -> torch.Tensor:
    """Exact log P(every group shows its own operand), for `operands` with running supervision.

    Knowing all running totals is knowing every operand, and the groups are independent, so the
    joint log-likelihood is the sum over groups of one-operand readings. (B, T, 12) -> (B,).
    """
    N = layout.digits
    total = torch.zeros(logp.shape[0], dtype=logp.dtype, device=logp.device)
    for k in range(layout.operands):
        digit_logp, structure = reading_scores(logp[:, k * N:(k + 1) * N], "operands", N, 1)
        target = to_digits(numbers[:, k, None], N + 1)
        total = total + torch.logsumexp(structure + sum_loglik(digit_logp, target), -1)
    return total


def decode_digits(logp: torch.Tensor, layout: Layout) -> torch.Tensor:
    """The prediction rule: the most probable valid reading and its digits.

    Given a reading, digits are independent, so its best digits are the per-slot argmax over 0-9;
    the reading whose structure and best digits are jointly most probable wins. (B, T, 12) ->
    little-endian operand digits (B, K, W), 0 past each operand's length.
    """
    digit_logp, structure = reading_scores(logp, layout.format, layout.digits, layout.operands)
    best, digit = digit_logp.max(-1)                                  # (B, R, K, W)
    r = (structure + best.sum((-1, -2))).argmax(-1)                   # (B,)
    return digit[torch.arange(len(r), device=r.device), r]


def decode(logp: torch.Tensor, layout: Layout) -> torch.Tensor:
    """`decode_digits`, then the operands as integers (B, K) int64 (up to 18 digits)."""
    digit = decode_digits(logp, layout)
    return (digit.long() * powers(digit.shape[-1], digit.device)).sum(-1)
