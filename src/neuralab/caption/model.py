"""The captioner's two encoders, by name, and building the one a config names.

- `attention` (the default): a learned encoder over the whole RGB frame (`attention`).
- `planes`: the first design, a front end fixed by hand for the clips' palette (`planes`).
Both share the LSTM stack, teacher forcing and decoding (`decoder`).
"""

from __future__ import annotations

from neuralab.caption.attention import AttentionCaptioner
from neuralab.caption.decoder import Captioner
from neuralab.caption.planes import PlanesCaptioner

ENCODERS = ("attention", "planes")


def build_model(config) -> Captioner:
    """The captioner a `CaptionConfig` describes."""
    shared = dict(features=config.features, embed=config.embed, hidden=config.hidden, layers=config.layers,
                  dropout=config.dropout, reader=config.reader)
    if config.encoder == "planes":
        return PlanesCaptioner(**shared)
    return AttentionCaptioner(**shared, frames=config.frames)
