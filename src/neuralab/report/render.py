"""Turn the parts' Markdown into one self-contained HTML page.

Math (`$...$`, `$$...$$`) becomes MathML, which browsers render natively, so the page needs no
script and no network. Every image the Markdown links to (PNG, SVG, GIF) is inlined as a data URI.
"""

from __future__ import annotations

import base64
import html
import mimetypes
import re
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]+)(")')
_LONE_IMG = re.compile(r'<p>(<img\b[^>]*?\balt="([^"]*)"[^>]*>)</p>')   # a paragraph that is one image


def _math(latex: str, display: bool) -> str:
    # latex2mathml lays out align* as a table but not aligned: the two mean the same here
    latex = latex.replace("{aligned}", "{align*}")
    try:
        return latex_to_mathml(latex, display="block" if display else "inline")
    except Exception:  # an expression MathML cannot hold is shown as its LaTeX source
        return f'<code class="math">{html.escape(latex)}</code>'


def markdown_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).enable("table").use(dollarmath_plugin, double_inline=True)
    md.add_render_rule("math_inline", lambda self, tokens, idx, options, env: _math(tokens[idx].content, False))
    md.add_render_rule("math_inline_double", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True))
    md.add_render_rule("math_block", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True))
    md.add_render_rule("math_block_label", lambda self, tokens, idx, options, env: _math(tokens[idx].content, True))
    return md


def data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def inline_images(page: str, base_dir: Path) -> str:
    """Replace every relative <img src> with the file's bytes as a data URI."""
    def swap(match: re.Match) -> str:
        src = html.unescape(match.group(2))
        if src.startswith(("data:", "http:", "https:")):
            return match.group(0)
        path = (base_dir / src).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"report image {src} was not written")
        return match.group(1) + data_uri(path) + match.group(3)

    return _IMG_SRC.sub(swap, page)


def figures_with_captions(page: str) -> str:
    """Each image that stands alone in its paragraph becomes a figure captioned with its alt text."""
    return _LONE_IMG.sub(lambda m: f"<figure>{m.group(1)}<figcaption>{m.group(2)}</figcaption></figure>", page)


def html_environment() -> Environment:
    md = markdown_renderer()
    env = Environment(loader=PackageLoader("neuralab.report", "templates"), autoescape=select_autoescape(),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["markdown"] = lambda text: figures_with_captions(md.render(text))
    env.filters["markdown_inline"] = md.renderInline
    return env


def render_html(context: dict, base_dir: Path) -> str:
    page = html_environment().get_template("report.html.j2").render(**context)
    return inline_images(page, base_dir)


def render_section_html(section, base_dir: Path) -> str:
    """One section as the page shows it (a notebook cell's output), its images inlined."""
    return inline_images(html_environment().get_template("section.html.j2").render(s=section), base_dir)


def render_markdown(context: dict) -> str:
    env = Environment(loader=PackageLoader("neuralab.report", "templates"), autoescape=False,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.md.j2").render(**context)
