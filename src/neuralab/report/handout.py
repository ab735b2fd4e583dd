"""Teachers' handouts: documents written as Markdown, as one self-contained HTML page each, and as PDF.

The page is rendered like the report (MathML, images inlined, the report's style) and printed by the
report's PDF route, one browser for all the documents. Without a browser the Markdown and HTML stand
and the reason comes back in one line.
"""

from __future__ import annotations

from pathlib import Path

from neuralab.core.io import atomic_path
from neuralab.report.pdf import write_pdfs
from neuralab.report.render import html_environment, inline_images


def write_handouts(out: Path, documents: dict[str, tuple[str, str]], meta: str, pdf: bool = True) -> str | None:
    """Write out/<stem>.md, .html (and .pdf) for each stem -> (title, Markdown body). Images the Markdown
    links to are read relative to `out`. Returns None, or why no PDF was written."""
    template = html_environment().get_template("handout.html.j2")
    for stem, (title, body) in documents.items():
        with atomic_path(out / f"{stem}.md") as tmp:
            tmp.write_text(f"# {title}\n\n{meta}\n\n{body}")
        with atomic_path(out / f"{stem}.html") as tmp:
            tmp.write_text(inline_images(template.render(title=title, meta=meta, body=body), out))
    if not pdf:
        return None
    return write_pdfs([(out / f"{stem}.html", out / f"{stem}.pdf") for stem in documents], outline=False)
