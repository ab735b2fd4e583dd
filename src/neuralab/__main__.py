"""Allows `python -m neuralab`, which torchrun also uses."""

from neuralab.cli import main

main()
