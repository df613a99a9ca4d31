"""The terminal view of ``physioemo live`` and the closing summary as text.

A view has ``update(result, stream)`` (called for every prediction) and ``close()``; the web
view (`web.WebView`) has the same two methods. With the true labels of a replayed recording,
the terminal view draws a track of the last windows' true and predicted classes, one
character per window, so the audience sees the prediction follow the stimulus. Loud warnings
(`stream.WindowResult.warnings`) head the view in bold red.

Names come from files, checkpoints and streams (class, channel, stream names, units): every
line is passed through `physioemo.errors.clean`, so none can move the cursor, retitle the
terminal or hide text; the view's own cursor moves and colours are added after.
"""

from __future__ import annotations

from collections import deque

from ..errors import clean

#: Quality states as shown.
MARKS = {"ok": "ok", "nan": "NaN", "railed": "RAIL"}
#: windows the track shows
TRACK = 60
#: longest line drawn (characters; longer ones are cut, saying so)
LINE_LIMIT = 400
#: the view's own escape sequences: bold red on, attributes off
LOUD, PLAIN = "\x1b[1;31m", "\x1b[0m"


class TerminalView:
    """Redrawn in place with ANSI cursor moves, at most `fps` times a second."""

    def __init__(self, out, fps=10.0):
        self.out, self.period = out, 1.0 / fps
        self._lines = 0
        self._drawn_at = 0.0
        self.track = deque(maxlen=TRACK)  # (predicted, true label) of the last windows

    def update(self, result, stream) -> None:
        self.track.append((result.label, result.true_label))
        if result.timestamp - self._drawn_at < self.period:
            return
        self._drawn_at = result.timestamp
        lines = render(result, stream, self.track)
        lines = [f"{LOUD}{line}{PLAIN}" if line.startswith("!! ") else line for line in lines]
        up = f"\x1b[{self._lines}F" if self._lines else ""
        self.out.write(up + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
        self.out.flush()
        self._lines = len(lines)

    def close(self) -> None:
        pass


def render(result, stream, track=()) -> list[str]:
    """The view's lines for one prediction, each `clean`: loud warnings first ("!! ..."),
    then source and model, channels, probabilities, the track (`track`: (predicted, true
    label) of the last windows, oldest first, `track_lines`), physiology and quality."""
    labels, counts = stream.predictor.labels, stream.counts
    shown = [clean(label, 60) for label in labels]
    width = max(map(len, shown))
    truth = f"   true: {result.true_label}" if result.true_label is not None else ""
    lines = [f"!! {text}" for text in result.warnings.values()]
    lines += [
        f"{stream.source.name} -> {stream.predictor.name}",
        f"channels: {stream.map.description}",
        f"t = {result.time:8.2f} s   prediction: {result.label}{truth}",
    ]
    for label, p in zip(shown, result.probabilities, strict=True):
        lines.append(f"  {label:<{width}} {p:6.1%} {'#' * int(round(30 * p))}")
    if any(true is not None for _, true in track):
        lines += track_lines(track, labels)
    lines += _physiology(result)
    lines.append(
        f"latency {result.latency_ms:6.1f} ms   windows {counts.windows}   "
        f"dropped samples {counts.dropped}   reconnects {counts.reconnects}"
    )
    unit = stream.main.unit
    cells = [
        f"{name:>4} {MARKS[q]:>4} {rms:7.1f}{unit}"
        for name, q, rms in zip(stream.source.ch_names, result.quality, result.rms, strict=True)
    ]
    lines += ["  ".join(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    return [clean(line, LINE_LIMIT) for line in lines]


def track_lines(track, labels) -> list[str]:
    """The true and the predicted class of each window of `track` as one character each
    (the class's number; "-" for a true label that is none of the model's classes, " " where
    none is known), the agreement over the windows with a known class, and the legend."""
    number = {label: str(i) for i, label in enumerate(labels)}
    true = "".join(" " if t is None else number.get(t, "-") for _, t in track)
    predicted = "".join(number[p] for p, _ in track)
    known = [(p, t) for p, t in track if t in number]
    agreement = (
        f"   agreement {sum(p == t for p, t in known) / len(known):.0%} of {len(known)}"
        if known
        else ""
    )
    legend = "  ".join(f"{i} {label}" for i, label in enumerate(labels))
    return [f"  true  {true}", f"  pred  {predicted}{agreement}", f"  ({legend})"]


def _physiology(result) -> list[str]:
    """The peripheral inputs and the EDA (PINN) of a window, when it has them."""
    lines = []
    if result.physiology:
        cells = [f"{name} {value:.3g}" for name, value in result.physiology.items()]
        lines += ["  " + "  ".join(cells[i : i + 5]) for i in range(0, len(cells), 5)]
    if result.eda:
        eda = result.eda
        measured = (
            f"measured {eda['measured']:.3g} uS (scaled {eda['measured_scaled']:.2f}), "
            if "measured" in eda
            else ""
        )
        lines.append(f"  EDA {measured}predicted {eda['predicted']:.2f} (scaled)")
    return lines


def format_summary(summary: dict) -> str:
    """The exit summary as aligned text lines."""
    lines = []
    for key, value in summary.items():
        if key == "warnings":
            lines += [f"{'WARNING':>20}: {text}" for text in value.values()]
            continue
        if isinstance(value, dict):
            value = "  ".join(f"{k} {v}" for k, v in value.items()) or "-"
        lines.append(f"{key:>20}: {value}")
    return "\n".join(clean(line, 2000) for line in lines)
