"""calc: the MNIST calculator: handwritten numbers in, their running sum out, learned from sums alone."""
