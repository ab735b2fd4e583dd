"""Exact integer arithmetic on little-endian digit columns, and the conversions between operands,
reported totals, their digits and the 2017 answer strings. No model and no probabilities here.
"""

from __future__ import annotations

import torch

from neuralab.calc.layout import SYMBOLS, Layout


def powers(width: int, device: torch.device) -> torch.Tensor:
    return torch.tensor([10**i for i in range(width)], dtype=torch.long, device=device)    # (width,)


def to_digits(values: torch.Tensor, width: int) -> torch.Tensor:
    """Non-negative int64 values (...) -> little-endian digits (..., width); the value must fit."""
    return values[..., None] // powers(width, values.device) % 10


def add_digits(digits: torch.Tensor) -> torch.Tensor:
    """Exact column addition: little-endian operand digits (..., K, W) -> the sum's digits (..., W + 1).

    Works for any number of columns (no int64 overflow): the carry of K <= 9 operands is one digit,
    0..K-1. The carry chain is a scan: each column is a map from the carry coming in to the carry
    going out, and log2(W) rounds of composition give every column's carry at once.
    """
    column = digits.sum(-2)                                           # (..., W), each <= 9K
    carry_in = torch.arange(digits.shape[-2], device=digits.device)    # (K,): the carries a column can get
    out = (column[..., None] + carry_in) // 10                        # (..., W, K): column i's carry out, for each in
    span = 1
    while span < column.shape[-1]:       # at the end out[..., i, c]: carry out of column i when c enters column 0
        out = torch.cat([out[..., :span, :], out[..., span:, :].gather(-1, out[..., :-span, :])], -2)
        span *= 2
    carry = torch.cat([column.new_zeros(*column.shape[:-1], 1), out[..., 0]], -1)   # (..., W + 1): into each column, then out
    return torch.cat([(column + carry[..., :-1]) % 10, carry[..., -1:]], -1)


def reported_totals(numbers: torch.Tensor, layout: Layout) -> torch.Tensor:
    """(B, K) operands -> (B, totals): every running total in `operands`, else the final sum."""
    running = numbers.cumsum(-1)
    return running if layout.format == "operands" else running[:, -1:]


def reported_digits(operands: torch.Tensor, layout: Layout) -> torch.Tensor:
    """Little-endian operand digits (B, K, N) -> digits (B, totals, N + 1) of the reported totals,
    by exact column addition (any N)."""
    if layout.format == "operands":
        return torch.stack([add_digits(operands[:, :k + 1]) for k in range(layout.operands)], 1)
    return add_digits(operands)[:, None]


def answer_digits(target: torch.Tensor, layout: Layout) -> torch.Tensor:
    """`Examples.targets` -> the little-endian digits (B, totals, width) of every reported total."""
    if layout.format == "fixed":
        return target[:, None, :layout.width]
    return to_digits(reported_totals(target, layout), layout.width)


def digits_to_chars(digits: torch.Tensor) -> torch.Tensor:
    """Little-endian digits (..., W) -> the number's decimal string as symbol indices (..., W),
    left-aligned and blank-padded as the 2017 targets were (no leading zeros; 0 is "0")."""
    W = digits.shape[-1]
    position = torch.arange(W, device=digits.device)
    nonzero = digits != 0
    length = torch.where(nonzero.any(-1), W - nonzero.flip(-1).int().argmax(-1), 1)   # (...)
    chars = digits.gather(-1, (length[..., None] - 1 - position).clamp(min=0))
    return torch.where(position < length[..., None], chars, SYMBOLS.index(" "))


def chars_to_totals(chars: torch.Tensor) -> torch.Tensor:
    """Character indices (..., width) -> integers (...); -1 where the string is not digits then blanks."""
    out = []
    for row in chars.reshape(-1, chars.shape[-1]).tolist():
        s = "".join(SYMBOLS[c] for c in row).rstrip(" ")
        out.append(int(s) if s.isdigit() else -1)
    return torch.tensor(out, dtype=torch.long).view(chars.shape[:-1])
