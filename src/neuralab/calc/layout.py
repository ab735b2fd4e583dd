"""How a calculator example is laid out in image slots, and the 12 symbols a slot can show.

Formats (N = `digits`, K = `operands`):
- `expression`: the 2017 layout, K*N + K-1 slots: the digits of each operand with '+' between them,
  then blanks.
- `operands`: K groups of N slots; each number is written left-aligned in its group, then blanks.
- `fixed`: the MNIST-addition protocol: two numbers of exactly N digits (leading zeros allowed).
"""

from __future__ import annotations

from dataclasses import dataclass

from neuralab.core.errors import UserError

SYMBOLS = "0123456789+ "     # the model's 12 symbols; index 10 is '+', 11 is blank
PLUS, BLANK = 10, 11
FORMATS = ("expression", "operands", "fixed")
SPECIALS = ("noise", "glyph")
MAX_DIGITS = 15              # operands and totals are int64: 3 * 10**15 is far below 2**63
MAX_FIXED_DIGITS = 1000      # `fixed` sums are handled as digit columns, so int64 does not bound them
MAX_READINGS = 4096         # operand-length tuples N**K the likelihood sums over (arith.reading_tables)

MAX_EXAMPLES = 1_000_000     # sums in one set (an epoch, validation or test): 10x the largest protocol
MAX_SLOTS = 20_000_000       # image slots in one set: two int64 tables of 160 MB each

@dataclass(frozen=True)
class Layout:
    """How the numbers of one example are laid out in image slots."""

    format: str = "expression"
    digits: int = 5
    operands: int = 2
    specials: str = "noise"

    def __post_init__(self):
        if self.format not in FORMATS:
            raise UserError(f"--format: unknown format {self.format!r} (choose from {', '.join(FORMATS)})")
        if self.specials not in SPECIALS:
            raise UserError(f"--specials: unknown {self.specials!r} (choose from {', '.join(SPECIALS)})")
        most = MAX_FIXED_DIGITS if self.format == "fixed" else MAX_DIGITS
        if not 1 <= self.digits <= most:
            raise UserError(f"--digits: {self.digits} is outside 1..{most} for the {self.format} format")
        if not 2 <= self.operands <= 9:
            raise UserError(f"--operands: {self.operands} is outside 2..9")
        if self.format == "fixed" and self.operands != 2:
            raise UserError("--operands: the fixed format adds exactly 2 numbers")
        if self.format != "fixed" and self.digits**self.operands > MAX_READINGS:
            raise UserError(f"--digits {self.digits} with --operands {self.operands}: {self.digits}**{self.operands} "
                            f"possible operand lengths is more than the {MAX_READINGS} the exact sum enumerates")

    @property
    def slots(self) -> int:
        N, K = self.digits, self.operands
        return {"expression": K * N + K - 1, "operands": K * N, "fixed": K * N}[self.format]

    @property
    def width(self) -> int:
        """Characters of the largest total, e.g. 6 for two 5-digit numbers."""
        return len(str(self.operands * (10**self.digits - 1)))

    @property
    def totals(self) -> int:
        """How many totals an example reports: every running total in `operands`, else the sum."""
        return self.operands if self.format == "operands" else 1

    def check_set(self, count, flag: str) -> None:
        """Refuse, naming `flag`, a set of examples of this layout too large to hold in memory."""
        if not isinstance(count, int) or not 1 <= count <= MAX_EXAMPLES:
            raise UserError(f"{flag}: must be 1..{MAX_EXAMPLES:,} examples, got {count}")
        if count * self.slots > MAX_SLOTS:
            raise UserError(f"{flag}: {count:,} examples of {self.slots} images each is more than the "
                            f"{MAX_SLOTS:,} images one set may hold")
