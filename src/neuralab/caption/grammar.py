"""The caption grammar: how a clip's content becomes a sentence, and how a sentence is parsed back.

    CAPTION  -> ONE | TWO
    ONE      -> "the" ACTOR                       5 words: "the red three moves left"
    TWO      -> ACTOR "and" ACTOR                 9 words: "red three moves left and blue seven bounces vertically"
    ACTOR    -> COLOUR DIGIT MOTION
    COLOUR   -> red | green | blue | yellow | magenta | cyan
    DIGIT    -> zero | one | ... | nine
    MOTION   -> "moves" (up | down | left | right) | "bounces" (vertically | horizontally)

Every sentence therefore has 5 or 9 words. In a two-digit clip the actors are named in the order
of COLOUR above (red before green before blue ...); the two digits of a clip always have different
colours, so the order is never ambiguous and a caption is exact. Ordering by colour rather than by
digit value lets a captioner decide what to say first from the colours alone, which its colour planes
give without error, instead of from comparing two digit readings.

The vocabulary has 26 words (2 function words, 6 colours, 10 digits, 2 verbs, 6 directions) and
the model adds 3 tokens: <pad>, <bos> and <eos>, 29 in all.
"""

from __future__ import annotations

from dataclasses import dataclass

COLOURS = ("red", "green", "blue", "yellow", "magenta", "cyan")
COLOUR_RGB = {"red": (255, 40, 40), "green": (40, 255, 40), "blue": (60, 100, 255),
              "yellow": (255, 255, 40), "magenta": (255, 40, 255), "cyan": (40, 255, 255)}
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
MOTIONS = ("moves up", "moves down", "moves left", "moves right",
           "bounces vertically", "bounces horizontally")

SPECIALS = ("<pad>", "<bos>", "<eos>")
WORDS = ("the", "and", *COLOURS, *DIGITS, "moves", "bounces",
         "up", "down", "left", "right", "vertically", "horizontally")
VOCAB = SPECIALS + WORDS
PAD, BOS, EOS = 0, 1, 2
INDEX = {w: i for i, w in enumerate(VOCAB)}
MAX_WORDS = 9  # the TWO rule; decoding allows one more step for <eos>


@dataclass(frozen=True)
class Actor:
    """One digit of a clip: what it is, its colour and its motion (indices into the tables)."""

    digit: int
    colour: int
    motion: int

    def words(self) -> list[str]:
        return [COLOURS[self.colour], DIGITS[self.digit], *MOTIONS[self.motion].split()]


def ordered(actors) -> list[Actor]:
    """The actors in the order a caption names them: by colour."""
    return sorted(actors, key=lambda a: a.colour)


def caption(actors: list[Actor] | tuple[Actor, ...]) -> str:
    """The one sentence the grammar gives a clip with these actors (1 or 2)."""
    if len(actors) == 1:
        return " ".join(["the", *actors[0].words()])
    if len(actors) == 2:
        a, b = ordered(actors)
        if a.colour == b.colour:
            raise ValueError("the two digits of a clip must have different colours")
        return " ".join([*a.words(), "and", *b.words()])
    raise ValueError(f"a clip holds 1 or 2 digits, got {len(actors)}")


def _parse_actor(words: list[str]) -> Actor:
    if len(words) != 4 or words[0] not in COLOURS or words[1] not in DIGITS:
        raise ValueError(f"not COLOUR DIGIT MOTION: {' '.join(words)!r}")
    motion = " ".join(words[2:])
    if motion not in MOTIONS:
        raise ValueError(f"unknown motion {motion!r}")
    return Actor(DIGITS.index(words[1]), COLOURS.index(words[0]), MOTIONS.index(motion))


def parse(sentence: str) -> list[Actor]:
    """The actors a sentence names; ValueError if it is not in the grammar (order included)."""
    words = sentence.split()
    if len(words) == 5 and words[0] == "the":
        return [_parse_actor(words[1:])]
    if len(words) == 9 and words[4] == "and":
        actors = [_parse_actor(words[:4]), _parse_actor(words[5:])]
        if caption(actors) != sentence:
            raise ValueError(f"actors out of order or same colour: {sentence!r}")
        return actors
    raise ValueError(f"not a 5-word ONE or 9-word TWO sentence: {sentence!r}")


def encode(sentence: str) -> list[int]:
    """Word indices followed by <eos>."""
    return [INDEX[w] for w in sentence.split()] + [EOS]


def decode(tokens: list[int]) -> str:
    """Words up to the first <eos>, skipping <pad>/<bos>."""
    words = []
    for t in tokens:
        if t == EOS:
            break
        if t >= len(SPECIALS):
            words.append(VOCAB[t])
    return " ".join(words)
