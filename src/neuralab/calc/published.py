"""Published MNIST-addition figures that calc is measured against, each with its source."""

# best published exact-sum test accuracy (mean over runs, %), per N; None where the paper reports a timeout
PUBLISHED = {
    "DeepStochLog": {1: 97.9, 2: 96.4, 4: 92.7, 15: None},
    "A-NeSI": {1: 97.66, 2: 95.96, 4: 92.56, 15: 76.84},
    "DeepSoftLog": {4: 93.5, 15: 77.1},
    "PLIA": {4: 91.84, 15: 79.00},
    "Scallop": {4: 90.88, 15: None},
    "DeepProofLog": {15: 80.8, 100: 37.8, 200: 23.2, 500: 6.0},
}
# Where each row comes from: (authors, paper, venue, year, table). Each paper's MNIST-addition table
# holds the figures above; a table number is given where it was checked against the paper, and
# "table not re-checked" where it could not be (this machine has no network to fetch the papers).
CITATIONS = {
    "DeepStochLog": ("Winters, Marra, Manhaeve, De Raedt", "DeepStochLog: Neural Stochastic Logic Programming",
                     "AAAI", 2022, "MNIST-addition table, table not re-checked"),
    "A-NeSI": ("van Krieken, Thanapalasingam, Tomczak, van Harmelen, ten Teije",
               "A-NeSI: A Scalable Approximate Method for Probabilistic Neurosymbolic Inference", "NeurIPS", 2023,
               "MNIST-addition table, table not re-checked"),
    "DeepSoftLog": ("Maene, De Raedt", "Soft-Unification in Deep Probabilistic Logic", "NeurIPS", 2023,
                    "MNIST-addition table, table not re-checked"),
    "PLIA": ("De Smet, Zuidberg Dos Martires",
             "A Fast Convoluted Story: Scaling Probabilistic Inference for Integer Arithmetic", "NeurIPS", 2024,
             "MNIST-addition table, table not re-checked"),
    "Scallop": ("Li, Huang, Naik", "Scallop: A Language for Neurosymbolic Programming", "PLDI", 2023,
                "MNIST-addition table, table not re-checked"),
    "DeepProofLog": ("DeepProofLog authors", "DeepProofLog", "AAAI", 2026, "Table 1"),
}


def cite(name: str) -> str:
    authors, paper, venue, year, table = CITATIONS[name]
    return f'{name}: {authors}, "{paper}", {venue} {year}, {table}'
