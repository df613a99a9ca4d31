"""The report's figures, drawn from a run's summary entries and fit reports: matplotlib figures
without pyplot state and MNE's `plot_topomap`. `report` numbers, captions and embeds them;
docs/report.md says what each shows.
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
    where the papers published none): mean over subjects with ± 1 std error bars, each bar's
    own row's chance on that metric as a dashed line over it, the published figure marked;
    one figure. Bars carry the gid "leaky i" / "honest i" and their chance lines "chance
    leaky i" / "chance honest i" (i: the pair's position), for a reader of the figure."""
    figure, [axis] = grid(1, panel=(max(6.0, 2.4 * len(compared) + 1), 4.4))
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
        bars = {"leaky": (leaky, -0.2, "C3"), "honest": (honest, 0.2, "C0")}
        for role, (entry, offset, colour) in bars.items():
            x = position + offset
            std = entry.get(f"{metric}_std")
            axis.bar(
                x,
                100 * entry[metric],
                0.38,
                color=colour,
                label=once(f"{role} protocol"),
                yerr=None if std is None else 100 * std,
                capsize=4,
                gid=f"{role} {position}",
            )
            axis.hlines(
                100 * entry["chance"][metric],
                x - 0.19,
                x + 0.19,
                colors="k",
                linestyles="dashed",
                label=once("chance"),
                gid=f"chance {role} {position}",
            )
        if published:
            axis.plot(position - 0.2, 100 * published.value, "kD", label=once("published"))
        labels.append(
            f"{leaky['dimension']}, {leaky['model']}\n{leaky['protocol']}\nvs "
            f"{honest['protocol']}\n({metric.replace('_', ' ')}; n = {leaky['n_subjects']}"
            f" / {honest['n_subjects']})"
        )
    axis.set_xticks(range(len(compared)), labels, fontsize=8)
    axis.set_ylabel("score (%), mean ± std over subjects")
    axis.set_ylim(0, 105)
    axis.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=4, fontsize=8)
    return figure


def subject_scores(axis, entry: dict, metric: str = "balanced_accuracy") -> None:
    """`metric` of each subject of a summary entry (balanced accuracy by default), its chance
    (the row's chance strategy on that subject) as a line on its bar (gid "chance")."""
    scores = entry["per_subject"]
    x = np.arange(len(scores["subject"]))
    name = metric.replace("_", " ")
    axis.bar(x, 100 * np.asarray(scores[metric]), color="C0", label=name)
    chance = 100 * np.asarray(scores["chance"][metric])
    axis.hlines(chance, x - 0.45, x + 0.45, colors="C3", linewidth=2, label="chance", gid="chance")
    axis.set_xticks(x, scores["subject"], rotation=90, fontsize=7)
    axis.set_ylim(0, 100)
    axis.set_ylabel(f"{name} (%)")
    axis.set_title(title(entry), fontsize=9)


def confusion(axis, y_true, y_pred, names: list[str] | None, heading: str):
    """The confusion matrix of pooled predictions: each cell's count of windows and its
    fraction of the true class (row), coloured by that fraction (0-1); returns the image
    (for a colour bar). names: the class names (None: the class numbers)."""
    from sklearn.metrics import confusion_matrix

    n_classes = int(max(y_true.max(), y_pred.max())) + 1
    names = names or [str(c) for c in range(n_classes)]
    counts = confusion_matrix(y_true, y_pred, labels=list(range(len(names))))
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    image = axis.imshow(fractions, vmin=0, vmax=1, cmap="Blues")
    size = 9 if len(names) <= 3 else 8 if len(names) <= 5 else 6
    for (row, column), count in np.ndenumerate(counts):
        fraction = fractions[row, column]
        axis.text(
            column,
            row,
            f"{fraction:.2f}\n({count})",
            ha="center",
            va="center",
            fontsize=size,
            color="white" if fraction > 0.6 else "black",
        )
    ticks = range(len(names))
    axis.set_xticks(ticks, names, fontsize=8, rotation=30 if len(names) > 3 else 0)
    axis.set_yticks(ticks, names, fontsize=8)
    axis.set_xlabel("predicted class", fontsize=8)
    axis.set_ylabel("true class", fontsize=8)
    axis.set_title(f"{heading}\nn = {counts.sum()} test windows", fontsize=8)
    return image


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


#: the smallest distance between two tick labels of a heatmap (points), so they stay apart
TICK_SPACING = 8.0


def attention(maps: np.ndarray, names: list[str], classes: list[str], heading: str):
    """One panel per class of `maps` (n_classes, N, N): attention of each electrode (query
    row) to each other (attended column), one colour scale; one figure. Panels grow with N
    and label every k-th electrode when N labels would sit closer than `TICK_SPACING`."""
    n = len(names)
    side = min(max(4.4, 0.09 * n + 1.8), 8.0)
    columns = min(len(maps), 2 if n > 32 else 3)
    figure, axes = grid(len(maps), columns=columns, panel=(side, side - 0.4))
    step = max(1, math.ceil(TICK_SPACING * n / (0.75 * side * 72)))
    ticks = list(range(0, n, step))
    for axis, label in zip(axes, range(len(maps)), strict=True):
        image = axis.imshow(maps[label], vmin=maps.min(), vmax=maps.max(), cmap="magma")
        axis.set_xticks(ticks, [names[i] for i in ticks], rotation=90, fontsize=7)
        axis.set_yticks(ticks, [names[i] for i in ticks], fontsize=7)
        axis.set_title(classes[label], fontsize=9)
        axis.set_xlabel("attended electrode (key)", fontsize=8)
        axis.set_ylabel("electrode (query)", fontsize=8)
    figure.colorbar(image, ax=axes, shrink=0.7, label="attention weight")
    figure.suptitle(heading, fontsize=10)
    return figure


def loss_curves(axis, reports: list[dict], heading: str) -> None:
    """Training (solid) and validation (dashed) loss per epoch over the fit reports of one
    result row: the median over the folds that ran each epoch and the inter-quartile range
    as a band; a tick at the bottom per fold at the epoch it kept; integer epochs."""
    from matplotlib.ticker import MaxNLocator

    for name, style, colour in (("train_loss", "-", "C0"), ("val_loss", "--", "C1")):
        epochs, quartiles = loss_quartiles(reports, name)
        if epochs.size:
            low, median, high = quartiles
            label = name.replace("_loss", "").replace("val", "validation")
            axis.plot(epochs, median, style, color=colour, linewidth=1.5, label=f"{label} median")
            axis.fill_between(epochs, low, high, color=colour, alpha=0.25, linewidth=0)
    kept = [r["epoch_kept"] for r in reports if isinstance(r.get("epoch_kept"), int)]
    if kept:
        axis.plot(
            kept,
            np.zeros(len(kept)),
            "|",
            color="k",
            markersize=10,
            transform=axis.get_xaxis_transform(),
            label="epoch kept",
        )
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_title(heading, fontsize=8)
    axis.set_xlabel("epoch")
    axis.set_ylabel("loss")


def loss_quartiles(reports: list[dict], name: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, (3, n_epochs) 25th, 50th and 75th percentiles of the loss `name` over the
    reports' histories that recorded it at each epoch); empty when none did."""
    values: dict[int, list[float]] = {}
    for report in reports:
        for index, record in enumerate(report.get("history", [])):
            if record.get(name) is not None:
                values.setdefault(int(record.get("epoch", index)), []).append(record[name])
    epochs = np.array(sorted(values), dtype=int)
    quartiles = np.array([np.percentile(values[e], [25, 50, 75]) for e in epochs]).reshape(-1, 3)
    return epochs, quartiles.T


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
