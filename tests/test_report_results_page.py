"""The results page (`mislabel.report.results_page`): where the results come from, Tables
5.1-5.3 in Markdown and HTML; and the rendered blocks of the README and docs/
(`mislabel.report.include`)."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from mislabel.report import table_markdown
from mislabel.report.include import BEGIN, END, block_paths, include_block, main, synced
from mislabel.report.results_page import provenance, render_results_page

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / "tests" / "data" / "tiny_summaries"


@pytest.fixture
def page(tmp_path):
    config = yaml.safe_load((REPO / "tests" / "tiny_config.yaml").read_text())
    md, beyond = tmp_path / "results.md", tmp_path / "results_beyond.md"
    html = tmp_path / "results.html"
    render_results_page(
        TINY / "detection.csv",
        TINY / "unlearning.csv",
        config,
        md,
        beyond,
        html,
        loo_csv=TINY / "loo_validation.csv",
        config_name="tests/tiny_config.yaml",
    )
    return md.read_text(), html.read_text(), beyond.read_text()


def test_the_page_says_where_its_numbers_come_from(page):
    md, html, beyond = page
    assert md.startswith("From MNIST, classes 0, 1, noise ratios 0.3; 2 seeds (0, 1), cells mean")
    command = "snakemake --cores 8 --configfile tests/tiny_config.yaml --config seeds=[0,1]"
    assert command in md and command in html and command in beyond
    assert re.findall(r"^### (Table 5\.\d)", md, flags=re.M) == [
        "Table 5.1",
        "Table 5.2",
        "Table 5.3",
    ]


def test_beyond_the_paper_shows_every_detector_the_estimates_and_every_unlearner(page):
    _, _, beyond = page
    tiny = yaml.safe_load((REPO / "tests" / "tiny_config.yaml").read_text())
    titles = re.findall(r"^### (.+)$", beyond, flags=re.M)
    assert [t.split(":")[0].split(" (")[0] for t in titles] == [
        "Every detector",
        "The noise ratio estimated without knowing it",
        "Every unlearner",
        "Every unlearner against the model retrained on the clean data",
        "Leave-k-out validation",
    ]
    for label in ("AUM", "Confident learning (cleanlab)", "I_up,loss(z, z), full network"):
        assert f"&nbsp;&nbsp;{label} |" in beyond
    assert "| r | flipped (actual) | AUM | Confident learning (cleanlab) |" in beyond
    for label in ("NegGrad+", "Relabel + fine-tune", "Influence (full)"):
        assert f"&nbsp;&nbsp;{label} |" in beyond
    assert len(tiny["unlearners"]) == 7


def test_table_5_2_equals_the_markdown_table_of_the_same_summary(page):
    md, _, _ = page
    section = md[md.index("### Table 5.2") :]
    section = section[section.index("| r |") : section.index("### Table 5.3")].strip()
    assert section == table_markdown(TINY / "unlearning.csv").strip()


class Cells(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.cells, self.open = 0, [], []

    def handle_starttag(self, tag, attrs):
        self.tables += tag == "table"
        if tag not in ("br", "meta"):  # void elements
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open.pop() == tag, f"</{tag}> closes <{self.open}>"

    def handle_data(self, data):
        if self.open and self.open[-1] in ("td", "th"):
            self.cells.append(data)


def test_the_html_is_well_formed_without_latex(page):
    _, html, _ = page
    parser = Cells()
    parser.feed(html)
    assert parser.tables == 8 and parser.open == []
    assert "98.4 ± 1.3" in parser.cells  # pre-trained, as in the Markdown
    assert not re.search(r"\\[a-z]+|\$", html)  # no LaTeX left


class Tables(HTMLParser):
    """The rows of each table of a page: the cells of each row, a spanning row as None."""

    def __init__(self):
        super().__init__()
        self.tables: list[list[list[str] | None]] = []
        self.row: list[str] | None = None
        self.cell: str | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = ""
            if any(k == "colspan" for k, _ in attrs):
                self.row = None

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append(self.cell)
        elif tag == "tr":
            self.tables[-1].append(self.row)

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


NUMBER = re.compile(r"^[+-]?\d+(?:\.(\d+))?$")


def number_formats(cell: str) -> set[int]:
    """The decimals of each number of a cell (`mean ± std` or one value); none if no
    number."""
    parts = [p.strip() for p in cell.split("±")]
    found = [NUMBER.match(p) for p in parts]
    return {len(m.group(1) or "") for m in found if m} if all(found) else set()


def test_every_column_of_the_html_has_one_number_format(page):
    """Each column of each table (of one metric: between two spanning rows) prints its
    numbers, means and stds alike, with one number of decimals."""
    _, html, _ = page
    parser = Tables()
    parser.feed(html)
    checked = 0
    for table in parser.tables:
        blocks: list[list[list[str]]] = [[]]
        for row in table[1:]:
            if row is None:
                blocks.append([])
            else:
                blocks[-1].append(row)
        for block in blocks:
            for column in zip(*(row[1:] for row in block), strict=True):
                formats = set().union(*(number_formats(cell) for cell in column))
                assert len(formats) <= 1, column
                checked += bool(formats)
    assert checked >= 20
    assert number_formats("0.27 ± 0.0642") == {2, 4} and number_formats("1 ± 0") == {0}


def test_one_seed_is_not_called_a_mean():
    source, command = provenance(
        {"dataset": "mnist", "classes": [0, 1], "noise_ratios": [0.1], "seeds": [3]},
        "config.yaml",
    )
    assert "1 seed (3), one run per cell" in source and "--configfile" not in command


def test_include_block_replaces_only_between_its_markers(tmp_path, monkeypatch):
    begin = BEGIN.format(path="p/results.md")
    doc = f"intro\n{begin}\n\nold\n\n{END}\noutro\n"
    assert include_block(doc, "p/results.md", "new\n") == f"intro\n{begin}\n\nnew\n\n{END}\noutro\n"
    with pytest.raises(ValueError, match="no block for other.md"):
        include_block(doc, "other.md", "x")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "results.md").write_text("fresh\n")
    (tmp_path / "README.md").write_text(doc)
    monkeypatch.chdir(tmp_path)
    assert main(["README.md"]) == 0
    assert "\nfresh\n" in (tmp_path / "README.md").read_text()
    assert "old" not in (tmp_path / "README.md").read_text()


def test_every_rendered_block_equals_its_file():
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert "paper_tables/results.md" in block_paths((REPO / "README.md").read_text())
    stale = [str(d.relative_to(REPO)) for d in docs if synced(d.read_text(), REPO) != d.read_text()]
    assert stale == [], "run `.venv/bin/python -m mislabel.report.include` to refill them"


def test_beyond_cells_equal_those_of_the_rendered_latex_tables(page):
    """The Markdown tables beyond the paper show the same cells, in the same order, as the
    LaTeX tables of the reference run of the same summaries."""
    _, _, beyond = page
    sections = re.split(r"^### ", beyond, flags=re.M)[1:]

    def markdown_cells(section: str) -> list[str]:
        rows = [line for line in section.splitlines() if line.startswith("| ") and "**" not in line]
        return [cell.strip() for row in rows[1:] for cell in row.strip("|").split("|")[1:]]

    def latex_cells(name: str) -> list[str]:
        tex = (REPO / "tests" / "data" / "tiny_tables" / name).read_text()
        body = tex[tex.index("\\midrule") : tex.index("\\bottomrule")]
        rows = [r for r in body.split("\\\\") if "&" in r and "multicolumn" not in r]
        return [c.strip().replace(" $\\pm$ ", " ± ") for r in rows for c in r.split("&")[1:]]

    assert len(markdown_cells(sections[0])) == 2 * 7  # 2 metrics x 7 detectors, 1 ratio
    assert markdown_cells(sections[0]) == latex_cells("table_ext_detectors.tex")
    assert markdown_cells(sections[2]) == latex_cells("table_ext_unlearners_accuracy.tex")
    assert markdown_cells(sections[1]) == latex_cells("table_ext_budget.tex")
    assert markdown_cells(sections[4]) == latex_cells("table_ext_loo.tex")
    # 8 columns (4 metrics, the parameter change, 2 of conjugate gradients, the damping
    # used); pre-trained, 7 unlearners x 3 targets
    assert len(markdown_cells(sections[3])) == 8 * (1 + 7 * 3)
    header = sections[3].splitlines()[2]
    assert header.count("|") == 8 + 2 and "‖Δθ‖ (to pre-trained)" in header
    full = [r for r in sections[3].splitlines() if r.startswith("| &nbsp;&nbsp;Influence (full)")]
    assert all(r.endswith("| 1 |") for r in full)  # damping 1, never raised
    # the reference itself: retraining on the clean data is 0 away from itself
    reference = "| &nbsp;&nbsp;Retrained on D_clean | +0.0 ± 0.0 | 100.0 ± 0.0 | 0.000 ± 0.000 |"
    assert reference in sections[3]


def test_the_main_command_leaves_the_committed_reference_intact():
    """`snakemake --cores 8` on the default config renders into its own folder: no file it
    writes is one of the committed reference's, so the docs' rendered blocks (copied from
    the reference) stay equal to their files after it, and its rebuild line says how the
    reference itself is rebuilt."""
    import yaml

    from mislabel.workflow import config as wc
    from mislabel.workflow.paths import REFERENCE

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    written = wc.paper_files(config["detectors"], config["paper_dir"])
    written += wc.summary_files(config["summary_dir"])
    assert not [p for p in written if p.startswith(f"{REFERENCE}/")]
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]:
        for path in block_paths(doc.read_text()):
            assert not path.startswith(config["paper_dir"].rstrip("/") + "/"), (doc, path)
    first = (REPO / REFERENCE / "results.md").read_text().splitlines()[0]
    assert first.endswith("--config seeds=[0,1,2,3,4] paper_dir=paper_tables`.")


def test_the_html_page_embeds_the_figures_with_plain_captions_and_no_raw_markdown(tmp_path):
    png = tmp_path / "fig_5_1.png"
    shutil.copy(TINY.parent / "tiny_tables" / "fig_5_1.tex", tmp_path / "fig_5_1.tex")
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"0" * 16)
    config = {"dataset": "mnist", "classes": [0, 1], "noise_ratios": [0.3], "seeds": [0, 1]}
    render_results_page(
        TINY / "detection.csv",
        TINY / "unlearning.csv",
        config,
        tmp_path / "r.md",
        tmp_path / "b.md",
        tmp_path / "r.html",
        figures=[png],
    )
    page = (tmp_path / "r.html").read_text()
    assert 'src="data:image/png;base64,' in page and "<figcaption>Histogram of the anomaly" in page
    assert "noise ratio r = 0.3 (35 of 128 labels flipped, 27.3%" in page
    assert "$" not in page and "\\math" not in page
    assert "`" not in page and "<code>config.yaml</code>" in page
