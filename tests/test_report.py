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

from neuralab.core.section import Section  # noqa: E402
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
        md = (f"Answer for {key}: $w_0 = 0.6$ and\n\n$$\\frac{{\\partial L}}{{\\partial w}} = 2$$\n\n"
              f"![plot]({rel}/plot.png)\n\n![plot]({rel}/plot.svg)\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
        return Section(key, number, f"Title {key}", md, published={"accuracy": 0.9}, ours={"accuracy": 0.99},
                       run_dirs=["runs/x"], summary=f"{key} in one line", command=f"neuralab {key}")
    return types.SimpleNamespace(build=build)


@pytest.fixture
def fake_parts(monkeypatch):
    for key, number, _ in PARTS:
        monkeypatch.setitem(sys.modules, f"neuralab.{key}.section", fake_part(key, number, fail=key == "caption"))


def test_every_section_renders_and_a_failure_is_marked(tmp_path, fake_parts):
    sections = build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs"))
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
    md = (tmp_path / "r" / "index.md").read_text()
    assert "## 1.8 Title calc" in md and "| accuracy | 0.9 | 0.99 |" in md


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
def test_page_loads_in_chromium(tmp_path, fake_parts):
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "install Debian's chromium (make test does this)"
    build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs"))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto((tmp_path / "r" / "index.html").as_uri())
        titles = [f"{n} Title {k}" if k != "caption" else f"{n} {t}" for k, n, t in PARTS]
        assert page.locator("section h2").all_inner_texts() == titles
        assert page.locator("figure figcaption").all_inner_texts() == ["plot"] * 8
        widths = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
        assert len(widths) == 8 and all(w > 0 for w in widths)
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
        page.emulate_media(media="print")
        page.pdf(path=str(tmp_path / "report.pdf"), format="A4")
        browser.close()
    assert (tmp_path / "report.png").stat().st_size > 0
    pdf = PdfReader(tmp_path / "report.pdf")
    printed = [" ".join(unicodedata.normalize("NFKC", p.extract_text()).split()) for p in pdf.pages]  # "ﬁ" -> "fi"
    for title in titles:   # each section starts its own page, heading first
        assert any(text.startswith(title) for text in printed), title
    assert "Summary" in printed[0] and "Reproduce this section" in " ".join(printed)


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


def test_the_real_parts_render_from_tiny_runs_within_a_tiny_budget(tmp_path, monkeypatch):
    """Every real part, sized down to seconds, trains to its share of a one-minute budget and answers."""
    import json
    from dataclasses import replace

    from neuralab.calc import config as calc_config
    from neuralab.caption import config as caption_config
    from neuralab.core import mnist
    from neuralab.depth import experiment, plan
    from tests.test_caption import fake_mnist

    data = fake_mnist()
    monkeypatch.setattr(mnist, "load", lambda *args, **kwargs: data)
    whole = experiment.load_tensors

    def few_images(data_dir, device):   # depth's protocol over 1,000 training images: 8 steps an epoch
        t = whole(data_dir, device)
        return experiment.Tensors(t.x_train[:1000], t.y_train[:1000], t.x_test[:500], t.y_test[:500], t.sha256)
    monkeypatch.setattr(experiment, "load_tensors", few_images)
    monkeypatch.setitem(plan.PROFILES, "budget", [replace(plan.ASSIGNMENT, seeds=1, epochs=1)])
    monkeypatch.setitem(caption_config.PROFILES, "budget", caption_config.PROFILES["dry-run"])
    monkeypatch.setitem(caption_config.ATTENTION, "budget", {})   # the learned encoder's own pool size too
    monkeypatch.setitem(calc_config.PROFILES, ("budget", "symbolic"),
                        dict(warmup=8, train_size=8, epochs=1, batch_size=4, val_size=4, test_count=4, reader="lenet"))
    sections = build_report(ReportConfig(out_dir=tmp_path / "r", runs_root=tmp_path / "runs", budget=60))
    assert [s.reason for s in sections if s.failed] == []
    record = json.loads((tmp_path / "r" / "report.json").read_text())
    assert sum(p["share"] for p in record["parts"].values()) <= 60 * (1 - RENDER_RESERVE) + 1e-9
    assert record["machine"]["cores"] and record["commit"] is not None
    page = visible_text((tmp_path / "r" / "index.html").read_text())
    md = (tmp_path / "r" / "index.md").read_text()
    for s in sections:
        assert s.summary and f"{s.number} {s.title}: {s.summary}" in md
        assert f"Reproduce this section: {s.command}" in page
    assert "neuralab caption train --profile budget --max-seconds" in page
    assert "The project's reference results" in page   # quoted from the shipped files, from any folder
