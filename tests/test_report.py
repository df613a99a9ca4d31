"""The audit in every run, `physioemo audit`, `reproduce` and `report` on small synthetic data."""

import base64
import io
import json
import re

import numpy as np
import pytest

from physioemo.cli import main
from physioemo.evaluation import plots, report
from physioemo.evaluation.audit import COUNTERPARTS
from physioemo.evaluation.published import headline
from physioemo.experiment.reproduce import experiment_for, reproduce
from physioemo.experiment.store import Store

QUIET = {"progress": False, "echo": lambda *a: None}
TINY = {"subjects": 2, "seconds": 10.0}  # synthetic DREAMER: 2 subjects, ~10-s clips


def run_cli(argv, capsys) -> str:
    assert main(argv) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def comparison_rows(printed: str) -> list[list[str]]:
    """The cells of the reproduce table's body rows in printed output."""
    start = printed.index("| dimension | model | metric |")
    lines = printed[start:].split("\n\n")[0].splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


# ----------------------------------------------------------------------------- reproduce
@pytest.fixture(scope="module")
def rbt_run(tmp_path_factory):
    """`reproduce rbtransformer` with the RBTransformer itself (quick preset) on tiny data,
    3 folds for the honest protocol; its run folder and what reproduce printed."""
    out = tmp_path_factory.mktemp("rbt") / "run"
    experiment = experiment_for("rbtransformer", dimensions=["arousal"], synthetic=TINY)
    experiment.protocol_options = {"subject-dependent": {"n_splits": 3}}  # the paper's keeps 5
    lines = []
    result = reproduce("rbtransformer", experiment, out=out, progress=False, echo=lines.append)
    return out, result, "\n".join(map(str, lines))


def test_reproduce_rbtransformer_prints_paper_honest_published_and_audit(tmp_path, capsys):
    argv = ["reproduce", "rbtransformer", "--models", "logreg", "--dimensions", "arousal"]
    argv += ["--synthetic-subjects", "2", "--synthetic-seconds", "10", "--out", str(tmp_path)]
    printed = run_cli([*argv, "--quiet"], capsys)
    [row] = comparison_rows(printed)
    dimension, model, metric, paper, paper_score, honest, honest_score = row[:7]
    inflation, published, verdict = row[7:]
    assert (dimension, model, metric) == ("arousal", "logreg", "accuracy")
    assert (paper, honest) == ("rbtransformer-paper", "subject-dependent")
    assert published == "99.7"  # Tab. II, DREAMER arousal
    assert verdict == "LEAKS"
    assert float(inflation) == pytest.approx(float(paper_score) - float(honest_score), abs=0.11)
    assert float(inflation) > 5  # the pooled shuffled k-fold scores higher
    assert "audit of rbtransformer-paper: LEAKS: 36 trial(s) with windows on both sides" in printed
    assert "audit of subject-dependent: honest" in printed
    assert "not the paper's training" in printed and "not DREAMER" in printed
    summary = json.loads((tmp_path / "summary.json").read_text())
    [pair] = summary["inflation"]
    assert pair["accuracy"]["points"] == pytest.approx(float(inflation), abs=0.06)
    again = run_cli(argv, capsys)  # the same command resumes: nothing left to run
    assert "15 jobs, 15 already in" in again and "running 0" in again
    assert comparison_rows(again) == [row]


def test_reproduce_with_the_paper_model_keeps_attention_and_scores_higher(rbt_run):
    out, result, printed = rbt_run
    [row] = result["comparison"]
    assert row["model"] == "rbtransformer" and row["published"] == pytest.approx(0.9974)
    assert row["inflation"] == pytest.approx(100 * (row["paper_score"] - row["honest_score"]))
    assert row["inflation"] > 0 and row["verdict"].startswith("LEAKS")
    assert row["honest_verdict"] == "honest"
    assert (
        "training budget of rbtransformer, the same under rbtransformer-paper, "
        "subject-dependent: rbtransformer-quick: 5 epochs of 6 batches, batch 32" in printed
    )
    with Store(out / "store.sqlite") as store:
        rows = store.rows(predictions=True)
    attention = rows[0]["predictions"]["attention"]
    assert attention.shape == (2, 14, 14)  # classes x electrodes x electrodes
    # softmax rows averaged over heads, blocks and windows still sum to 1 per present class
    present = np.bincount(rows[0]["predictions"]["y_true"], minlength=2) > 0
    np.testing.assert_allclose(attention[present].sum(axis=-1), 1.0, rtol=1e-4)


def test_reproduce_histn_prints_both_protocols_beside_the_published_f1(tmp_path):
    experiment = experiment_for("histn", dimensions=["valence"], synthetic={"subjects": 2})
    experiment.select = {"folds": [0]}  # one fold of each protocol: HiSTN trains 5 times
    lines = []
    result = reproduce(
        "histn", experiment, out=tmp_path, progress=False, echo=lines.append, report=False
    )
    rows = {row["protocol"]: row for row in result["comparison"]}
    assert set(rows) == {"histn-sd", "histn-si"}
    assert rows["histn-sd"]["published"] == pytest.approx(0.9682)  # weighted F1, abstract
    assert rows["histn-si"]["published"] == pytest.approx(0.7834)
    for name, row in rows.items():
        assert row["metric"] == "weighted_f1" and row["honest_protocol"] == COUNTERPARTS[name]
        assert row["inflation"] == pytest.approx(100 * (row["paper_score"] - row["honest_score"]))
        assert row["inflation"] > 0
        assert row["verdict"].startswith("LEAKS") and row["honest_verdict"] == "honest"
    assert "2 subject(s) on both sides of a subject-wise split" in rows["histn-si"]["verdict"]
    assert "max |x| scaling" in rows["histn-sd"]["verdict"]  # fitted on test data
    printed = "\n".join(map(str, lines))
    table = comparison_rows(printed)
    assert [cells[3] for cells in table] == ["histn-sd", "histn-si"]
    assert [cells[8] for cells in table] == ["96.8", "78.3"]
    test_set, split = rows["histn-sd"]["steps"]  # the in-between step ran
    assert test_set["to"] == "histn-sd-windows" and test_set["to_score"] is not None
    assert test_set["points"] + split["points"] == pytest.approx(rows["histn-sd"]["inflation"])
    assert "Where the inflation comes from" in printed
    assert "training budget of histn, the same under histn-si, subject-independent" in printed


def test_reproduce_refuses_a_dataset_the_paper_did_not_publish(capsys):
    assert main(["reproduce", "histn", "--dataset", "seed"]) == 2
    assert "histn published figures for dreamer, not seed" in capsys.readouterr().err


# ----------------------------------------------------------------------------- audit
def test_audit_flags_each_leak_kind_and_passes_honest_protocols(capsys):
    argv = ["audit", "--dataset", "dreamer", "--synthetic-subjects", "2"]
    argv += ["--synthetic-seconds", "81", "--dimensions", "valence", "--stride", "2"]
    printed = run_cli([*argv, "--protocols", "leaky-window-kfold", "histn-si", "subject-dependent"]
                      , capsys)  # fmt: skip
    verdicts = dict(re.findall(r"\| ([\w-]+) \| \d+ \|.*\| (honest|LEAKS: .*) \|", printed))
    leaky, histn_si = verdicts["leaky-window-kfold"], verdicts["histn-si"]
    assert leaky.startswith("LEAKS: 36 trial(s) with windows on both sides")  # 2 x 18 trials
    assert "test windows within 5 s of a training window of their trial" in leaky
    assert "2 subject(s) on both sides of a subject-wise split" in histn_si
    assert "fitted on test data: max \\|x\\| scaling" in histn_si  # "|" escaped in Markdown
    assert verdicts["subject-dependent"] == "honest"
    wesad = ["audit", "--dataset", "wesad", "--synthetic-subjects", "3"]
    printed = run_cli([*wesad, "--protocols", "pinn-paper", "subject-independent"], capsys)
    verdicts = dict(re.findall(r"\| ([\w-]+) \| \d+ \|.*\| (honest|LEAKS: .*) \|", printed))
    assert "inputs that proxy the label: panas_positive" in verdicts["pinn-paper"]
    assert "fitted on test data" not in verdicts["pinn-paper"]  # EDA scaled per fold (jobs)
    assert verdicts["subject-independent"] == "honest"  # on the features without self-reports


def test_audit_of_a_run_folder_and_its_summary(rbt_run, capsys):
    out, result, _ = rbt_run
    printed = run_cli(["audit", str(out)], capsys)
    assert "| arousal | rbtransformer-paper | 5 | 36 | 2 |" in printed
    assert "| arousal | subject-dependent | 6 | 0 | 2 | 0 of" in printed
    [pair] = result["inflation"]
    points = pair["accuracy"]["points"]
    assert f"({points:+.1f})" in printed
    summary = (out / "summary.md").read_text()
    assert "## Audit" in summary and f"({points:+.1f})" in summary
    assert main(["audit", str(out / "nowhere")]) == 2
    assert "is not a run folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------- report
def embedded_images(page: str) -> list[np.ndarray]:
    import matplotlib.image

    found = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    return [matplotlib.image.imread(io.BytesIO(base64.b64decode(data))) for data in found]


def test_report_embeds_decodable_images_and_every_stored_row(rbt_run):
    out, result, printed = rbt_run
    assert "report.html" in printed
    page = (out / "report.html").read_text()
    images = embedded_images(page)
    pngs = sorted((out / "figures").glob("*.png"))
    assert len(images) == len(pngs) >= 6  # paper vs honest, subjects, confusion, 2 topo, 2 attn
    for image in images:
        assert image.ndim == 3 and min(image.shape[:2]) > 100 and np.ptp(image) > 0
    names = {p.stem.split("-")[0] for p in pngs}
    assert {"paper", "subjects", "confusion", "topomap", "attention", "critical"} <= names
    with Store(out / "store.sqlite") as store:
        keys = [row["key"] for row in store.rows()]
    assert len(keys) == 5 + 2 * 3 and all(f"<td>{key}</td>" in page for key in keys)
    for entry in result["summary"]:
        protocol = entry["protocol"] + (" (LEAKS)" if entry["leaks"] else "")
        cells = f"<td>{entry['dimension']}</td><td>{protocol}</td><td>{entry['model']}</td>"
        assert cells + f"<td>{100 * entry['balanced_accuracy']:.1f} ± " in page
        assert f"<td>{100 * entry['accuracy']:.1f} ± " in page
        chance = " / ".join(
            f"{100 * entry['chance'][k]:.1f}" for k in ("balanced_accuracy", "macro_f1", "accuracy")
        )
        assert f"<td>{chance}</td>" in page
    assert "Comparisons" in page and "critical difference" in page
    assert "not the real DREAMER" in page and "Leakage audit" in page


def test_seed_topomaps_place_cb1_and_cb2():
    from physioemo.datasets.synthetic.seed import SEED_CHANNELS

    rng = np.random.default_rng(0)
    means = {
        "ch_names": list(SEED_CHANNELS),
        "bands": ["alpha", "beta"],
        "class_names": ["negative", "neutral", "positive"],
        "means": rng.normal(size=(3, 62, 2)).tolist(),
    }
    assert {"CB1", "CB2"} <= set(SEED_CHANNELS)
    figures = plots.topomaps(means)
    assert not isinstance(figures, str)
    for figure in figures:
        maps = [axis for axis in figure.axes if axis.get_title()]
        assert len(maps) == 3 * 2  # classes x bands
        sensors = [c.get_offsets() for axis in maps for c in axis.collections]
        assert all(len(xy) == 62 and np.isfinite(xy).all() for xy in sensors)  # CB1, CB2 too
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        assert embedded_images(
            f'src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}"'
        )[0].shape[2] in (3, 4)
    headless = {**means, "ch_names": [f"EEG{i}" for i in range(62)]}
    assert "no topomap" in plots.topomaps(headless)


def test_training_curves_come_from_the_fit_reports(tmp_path):
    history = [{"epoch": e, "train_loss": 1 / (e + 1), "val_loss": 1.2 / (e + 1)} for e in range(5)]
    entry = {
        "dataset": "dreamer", "features": "raw", "model": "eegnet", "protocol": "subject-dependent",
        "labels": "binary", "dimension": "arousal", "leaks": False,
    }  # fmt: skip
    rows = [
        {**entry, "preset": "eegnet-quick", "report": {"history": history, "epoch_kept": 4}},
        {**entry, "preset": "eegnet-quick", "report": {"history": history[:3], "epoch_kept": 2}},
    ]
    html = report.curves_section(report.Figures(tmp_path), [entry], rows)
    [image] = embedded_images(html)
    assert image.shape[0] > 100 and (tmp_path / "training-curves.png").exists()
    without = [{**row, "report": {}} for row in rows]
    assert "no per-epoch history" in report.curves_section(report.Figures(tmp_path), [], without)


# ----------------------------------------------------------------------------- figures
def chance_segments(axis, gid: str) -> np.ndarray:
    """(n, 2, 2) segments of the chance line(s) drawn with `gid` on `axis`."""
    [lines] = [c for c in axis.collections if c.get_gid() == gid]
    return np.asarray(lines.get_segments())


def test_each_bar_is_drawn_against_its_own_rows_chance(rbt_run, tmp_path):
    out, result, _ = rbt_run
    summary, pairs = result["summary"], result["inflation"]
    figures = report.Figures(tmp_path)
    report.paper_section(figures, summary, pairs)
    [axis] = figures.figures[-1].content.axes
    entries = {report._key(e): e for e in summary}
    assert pairs
    for position, pair in enumerate(pairs):
        rows = {role: entries[report._key(pair[role])] for role in ("leaky", "honest")}
        leaky = rows["leaky"]
        published = headline(leaky["dataset"], leaky["protocol"], leaky["dimension"], "binary")
        metric = published.metric if published else "accuracy"  # the metric the bars show
        for role, entry in rows.items():
            [bar] = [p for p in axis.patches if p.get_gid() == f"{role} {position}"]
            [[(x0, y0), (x1, y1)]] = chance_segments(axis, f"chance {role} {position}")
            assert y0 == y1 == pytest.approx(100 * entry["chance"][metric])
            assert bar.get_x() <= x0 < x1 <= bar.get_x() + bar.get_width()  # over its own bar
            assert bar.get_height() == pytest.approx(100 * entry[metric])
        if leaky["protocol"] == "rbtransformer-paper":  # pooled k-fold vs per-subject folds:
            # the two rows' chances differ, so a line drawn from the wrong row would fail
            assert leaky["chance"][metric] != pytest.approx(rows["honest"]["chance"][metric])
    errors = [c for c in axis.collections if c.get_gid() is None and len(c.get_segments())]
    assert errors  # ± std error bars


def test_each_subjects_bar_is_drawn_against_that_subjects_chance(rbt_run, tmp_path):
    _, result, _ = rbt_run
    figures = report.Figures(tmp_path)
    report.per_subject_section(figures, result["summary"])
    [figure] = [f.content for f in figures.figures]
    by_title = {plots.title(e): e for e in result["summary"]}
    axes = [a for a in figure.axes if a.get_title()]
    assert len(axes) == len(result["summary"])
    for axis in axes:
        scores = by_title[axis.get_title()]["per_subject"]
        segments = chance_segments(axis, "chance")
        np.testing.assert_allclose(
            segments[:, 0, 1], 100 * np.array(scores["chance"]["balanced_accuracy"])
        )
        bars = [p.get_x() + p.get_width() / 2 for p in axis.patches]
        np.testing.assert_allclose(segments.mean(axis=1)[:, 0], bars)  # each line on its bar


def test_confusion_cells_show_fraction_and_count_beside_a_colour_bar(tmp_path):
    from sklearn.metrics import confusion_matrix

    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 0, 1, 1, 2, 0, 2, 2])
    figure, [axis] = plots.grid(1)
    image = plots.confusion(axis, y_true, y_pred, ["neg", "neu", "pos"], "title")
    counts = confusion_matrix(y_true, y_pred)
    fractions = counts / counts.sum(axis=1, keepdims=True)
    cells = [t.get_text() for t in axis.texts]
    assert cells == [
        f"{f:.2f}\n({c})" for f, c in zip(fractions.ravel(), counts.ravel(), strict=True)
    ]
    assert (
        all(t.get_fontsize() >= 8 for t in axis.texts) and "n = 9 test windows" in axis.get_title()
    )
    np.testing.assert_allclose(image.get_array(), fractions)
    assert image.get_clim() == (0, 1)


def test_training_curves_are_median_and_quartiles_over_folds_at_whole_epochs(tmp_path):
    rng = np.random.default_rng(0)
    losses = rng.uniform(0.2, 1.0, size=(5, 7))  # 5 folds x 7 epochs
    reports = [
        {"history": [{"epoch": e, "train_loss": v} for e, v in enumerate(row[: 7 - fold])],
         "epoch_kept": 6 - fold}
        for fold, row in enumerate(losses)
    ]  # fmt: skip
    figure, [axis] = plots.grid(1)
    plots.loss_curves(axis, reports, "row")
    ran = [losses[: min(5, 7 - epoch), epoch] for epoch in range(7)]  # folds that ran it
    [median] = [line for line in axis.lines if line.get_label() == "train median"]
    np.testing.assert_array_equal(median.get_xdata(), np.arange(7))
    np.testing.assert_allclose(median.get_ydata(), [np.median(values) for values in ran])
    [band] = axis.collections
    corners = band.get_paths()[0].vertices
    for epoch, values in enumerate(ran):
        for quartile in np.percentile(values, [25, 75]):
            assert np.isclose(corners, [epoch, quartile]).all(axis=1).any()
    figure.savefig(io.BytesIO(), format="png")
    assert all(float(t).is_integer() for t in axis.get_xticks())
    [kept] = [line for line in axis.lines if line.get_label() == "epoch kept"]
    assert sorted(kept.get_xdata()) == [2, 3, 4, 5, 6]


def test_a_62_electrode_attention_map_labels_every_other_electrode_apart(tmp_path):
    from physioemo.datasets.synthetic.seed import SEED_CHANNELS

    maps = np.random.default_rng(0).dirichlet(np.ones(62), size=(3, 62))
    figure = plots.attention(maps, list(SEED_CHANNELS), ["neg", "neu", "pos"], "SEED")
    figure.savefig(io.BytesIO(), format="png", dpi=72)  # lays the figure out
    for axis in figure.axes[:3]:
        labels = [t.get_text() for t in axis.get_xticklabels()]
        assert 20 <= len(labels) < 62 and labels[0] == SEED_CHANNELS[0]
        width = axis.get_position().width * figure.get_figwidth() * 72  # points
        step = SEED_CHANNELS.index(labels[1])
        spacing = width / 62 * step
        assert (
            spacing >= plots.TICK_SPACING
            and min(t.get_fontsize() for t in axis.get_xticklabels()) >= 7
        )


def test_report_pdf_renders_with_numbered_captions_and_vector_figures(rbt_run, capsys):
    import shutil
    import subprocess

    out, _, _ = rbt_run
    printed = run_cli(["report", str(out), "--format", "pdf"], capsys)
    assert printed.strip() == f"wrote {out / 'report.pdf'}"
    pngs = sorted((out / "figures").glob("*.png"))
    for png in pngs:  # every figure in vector formats too, text kept as text in the SVG
        assert png.with_suffix(".pdf").stat().st_size > 0
        assert "<text" in png.with_suffix(".svg").read_text()
    pages = int(re.search(r"Pages:\s+(\d+)", subprocess.run(
        ["pdfinfo", str(out / "report.pdf")], capture_output=True, text=True, check=True
    ).stdout)[1])  # fmt: skip
    assert pages > len(pngs)  # a title page and the tables, then one page per figure
    rendered = out / "pages"
    subprocess.run(
        ["pdftoppm", "-r", "20", "-png", str(out / "report.pdf"), str(rendered)], check=True
    )
    import matplotlib.image

    images = sorted(out.glob("pages-*.png"))
    assert len(images) == pages
    assert all(np.ptp(matplotlib.image.imread(image)) > 0 for image in images)  # not blank
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed")
    text = subprocess.run(
        ["pdftotext", str(out / "report.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    numbers = [int(n) for n in re.findall(r"^Figure (\d+)\. ", text, flags=re.MULTILINE)]
    assert numbers == list(range(1, len(pngs) + 1))
    flat = " ".join(text.split())  # lines wrapped as on the page
    assert "Table 1. Scores (%)" in flat and "not the real DREAMER" in flat
    assert "error bars: ± 1 standard deviation over subjects" in flat
    fonts = subprocess.run(
        ["pdffonts", str(out / "report.pdf")], capture_output=True, text=True
    ).stdout
    assert "TrueType" in fonts and "Type 3" not in fonts  # what journals' checks ask for
