"""neuralab: a classic neural-network assignment as tested, reproducible software."""

__version__ = "0.1.0"
