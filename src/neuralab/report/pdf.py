"""The report's PDF: the page printed by headless Chromium through Playwright, with every fold open.

Chromium lays out the page's MathML itself, so the printed math is the math on screen. The PDF comes
after the page and the notebook: when Chromium or Playwright is missing, or printing fails,
`write_pdf` gives the reason in one line and the other files stand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from neuralab.core.io import atomic_write_bytes

# headless, and no background connections: the page is one self-contained file
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BROWSERS = ("chromium", "chromium-browser", "google-chrome")   # a system browser first; else Playwright's own
LOAD_MS = 60_000   # the page inlines every figure: tens of MB load in a few seconds


def find_chromium() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def write_pdf(page: Path, pdf: Path) -> str | None:
    """Print the HTML file `page` to `pdf` (A4, folds open, written atomically). Returns None when the
    PDF is written, else why it is not, in one line."""
    return write_pdfs([(page, pdf)])


def write_pdfs(pages: list[tuple[Path, Path]], outline: bool = True) -> str | None:
    """write_pdf for several (page, pdf) pairs, with one browser. Without `outline` the PDF has no
    bookmarks and no tags: 5 times faster to print and far smaller, for a handout."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "Playwright is not installed (pip install playwright; make run installs it)"
    printed = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
            try:
                for page, pdf in pages:
                    tab = browser.new_page()
                    tab.emulate_media(media="print")   # before loading: the page is laid out once, for print (-1.5 s on a long key)
                    tab.goto(page.resolve().as_uri(), wait_until="load", timeout=LOAD_MS)
                    tab.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                    printed.append((pdf, tab.pdf(format="A4", print_background=True, outline=outline, tagged=outline)))
                    tab.close()
            finally:
                browser.close()
    except Exception as error:  # a missing browser or a failed print must not sink the report
        reason = " ".join(str(error).split()).split(" Call log:")[0] or type(error).__name__
        return f"{type(error).__name__}: {reason[:300]}"
    for pdf, data in printed:
        atomic_write_bytes(pdf, data)
    return None
