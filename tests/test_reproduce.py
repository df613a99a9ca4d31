"""`physioemo reproduce` pairs like with like: every protocol of a paper protocol's chain
trains the same preset under either profile, each step changes one thing, and the steps'
points add up to the inflation (nothing trained here; test_report.py runs reproduce)."""

import pytest

from physioemo import protocols
from physioemo.evaluation.audit import COUNTERPARTS
from physioemo.experiment.plan import preset_for
from physioemo.experiment.reproduce import PAPERS, budgets, compare, experiment_for, notices


@pytest.mark.parametrize("profile", ["quick", "full"])
@pytest.mark.parametrize("paper", list(PAPERS))
def test_every_protocol_of_a_chain_trains_the_same_preset(paper, profile):
    experiment = experiment_for(paper, profile=profile)
    chosen = PAPERS[paper]
    for protocol in chosen.protocols:
        names = [protocol, *(step for step, _ in chosen.steps[protocol])]
        assert names[-1] == COUNTERPARTS[protocol]  # the chain ends at the honest protocol
        assert set(names) <= set(experiment.protocols)
        assert not protocols.PROTOCOLS[names[-1]].leaks
        for model in experiment.models:
            trained = {preset_for(experiment, model, protocols.PROTOCOLS[n]) for n in names}
            assert len(trained) == 1, (protocol, trained)
    lines = budgets(paper, experiment)
    assert lines and not any(line.startswith("NOT") for line in lines)


def test_histn_notices_state_each_pairs_budget():
    quick = notices(experiment_for("histn"), "histn")
    assert (
        "training budget of histn, the same under histn-sd, histn-sd-windows, subject-dependent:"
        " histn-quick: 8 epochs of 10 batches, batch 64" in quick
    )
    [si] = [line for line in quick if "histn-si," in line]
    assert si.startswith(
        "training budget of histn, the same under histn-si, subject-independent: histn-si-quick"
    )
    full = notices(experiment_for("histn", profile="full"), "histn")
    assert any(
        line.endswith(
            "histn-si: 100 epochs of (1-s segments / batch size) batches, batch 120; then "
            "fine-tuning: 400 epochs of one pass, batch 100 (fine-tuning where a protocol gives "
            "calibration rows)"
        )
        for line in full
    )


def test_a_pair_trained_differently_is_said_not_like_for_like(monkeypatch):
    steps = PAPERS["histn"].steps
    odd = (*steps["histn-si"], ("histn-sd", "a protocol bringing another preset"))
    monkeypatch.setitem(steps, "histn-si", odd)
    lines = budgets("histn", experiment_for("histn", profile="full"))
    assert any(line.startswith("NOT like for like: histn trains histn-si:") for line in lines)


def entry(protocol, dimension, accuracy):
    return {
        "dataset": "dreamer",
        "features": "histn-raw",
        "model": "histn",
        "protocol": protocol,
        "labels": "binary",
        "dimension": dimension,
        "accuracy": accuracy,
    }


def test_steps_split_the_inflation_into_its_causes():
    summary = [
        entry("histn-sd", "valence", 0.90),
        entry("histn-sd-windows", "valence", 0.80),
        entry("subject-dependent", "valence", 0.65),
    ]
    [row] = compare("histn", {"summary": summary, "audit": {}})
    assert (row["paper_score"], row["honest_score"]) == (0.90, 0.65)
    assert row["inflation"] == pytest.approx(25.0)
    test_set, split = row["steps"]
    assert (test_set["from"], test_set["to"]) == ("histn-sd", "histn-sd-windows")
    assert test_set["change"].startswith("test set")
    assert test_set["points"] == pytest.approx(10.0) and split["points"] == pytest.approx(15.0)
    assert split["change"].startswith("split") and split["to"] == "subject-dependent"
    missing = compare("histn", {"summary": summary[:1], "audit": {}})[0]
    assert missing["inflation"] is None and missing["steps"][0]["points"] is None
