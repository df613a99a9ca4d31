"""The terminal view of ``physioemo live`` and the closing summary as text.

A view has ``update(result, stream)`` (called for every prediction) and ``close()``; the web
view (`web.WebView`) has the same two methods.
"""

from __future__ import annotations

#: Quality states as shown.
MARKS = {"ok": "ok", "nan": "NaN", "railed": "RAIL"}


class TerminalView:
    """Redrawn in place with ANSI cursor moves, at most `fps` times a second."""

    def __init__(self, out, fps=10.0):
        self.out, self.period = out, 1.0 / fps
        self._lines = 0
        self._drawn_at = 0.0

    def update(self, result, stream) -> None:
        if result.timestamp - self._drawn_at < self.period:
            return
        self._drawn_at = result.timestamp
        lines = render(result, stream)
        up = f"\x1b[{self._lines}F" if self._lines else ""
        self.out.write(up + "".join(f"{line}\x1b[K\n" for line in lines) + "\x1b[J")
        self.out.flush()
        self._lines = len(lines)

    def close(self) -> None:
        pass


def render(result, stream) -> list[str]:
    """The view's lines for one prediction."""
    labels, counts = stream.predictor.labels, stream.counts
    width = max(map(len, labels))
    lines = [
        f"{stream.source.name} -> {stream.predictor.name}",
        f"channels: {stream.map.description}",
        f"t = {result.time:8.2f} s   prediction: {result.label}",
    ]
    for label, p in zip(labels, result.probabilities, strict=True):
        lines.append(f"  {label:<{width}} {p:6.1%} {'#' * int(round(30 * p))}")
    lines.append(
        f"latency {result.latency_ms:6.1f} ms   windows {counts.windows}   "
        f"dropped samples {counts.dropped}   reconnects {counts.reconnects}"
    )
    cells = [
        f"{name:>4} {MARKS[q]:>4} {rms:7.1f}uV"
        for name, q, rms in zip(stream.source.ch_names, result.quality, result.rms, strict=True)
    ]
    lines += ["  ".join(cells[i : i + 4]) for i in range(0, len(cells), 4)]
    return lines


def format_summary(summary: dict) -> str:
    """The exit summary as aligned text lines."""
    lines = []
    for key, value in summary.items():
        if isinstance(value, dict):
            value = "  ".join(f"{k} {v}" for k, v in value.items()) or "-"
        lines.append(f"{key:>20}: {value}")
    return "\n".join(lines)
