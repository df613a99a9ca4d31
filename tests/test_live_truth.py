"""Live that tells the truth: loud warnings when most of a model's channels are interpolated
or its prediction has not changed for a minute of signal (in the stream, the terminal view and
on stderr), and class names from the label registry."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from test_live import (
    DREAMER_NAMES,
    SYNTHETIC_NAMES,
    MemorySource,
    StubPredictor,
    noise_eeg,
    run,
)

from physioemo.cli import main
from physioemo.live import LiveError
from physioemo.live.stream import LiveStream
from physioemo.live.views import TerminalView


# ----------------------------------------------------------------------------- loud warnings
class FlippingPredictor(StubPredictor):
    """Class 0 for `every` windows, then class 1 for as many, and so on."""

    def __init__(self, ch_names, every, **options):
        super().__init__(ch_names, **options)
        self.every, self.calls = every, 0

    def predict_proba(self, x):
        self.calls += 1
        high = (self.calls - 1) // self.every % 2 if self.every else 0
        return np.array([0.1, 0.9]) if high else np.array([0.8, 0.2])


@pytest.mark.parametrize("every", [0, 40])
def test_a_prediction_unchanged_for_a_minute_is_a_loud_warning(every):
    predictor = FlippingPredictor(["Fz", "Cz", "Pz"], every, stride=1.0)
    source = MemorySource(noise_eeg(3, 250 * 75), ["Fz", "Cz", "Pz"], chunk=1000)
    results, summary = run(source, predictor)
    stuck = [r.time for r in results if "stuck" in r.warnings]
    if every:  # a class that changes every 40 s never lasts a minute
        assert not stuck and "stuck" not in summary["warnings"]
        return
    assert stuck == [t for t in range(61, 76)]  # windows end at 1, 2, ... s; the first at 1
    text = results[-1].warnings["stuck"]
    assert text == (
        "the prediction has been 'low' for 74 s of signal (probability 80.0%-80.0%): the "
        "model may not respond to this source"
    )
    assert summary["warnings"] == {"stuck": text}
    assert results[-1].to_json(["low", "high"], ["Fz", "Cz", "Pz"])["warnings"] == {"stuck": text}


def test_most_channels_interpolated_is_a_loud_warning_in_the_terminal():
    class Screen(io.StringIO):
        def isatty(self):
            return True

    screen = Screen()
    view = TerminalView(screen, fps=1e6)
    stream = LiveStream(
        MemorySource(noise_eeg(16, 500), SYNTHETIC_NAMES), StubPredictor(DREAMER_NAMES),
        poll_margin=10.0,
    )  # fmt: skip
    results = []
    summary = stream.run(on_window=lambda r: (results.append(r), view.update(r, stream)))
    expected = (
        "10 of 14 model channels are interpolated from other electrodes (AF3 FC5 T7 P7 O1 O2 "
        "P8 T8 FC6 AF4): most of what the model reads was never recorded"
    )
    assert results and all(r.warnings == {"interpolated": expected} for r in results)
    assert summary["warnings"] == {"interpolated": expected}
    assert screen.getvalue().startswith(f"\x1b[1;31m!! {expected}\x1b[0m\x1b[K\n")

    # half interpolated is not "most": 4 of these 8 model channels are on the source
    half = ["Fz", "Cz", "C3", "C4", "FC1", "FC2", "FC3", "FC4"]
    stream = LiveStream(MemorySource(noise_eeg(16, 10), SYNTHETIC_NAMES), StubPredictor(half))
    assert stream.map.interpolated == ("FC1", "FC2", "FC3", "FC4")
    assert stream._warnings("low", 0.5, 1.0) == {}


def test_without_the_terminal_view_a_warning_is_one_stderr_line(monkeypatch, capsys):
    from physioemo.live import app

    source = MemorySource(noise_eeg(16, 1000), SYNTHETIC_NAMES, chunk=100)
    monkeypatch.setattr(app, "open_source", lambda options: source)
    monkeypatch.setattr(app, "train_synthetic_predictor", lambda *a: StubPredictor(DREAMER_NAMES))
    assert main(["live", "--json"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "physioemo: WARNING: 10 of 14 model channels are interpolated from other electrodes "
        "(AF3 FC5 T7 P7 O1 O2 P8 T8 FC6 AF4): most of what the model reads was never recorded"
    ]
    assert json.loads(out)["warnings"]["interpolated"].startswith("10 of 14")


# ----------------------------------------------------------------------------- class names
def test_class_names_come_from_the_label_registry(tmp_path):
    from physioemo import labels
    from physioemo.live.predictor import class_names, train_synthetic_predictor

    scheme = labels.make("dreamer", "binary", "arousal")
    stand_in = train_synthetic_predictor(["Fz", "Cz", "Pz"], 250.0)
    assert stand_in.labels == ["arousal low (<3)", "arousal high (>=3)"]
    assert stand_in.labels == [f"arousal {name}" for name in scheme.class_names]
    # a checkpoint of a registry scheme is named by the registry, whatever it stored
    meta = {"dataset": "wesad", "scheme": "3-class", "dimension": "condition"}
    assert class_names({**meta, "classes": ["a", "b", "c"]}) == ["baseline", "stress", "amusement"]
    own = {**meta, "dataset": "lab", "classes": ["calm", "tense"]}
    assert class_names(own) == ["calm", "tense"]  # a scheme the registry does not know
    refusal = r"^m.pt: key meta.labels: wesad's 3-class scheme has 3 classes, the model 2 outputs$"
    with pytest.raises(LiveError, match=refusal):
        class_names({**meta, "classes": ["a", "b"]}, "m.pt")
