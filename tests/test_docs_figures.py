"""Every figure of README.md and docs/*.md is written from a run summary stored in docs/results
(docs/figures.py): none is stale, none is typed by hand, and the check fails when one differs."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: a figure with its spread ("61.1 ± 11.3"): what a run measured, never typed by hand
MEASURED = re.compile(r"\d ± \d")


@pytest.fixture(scope="module")
def figures():
    spec = importlib.util.spec_from_file_location("figures", ROOT / "docs" / "figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_no_figure_differs_from_its_stored_summary(figures):
    assert figures.stale() == []


def test_every_summary_named_on_a_page_is_stored_with_its_date_and_machine(figures):
    for page in figures.PAGES:
        text = page.read_text(encoding="utf-8")
        for match in [*figures.BLOCK.finditer(text), *figures.SPAN.finditer(text)]:
            about = figures.load(match["file"])["about"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", about["date"]), (page.name, match["file"])
            assert about["machine"], (page.name, match["file"])


def test_measured_figures_sit_only_inside_marked_blocks_and_spans(figures):
    for page in figures.PAGES:
        text = page.read_text(encoding="utf-8")
        unmarked = figures.SPAN.sub("", figures.BLOCK.sub("", text))
        typed = [line for line in unmarked.splitlines() if MEASURED.search(line)]
        assert typed == [], f"{page.name}: figures typed by hand: {typed[:3]}"


def test_the_check_fails_on_a_figure_that_differs(figures, tmp_path, monkeypatch):
    (tmp_path / "run.json").write_text(json.dumps({"wall": 94, "rows": [{"a": 1, "b": 2}]}))
    monkeypatch.setattr(figures, "RESULTS", tmp_path)
    fresh = (
        "took <!-- figure: run.json wall -->94<!-- /figure --> s\n"
        "<!-- figures: run.json table rows -->\n"
        "| a | b |\n| --- | --- |\n| 1 | 2 |\n<!-- /figures -->"
    )
    assert figures.render(fresh) == fresh
    formatted = "<!-- figure: run.json wall .1f -->94.0<!-- /figure -->"
    assert figures.render(formatted) == formatted
    for edited in (fresh.replace(">94<", ">93<"), fresh.replace("| 1 | 2 |", "| 1 | 3 |")):
        assert figures.render(edited) == fresh != edited
    page = tmp_path / "page.md"
    page.write_text(fresh.replace(">94<", ">93<"))
    monkeypatch.setattr(figures, "PAGES", [page])
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    assert figures.main(["--check"]) == 1
    assert figures.main([]) == 0 and figures.main(["--check"]) == 0
    assert page.read_text() == fresh


def test_stored_summaries_hold_no_path_of_the_machine(figures):
    from physioemo.paths import cache_dir

    places = {str(Path.home()), str(cache_dir()), str(ROOT), "/tmp/"}
    for stored in sorted(figures.RESULTS.glob("*.json")):
        text = stored.read_text(encoding="utf-8")
        assert not [place for place in places if place in text], stored.name


def test_a_block_left_open_is_refused_not_rendered(figures):
    with pytest.raises(ValueError, match="figures"):
        figures.render("<!-- figures: run.json table rows -->\n| a |\ntext that must stay\n")
