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
