"""The depth study (assignment question 1.3): why the Keras MLP collapses with depth, and fixes.

- `model`: the Keras-faithful MLP and the table of named variants (`VARIANTS`).
- `diagnostics`: per-epoch gradient norms, saturated sigmoid and dead ReLU fractions.
- `experiment`: one run's config and training, and a grid of runs with its summary table.
- `plan`: the `quick` and `full` profiles as grids of runs.
- `figures`, `section`: the report's plots and answer.
"""
