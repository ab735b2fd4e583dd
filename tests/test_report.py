"""The report: every section renders (or is marked failed), images are inlined, math is MathML,
and the page loads in headless Chromium with every image decoded."""

import sys
import types
import unicodedata
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from pypdf import PdfReader  # noqa: E402

from neuralab.core.section import Fold, Section  # noqa: E402
from neuralab.report.build import PARTS, RENDER_RESERVE, ReportConfig, build_report  # noqa: E402

from .helpers import CHROMIUM, CHROMIUM_ARGS, run_cli  # noqa: E402


def fake_part(key, number, fail=False):
    """A stand-in part that writes a real figure and answers with Markdown, math and a table."""
    def build(ctx):
        if fail:
            raise RuntimeError(f"{key} broke\non two lines")
        fig, ax = plt.subplots(figsize=(2, 1.5))
        ax.plot([0, 1], [1, 0])
        fig.savefig(ctx.assets_dir / "plot.png")
        fig.savefig(ctx.assets_dir / "plot.svg")
        plt.close(fig)
        rel = ctx.assets_dir.relative_to(ctx.out_dir)
        lead = f"![plot]({rel}/plot.png)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        fold = Fold("More for $w$", f"$$\\frac{{\\partial L}}{{\\partial w}} = 2$$\n\n![plot]({rel}/plot.svg)")
        return Section(key, number, f"Title {key}", lead, question=f"Question of {key}?",
                       answer=f"Answer for {key}: $w_0 = 0.6$.", folds=[fold], published={"accuracy": 0.9},
                       ours={"accuracy": 0.99}, run_dirs=["runs/x"], summary=f"{key} in one line",
                       command=f"neuralab {key}")
    return types.SimpleNamespace(build=build)


@pytest.fixture
def fake_parts(monkeypatch):
    for key, number, _ in PARTS:
        monkeypatch.setitem(sys.modules, f"neuralab.{key}.section", fake_part(key, number, fail=key == "caption"))


def test_every_section_renders_and_a_failure_is_marked(tmp_path, fake_parts):
    report = build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs"))
    sections = report.sections
    assert [s.key for s in sections] == [p for p, _, _ in PARTS]
    failed = [s for s in sections if s.failed]
    assert [s.key for s in failed] == ["caption"] and failed[0].reason == "RuntimeError: caption broke on two lines"
    page = (tmp_path / "r" / "index.html").read_text()
    for key, number, _ in PARTS:
        assert f'<section id="{key}">' in page
    assert 'src="assets/' not in page and page.count('src="data:image/png;base64,') == 4
    assert page.count("data:image/svg+xml;base64,") == 4
    assert "<math" in page and "<mfrac>" in page
    assert "This section failed:</strong> RuntimeError: caption broke on two lines" in page
    assert page.count("<details>") == 4 and "<summary>More for <math" in page   # each built part's fold
    md = (tmp_path / "r" / "index.md").read_text()
    assert "## 1.8 Title calc" in md and "| accuracy | 0.9 | 0.99 |" in md
    assert "> **Question.** Question of calc?" in md and "<details><summary>More for $w$</summary>" in md
    assert report.written[:3] == [tmp_path / "r" / name for name in ("index.html", "index.md", "assignment4.ipynb")]


def test_cli_exits_nonzero_when_a_part_fails(tmp_path, fake_parts):
    result = run_cli(["report", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 1
    assert "1.6 caption" in result.stdout and "FAILED: RuntimeError" in result.stdout


def test_cli_rejects_unknown_part_and_profile(tmp_path):
    result = run_cli(["report", "--parts", "backprop,nope", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "unknown part(s) nope" in result.stderr
    result = run_cli(["report", "--profile", "huge", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "'huge' is not one of 'budget', 'full'" in result.stderr
    for budget, why in (("10x", "expected a duration"), ("30s", "must be between 60 s and 24 h"), ("2d", "expected a duration"),
                        ("25h", "must be between 60 s and 24 h"), ("", "expected a duration")):
        result = run_cli(["report", "--budget", budget, "--out", str(tmp_path)])
        assert result.exit_code == 2 and f"--budget: {why}" in result.stderr, (budget, result.stderr)


@pytest.mark.browser
def test_page_loads_in_chromium_and_prints_to_a_pdf_with_every_fold_open(tmp_path, fake_parts):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does this)"
    report = build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs"))
    assert report.pdf_problem is None and report.written[-1] == tmp_path / "r" / "assignment4.pdf"
    titles = [f"{n} Title {k}" if k != "caption" else f"{n} {t}" for k, n, t in PARTS]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        page.goto((tmp_path / "r" / "index.html").as_uri())
        assert page.locator("section h2").all_inner_texts() == titles
        assert page.locator("details[open]").count() == 0 and page.locator("details").count() == 4
        folded = page.evaluate("document.body.scrollHeight")
        page.eval_on_selector_all("details", "ds => ds.forEach(d => d.open = true)")
        assert page.evaluate("document.body.scrollHeight") > folded      # the folds hold something
        assert page.locator("figure figcaption").all_inner_texts() == ["plot"] * 8
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) == 8 and all(w > 0 for w in widths)
        browser.close()
    pdf = PdfReader(tmp_path / "r" / "assignment4.pdf")
    printed = [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in pdf.pages]  # "ﬁ" -> "fi"
    for title in titles:   # each section starts its own page, heading first
        assert any(text.startswith(title) for text in printed), title
    text = " ".join(printed)
    assert "Summary" in printed[0] and "Reproduce this section" in text
    assert text.count("Question of") == 4 and text.count("More for") == 4      # the folds print open
    assert sum(len(page.images) for page in pdf.pages) == 4                   # each lead's PNG, embedded
    assert 5 <= len(pdf.pages) <= 12


def test_without_a_browser_the_page_and_notebook_are_written_and_the_cli_says_why(tmp_path, fake_parts, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))      # no chromium on the PATH
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(tmp_path / "none"))   # and no browser of Playwright's own
    result = run_cli(["report", "--out", str(tmp_path / "r"), "--runs", str(tmp_path / "runs")])
    assert result.exit_code == 1   # the caption part fails in fake_parts; the PDF alone would not fail the report
    assert "assignment4.ipynb" in result.stdout and (tmp_path / "r" / "assignment4.ipynb").is_file()
    lines = [line for line in result.stdout.splitlines() if line.startswith("no PDF")]
    assert len(lines) == 1 and "Executable doesn't exist" in lines[0], result.stdout
    assert not (tmp_path / "r" / "assignment4.pdf").exists()


def visible_text(page: str) -> str:
    """The text a reader sees: every text node outside <style> and <script>, whitespace-collapsed."""
    from html.parser import HTMLParser

    class Text(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts, self.hidden = [], 0

        def handle_starttag(self, tag, attrs):
            self.hidden += tag in ("style", "script")

        def handle_endtag(self, tag):
            self.hidden -= tag in ("style", "script")

        def handle_data(self, data):
            if not self.hidden:
                self.parts.append(data)

    parser = Text()
    parser.feed(page)
    return " ".join("".join(parser.parts).split())


def test_every_word_of_the_markdown_is_visible_in_the_page(tmp_path, monkeypatch):
    prose = ("Captions are padded with <pad>, start at <bos> and end at <eos>; a < b > c & d, "
             "and a tag such as <script>alert(1)</script> is text too.")

    def build(ctx):
        return Section("calc", "1.8", "Prose", f"{prose}\n\n- a list with <em>raw</em> tags\n")
    monkeypatch.setitem(sys.modules, "neuralab.calc.section", types.SimpleNamespace(build=build))
    build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs", parts=("calc",)))
    seen = visible_text((tmp_path / "r" / "index.html").read_text())
    md = (tmp_path / "r" / "index.md").read_text()
    words = [w.replace("`", "").replace("*", "").strip("-|#") for line in md.splitlines()
             if not line.startswith(("|", "![")) for w in line.split()]
    missing = [w for w in words if w and w not in seen]
    assert not missing, missing
    assert "<pad>" in seen and "<script>alert(1)</script>" in seen


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """Every real part, sized down to seconds (the notebook's smoke scale), within a one-minute budget, on
    a made-up MNIST that both this process and a notebook's kernel read from `$NEURALAB_MNIST`."""
    import numpy as np

    from neuralab.report.notebook import smoke
    from tests.test_caption import fake_mnist

    root = tmp_path_factory.mktemp("tiny")
    data = fake_mnist()
    np.savez(root / "mnist.npz", x_train=data.x_train, y_train=data.y_train, x_test=data.x_test, y_test=data.y_test)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEURALAB_MNIST", str(root / "mnist.npz"))
        smoke(patch.setitem, patch.setattr)
        report = build_report(ReportConfig(out_dir=root / "r", runs_root=root / "runs", budget=60))
    return root, report


def test_the_real_parts_render_from_tiny_runs_within_a_tiny_budget(tiny_report):
    """Every real part, sized down to seconds, trains to its share of a one-minute budget and answers first."""
    import json

    root, report = tiny_report
    sections = report.sections
    assert [s.reason for s in sections if s.failed] == []
    record = json.loads((root / "r" / "report.json").read_text())
    assert sum(p["share"] for p in record["parts"].values()) <= 60 * (1 - RENDER_RESERVE) + 1e-9
    assert record["machine"]["cores"] and record["commit"] is not None
    page = visible_text((root / "r" / "index.html").read_text())
    md = (root / "r" / "index.md").read_text()
    for s in sections:
        assert s.summary and f"{s.number} {s.title}: {s.summary}" in md
        assert f"Reproduce this section: {s.command}" in page
        assert s.question and s.answer and s.lead and s.folds   # every part answers first, the rest folded
    assert "neuralab caption train --profile budget --max-seconds" in page
    assert "The project's reference results" in page   # quoted from the shipped files, from any folder
    assert "reference checkpoint, scored in this run" in page   # 1.6's headline: the learned encoder


def test_1_1_and_1_4_link_to_a_sample_sheet_and_key_written_beside_the_page(tiny_report):
    import re

    root, _ = tiny_report
    html = (root / "r" / "index.html").read_text()
    for folder in ("exercises/backprop", "exercises/filters"):
        for stem in ("sheet", "key"):
            assert f'href="{folder}/{stem}.html"' in html
            assert "Exercise 3" in (root / "r" / folder / f"{stem}.html").read_text()
    links = re.findall(r'href="(exercises/[^"]+)"', html)
    assert len(links) == 4 and all((root / "r" / link).is_file() for link in links)


SCREEN = 1000   # px: a 1280×1000 screen


@pytest.mark.browser
def test_each_question_is_answered_on_its_first_screen_and_the_page_is_short(tiny_report):
    """Measured in Chromium at 1280 px wide with the folds closed: the whole page at most 12 screens, each
    section's main flow at most 3, and each section opens with the question, then the answer."""
    from playwright.sync_api import sync_playwright

    root, report = tiny_report
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": SCREEN})
        page.goto((root / "r" / "index.html").as_uri())
        heights = page.eval_on_selector_all("section", "ss => ss.map(s => [s.id, s.getBoundingClientRect().height])")
        openers = page.eval_on_selector_all("section", "ss => ss.map(s => [...s.children].slice(0, 3).map(c => c.className || c.tagName))")
        answers_at = page.eval_on_selector_all("section .answer", "as => as.map(a => a.getBoundingClientRect().bottom - a.closest('section').getBoundingClientRect().top)")
        total = page.evaluate("document.documentElement.scrollHeight")
        browser.close()
    assert total <= 12 * SCREEN, total
    assert all(height <= 3 * SCREEN for _, height in heights), heights
    assert openers == [["H2", "question", "answer"]] * len(report.sections), openers
    assert all(bottom <= SCREEN for bottom in answers_at), answers_at


def test_the_pdf_holds_every_question_its_figures_and_folds(tiny_report):
    root, report = tiny_report
    assert report.pdf_problem is None, report.pdf_problem
    pdf = PdfReader(root / "r" / "assignment4.pdf")
    text = " ".join(" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in pdf.pages)
    for s in report.sections:
        assert f"{s.number} {s.title}" in text and s.folds[-1].title.split(":")[0] in text
    assert text.count("Question.") == len(report.sections)
    assert sum(len(page.images) for page in pdf.pages) >= 10   # the figures, embedded
    assert 10 <= len(pdf.pages) <= 80, len(pdf.pages)


def test_the_notebook_runs_top_to_bottom_at_smoke_scale(tiny_report, monkeypatch):
    """The notebook the report wrote, executed by a fresh kernel (nbclient, ipykernel) at smoke scale:
    every cell runs, and every question's cell shows its answer."""
    import nbformat
    from nbclient import NotebookClient

    root, report = tiny_report
    notebook = nbformat.read(root / "r" / "assignment4.ipynb", as_version=4)
    questions = [c.source for c in notebook.cells if c.cell_type == "markdown" and c.source.startswith("## ")]
    assert [q.split("\n")[0] for q in questions] == [f"## {s.number} {s.title}" for s in report.sections]
    already = [c for c in notebook.cells if c.cell_type == "code" and c.outputs]
    assert len(already) == len(report.sections)   # this run's answers are in place before it is run
    (parameters,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert 'SCALE = "budget"' in parameters.source and "BUDGET = 60 " in parameters.source   # the report's own budget
    parameters.source = f'SCALE = "smoke"\nBUDGET = 60\nRUNS = "{root / "runs"}"\nOUT = "{root / "nb"}"'
    monkeypatch.setenv("NEURALAB_MNIST", str(root / "mnist.npz"))
    NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(root)}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code)
    shown = [c.outputs[0]["data"]["text/html"] for c in code if c.outputs]
    assert len(shown) == len(report.sections)
    for html, s in zip(shown, report.sections):
        assert f"{s.number} {s.title}</h2>" in html and "Question.</strong>" in html and "Answer.</strong>" in html
        assert "This section failed" not in html
