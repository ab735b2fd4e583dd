"""The compute-graph picture: one box per node with its forward value and gradient, drawn with matplotlib.

Columns follow the data flow (inputs on the left, the loss on the right); each leaf sits just left
of the node that uses it. No graphviz binary is needed. Written as PNG and SVG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from neuralab.backprop.engine import Value
from neuralab.backprop.symbolic import name_text, num_text
from neuralab.core.io import save_figure

_COLORS = {"param": "#fde2c4", "input": "#d6e6fa", "const": "#eeeeee", "op": "#ffffff", "loss": "#f8d0d0"}
_DX, _DY = 2.5, 1.5  # column and row spacing in data units; a box is about 2.1 x 1.1


def layout(visit: list[Value]) -> dict[int, tuple[int, float]]:
    """(column, row) of every node, by id(node); a row may be a half."""
    # a tree layout: every node is drawn beside its first parent; each node gets a band of rows as
    # tall as the leaves below it, and its children share the band in order, so no wires cross
    owner: dict[int, Value] = {}
    for node in visit:  # parents before children
        for child in node.children:
            owner.setdefault(id(child), node)
    col: dict[int, int] = {}
    for node in reversed(visit):  # children before parents
        col[id(node)] = 1 + max((col[id(c)] for c in node.children), default=-1)
    for node in visit:  # a leaf goes one column left of the node that first uses it
        if not node.children and node is not visit[0]:
            col[id(node)] = col[id(owner[id(node)])] - 1
    kids = {id(n): list({id(c): c for c in n.children if owner[id(c)] is n}.values()) for n in visit}
    size: dict[int, int] = {}
    for node in reversed(visit):  # children before parents
        size[id(node)] = max(1, sum(size[id(k)] for k in kids[id(node)]))
    top = {id(visit[0]): 0}
    for node in visit:  # parents before children: each hands out its band
        row = top[id(node)]
        for kid in kids[id(node)]:
            top[id(kid)] = row
            row += size[id(kid)]
    row_of: dict[int, float] = {}
    for node in reversed(visit):  # a node sits level with the middle of its computed inputs: the data flows straight
        inner = [row_of[id(k)] for k in kids[id(node)] if k.children]
        row_of[id(node)] = (inner[0] + inner[-1]) / 2 if inner else top[id(node)] + (size[id(node)] - 1) / 2
    return {k: (col[k], row) for k, row in row_of.items()}


def _kind(node: Value, root: Value, params: set[str]) -> str:
    if node is root:
        return "loss"
    if node.children:
        return "op"
    if node.label in params:
        return "param"
    return "input" if node.label else "const"


def _box_text(node: Value) -> str:
    name = name_text(node.label) if node.label else num_text(node.data)   # Unicode, not mathtext: 2x faster
    head = f"{name}   [{node.op}]" if node.op else name
    return f"{head}\nvalue {num_text(node.data)}\ngrad {num_text(node.grad)}"


def _half_sizes(fig: Figure, ax, boxes: dict) -> dict[int, np.ndarray]:
    """Each box's half width and height in data units, from its text's laid-out extent plus the pad."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # only when drawing: -0.2 s on every command's start

    renderer = FigureCanvasAgg(fig).get_renderer()
    to_data = ax.transData.inverted()
    pad = 0.4 * 10 * fig.dpi / 72 + 1   # boxstyle pad (in font sizes) and the edge line, in pixels
    half = {}
    for key, text in boxes.items():
        extent = text.get_window_extent(renderer)
        corners = to_data.transform([[extent.x0 - pad, extent.y0 - pad], [extent.x1 + pad, extent.y1 + pad]])
        half[key] = np.abs(corners[1] - corners[0]) / 2
    return half


def _edge_point(center: np.ndarray, toward: np.ndarray, half: np.ndarray) -> np.ndarray:
    """Where the line from a box's center toward `toward` leaves the box: arrows touch the boxes' edges
    (computed here once; matplotlib's clipping to a patch costs half of the drawing)."""
    d = toward - center
    scale = min(half[0] / abs(d[0]) if d[0] else np.inf, half[1] / abs(d[1]) if d[1] else np.inf)
    return center + d * min(scale, 1.0)


def draw(visit: list[Value], params: set[str], title: str, stem: Path,
         suffixes: tuple[str, ...] = (".png", ".svg")) -> list[Path]:
    """Draw the graph whose nodes `visit` lists (after backward()); write stem.png and stem.svg."""
    pos = layout(visit)
    n_cols = 1 + max(c for c, _ in pos.values())
    n_rows = 1 + max(r for _, r in pos.values())  # rows are floats: the span of the packed columns
    fig = Figure(figsize=(1.0 + 1.9 * n_cols, 1.0 + 1.2 * n_rows))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - 0.4 / (1.0 + 1.2 * n_rows)))  # fixed layout: no tight-bbox redraw
    ax.set_axis_off()
    ax.set_xlim(-_DX / 2, (n_cols - 0.5) * _DX)
    ax.set_ylim(-(n_rows - 0.5) * _DY, _DY / 2)
    ax.set_title(title, fontsize=10)
    boxes = {}
    for node in visit:
        c, r = pos[id(node)]
        boxes[id(node)] = ax.text(c * _DX, -r * _DY, _box_text(node), ha="center", va="center", fontsize=10,
                                  bbox=dict(boxstyle="round,pad=0.4", fc=_COLORS[_kind(node, visit[0], params)],
                                            ec="#555555"))
    half = _half_sizes(fig, ax, boxes)
    for node in visit:
        for child in node.children:
            (c0, r0), (c1, r1) = pos[id(child)], pos[id(node)]
            start, end = np.array([c0 * _DX, -r0 * _DY]), np.array([c1 * _DX, -r1 * _DY])
            ax.annotate("", xy=_edge_point(end, start, half[id(node)]), xytext=_edge_point(start, end, half[id(child)]),
                        arrowprops=dict(arrowstyle="-|>", color="#555555", lw=0.8, shrinkA=0, shrinkB=1))
    paths = []
    for suffix in suffixes:
        paths.append(save_figure(fig, stem.with_suffix(suffix), dpi=150))
    return paths
