"""Filters (assignment 1.4/1.5): a fixed-weight CNN that applies sepia, then a 5x5 Gaussian blur."""

from neuralab.filters.model import FilterConfig, SepiaBlurNet

__all__ = ["FilterConfig", "SepiaBlurNet"]
