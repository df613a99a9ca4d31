"""The report's figures, drawn from a run's summary entries and fit reports: matplotlib figures
without pyplot state, MNE's `plot_topomap` and scikit-learn's `ConfusionMatrixDisplay`.
`report` embeds them in the page; docs/report.md says what each shows.
"""

from __future__ import annotations

import math

import numpy as np

from .published import headline

#: subplots per row of a grid figure, and the size of one subplot (inches)
COLUMNS, PANEL = 3, (4.6, 3.2)


def grid(count: int, columns: int = COLUMNS, panel=PANEL):
    """A matplotlib Figure (no pyplot state) with `count` panels in rows of `columns`; returns
    (figure, axes list), the unused panels hidden."""
    from matplotlib.figure import Figure

    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(panel[0] * columns, panel[1] * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for unused in axes[count:]:
        unused.set_visible(False)
    return figure, list(axes[:count])


def title(entry: dict) -> str:
    """A summary entry's panel title: protocol (LEAKS), model, features."""
    leaks = " (LEAKS)" if entry.get("leaks") else ""
    return f"{entry['protocol']}{leaks}\n{entry['model']} on {entry['features']}"


def paper_bars(compared: list[tuple[dict, dict]]):
    """Bars of each (leaky, honest) pair of summary entries on the published metric (accuracy
    where the papers published none), the published figure and the leaky row's chance on that
    metric marked; one figure."""
    figure, [axis] = grid(1, panel=(max(6.0, 2.2 * len(compared) + 1), 4.2))
    labels, legend = [], set()

    def once(label: str) -> str | None:
        """`label` the first time it is drawn, then None: one legend entry per kind."""
        if label in legend:
            return None
        legend.add(label)
        return label

    for position, (leaky, honest) in enumerate(compared):
        published = headline(
            leaky["dataset"], leaky["protocol"], leaky["dimension"], leaky["labels"]
        )
        metric = published.metric if published else "accuracy"
        bars = {"leaky protocol": (leaky, -0.2, "C3"), "honest protocol": (honest, 0.2, "C0")}
        for label, (entry, offset, colour) in bars.items():
            axis.bar(position + offset, 100 * entry[metric], 0.38, color=colour, label=once(label))
        axis.hlines(
            100 * leaky["chance"][metric],
            position - 0.4,
            position + 0.4,
            colors="k",
            linestyles="dashed",
            label=once("chance"),
        )
        if published:
            axis.plot(position - 0.2, 100 * published.value, "kD", label=once("published"))
        labels.append(
            f"{leaky['dimension']}, {leaky['model']}\n{leaky['protocol']}\nvs "
            f"{honest['protocol']}\n({metric})"
        )
    axis.set_xticks(range(len(compared)), labels, fontsize=8)
    axis.set_ylabel("score %")
    axis.set_ylim(0, 105)
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize=8)
    return figure


def subject_scores(axis, entry: dict, metric: str = "balanced_accuracy") -> None:
    """`metric` of each subject of a summary entry (balanced accuracy by default), its chance
    (the row's chance strategy on that subject) as a line on its bar."""
    scores = entry["per_subject"]
    x = np.arange(len(scores["subject"]))
    name = metric.replace("_", " ")
    axis.bar(x, 100 * np.asarray(scores[metric]), color="C0", label=name)
    chance = 100 * np.asarray(scores["chance"][metric])
    axis.hlines(chance, x - 0.45, x + 0.45, colors="C3", linewidth=2, label="chance")
    axis.set_xticks(x, scores["subject"], rotation=90, fontsize=7)
    axis.set_ylim(0, 100)
    axis.set_ylabel(f"{name} %")
    axis.set_title(title(entry), fontsize=9)


def confusion(axis, y_true, y_pred, names: list[str] | None, heading: str) -> None:
    """The confusion matrix of pooled predictions, each true class's row summing to 1.
    names: the class names (None: the class numbers)."""
    from sklearn.metrics import ConfusionMatrixDisplay

    n_classes = int(max(y_true.max(), y_pred.max())) + 1
    names = names or [str(c) for c in range(n_classes)]
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(names))),
        display_labels=names,
        normalize="true",
        values_format=".2f",
        ax=axis,
        colorbar=False,
        text_kw={"fontsize": 7},
        im_kw={"vmin": 0, "vmax": 1},
    )
    axis.set_title(heading, fontsize=8)
    axis.tick_params(labelsize=7)


def topomaps(means: dict):
    """Two figures of MNE topomaps (rows: classes, columns: bands): the class means and their
    deviation from the mean over classes; or a line saying why none can be drawn."""
    import mne

    from .. import montage

    placed = [i for i, name in enumerate(means["ch_names"]) if montage.canonical(name)]
    if len(placed) < 4:
        return "fewer than 4 electrodes with a 10-05 position: no topomap"
    names = [means["ch_names"][i] for i in placed]
    info = mne.create_info(names, 100.0, "eeg")
    info.set_montage(montage.digmontage(names))
    values = np.asarray(means["means"], dtype=float)[:, placed, :]  # (classes, chans, bands)
    deviation = values - values.mean(axis=0, keepdims=True)
    figures = []
    for data, symmetric in ((values, False), (deviation, True)):
        figures.append(_topomap_grid(data, info, means, symmetric))
    return tuple(figures)


def _topomap_grid(data, info, means, symmetric: bool):
    import mne

    n_classes, _, n_bands = data.shape
    figure, axes = grid(n_classes * n_bands, columns=n_bands, panel=(2.2, 2.0))
    for band in range(n_bands):
        limit = np.abs(data[:, :, band]).max()
        low, high = (
            (-limit, limit) if symmetric else (data[:, :, band].min(), data[:, :, band].max())
        )
        for label in range(n_classes):
            axis = axes[label * n_bands + band]
            image, _ = mne.viz.plot_topomap(
                data[label, :, band],
                info,
                axes=axis,
                show=False,
                vlim=(low, high),
                cmap="RdBu_r" if symmetric else "viridis",
                contours=0,
            )
            heading = means["class_names"][label] + (" − mean" if symmetric else "")
            axis.set_title(f"{heading}\n{means['bands'][band]}", fontsize=8)
        figure.colorbar(image, ax=axes[band::n_bands], shrink=0.6)
    return figure


def attention(maps: np.ndarray, names: list[str], classes: list[str], heading: str):
    """One panel per class of `maps` (n_classes, N, N): attention of each electrode (query
    row) to each other (attended column), one colour scale; one figure."""
    figure, axes = grid(len(maps), columns=min(len(maps), 3), panel=(4.4, 4.0))
    for axis, label in zip(axes, range(len(maps)), strict=True):
        image = axis.imshow(maps[label], vmin=maps.min(), vmax=maps.max(), cmap="magma")
        axis.set_xticks(range(len(names)), names, rotation=90, fontsize=6)
        axis.set_yticks(range(len(names)), names, fontsize=6)
        axis.set_title(classes[label], fontsize=9)
        axis.set_xlabel("attended electrode (key)", fontsize=7)
        axis.set_ylabel("electrode (query)", fontsize=7)
    figure.colorbar(image, ax=axes, shrink=0.7)
    figure.suptitle(heading, fontsize=10)
    return figure


def loss_curves(axis, reports: list[dict], heading: str) -> None:
    """The training and validation loss per epoch of each fit report (one colour each) and
    the epoch each kept."""
    for number, report in enumerate(reports):
        _curves(axis, report, f"C{number % 10}")
    axis.set_title(heading, fontsize=8)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")


def _curves(axis, report: dict, colour: str) -> None:
    """One job's training and validation loss per epoch, and the epoch it kept."""
    history = report["history"]
    epochs = [record.get("epoch", i) for i, record in enumerate(history)]
    for name, style in (("train_loss", "-"), ("val_loss", "--")):
        values = [record.get(name) for record in history]
        if any(v is not None for v in values):
            values = [np.nan if v is None else v for v in values]
            axis.plot(epochs, values, style, color=colour, linewidth=1, alpha=0.7)
    kept = report.get("epoch_kept")
    if kept in epochs:
        record = history[epochs.index(kept)]
        value = record.get("val_loss", record.get("train_loss"))
        if value is not None:
            axis.plot(kept, value, "o", color=colour, markersize=4)


def cliques(mean_ranks, cd: float) -> list[tuple[int, int]]:
    """Groups of rows whose mean ranks lie within `cd` of each other, as (first, last) positions
    in ascending rank order, the maximal ones only (a critical-difference diagram's bars)."""
    ranks = np.sort(np.asarray(mean_ranks, dtype=float))
    found: list[tuple[int, int]] = []
    for first in range(ranks.size):
        last = int(np.searchsorted(ranks, ranks[first] + cd + 1e-12, side="right")) - 1
        if last > first and not any(a <= first and last <= b for a, b in found):
            found.append((first, last))
    return found


def critical_difference(names: list[str], mean_ranks, cd: float, heading: str):
    """Demšar's (2006) critical-difference diagram: each row at its mean rank on a rank axis
    (1: best, on the left), the critical difference as a bar above the axis, and a thick line
    under the axis joining rows whose mean ranks differ by less than it; one figure."""
    order = np.argsort(mean_ranks, kind="stable")
    ranks = np.asarray(mean_ranks, dtype=float)[order]
    names = [names[i] for i in order]
    k, step = len(names), 0.35
    left = (k + 1) // 2
    figure, [axis] = grid(1, panel=(9.0, 1.4 + step * left))
    axis.hlines(0, 1, k, color="k", linewidth=1)
    for tick in range(1, k + 1):
        axis.vlines(tick, 0, 0.08, color="k", linewidth=1)
        axis.text(tick, 0.12, str(tick), ha="center", va="bottom", fontsize=8)
    axis.hlines(0.55, 1, 1 + cd, color="C3", linewidth=2)
    axis.text(1 + cd / 2, 0.62, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    for level, (first, last) in enumerate(cliques(ranks, cd)):
        y = -0.12 - 0.1 * level
        axis.hlines(y, ranks[first] - 0.03, ranks[last] + 0.03, color="k", linewidth=3)
    depth = -0.25 - 0.1 * len(cliques(ranks, cd))
    for position, (name, rank) in enumerate(zip(names, ranks, strict=True)):
        on_left = position < left
        y = depth - step * (position if on_left else k - 1 - position)
        end = 0.6 if on_left else k + 0.4
        axis.plot([rank, rank, end], [0, y, y], color="0.3", linewidth=0.8)
        text = f"{name} ({rank:.2f})"
        axis.text(end, y, text, ha="right" if on_left else "left", va="center", fontsize=8)
    axis.set_xlim(0.6, k + 0.4)
    axis.set_ylim(depth - step * left, 0.9)
    axis.set_axis_off()
    axis.set_title(heading, fontsize=9)
    return figure
