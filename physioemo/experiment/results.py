"""Finished fold jobs as tables: `Results`, what `cross_validate` returns and
`physioemo.experiment.load(RUN)` reads back from a run folder.

    results = cross_validate(windows, y, "logreg", protocol)
    results.to_frame()        # pandas: one row per fold and test subject, its scores
    results.per_subject()     # one row per result row and subject, each score beside its chance
    results.summary_frame()   # one row per result row: mean, std and chance of each score
    results.summary()         # `evaluation.summary.summarise`'s entries (what summary.json holds)

A `Results` is a list of the jobs (dicts as the run store keeps them), so code written for
`cross_validate`'s list, e.g. ``summarise(results)``, keeps working.
"""

from __future__ import annotations

import numpy as np

from ..evaluation.audit import leak_evidence, mark_leaks
from ..evaluation.metrics import confusion_score
from ..evaluation.summary import PER_SUBJECT, ROW_KEYS, summarise

#: a job's columns in `Results.to_frame`, before the test subject
JOB_COLUMNS = (
    "key",
    *ROW_KEYS[:3],
    "preset",
    *ROW_KEYS[3:],
    "fold",
    "subjects",
    "leaks",
    "n_train",
)


class Results(list):
    """Finished fold jobs (each a dict: identity, sizes, per-window test predictions, fit
    report, timings) and what their summary needs.

    planned: every planned job (a run folder's; None: the jobs given are all). experiment:
    the run folder's `Experiment` (its permutations and seed set the summary's), None for
    `cross_validate`. audits: audit key -> leakage audit (`evaluation.audit`); a row whose
    audit found a leak is marked leaky. environment, sources: what the run folder recorded.
    """

    def __init__(
        self,
        jobs=(),
        *,
        planned: list[dict] | None = None,
        experiment=None,
        audits: dict | None = None,
        environment: dict | None = None,
        sources: dict | None = None,
    ):
        super().__init__(jobs)
        self.planned = planned
        self.experiment = experiment
        self.audits = audits or {}
        self.environment = environment
        self.sources = sources or {}

    def __repr__(self) -> str:
        rows = {tuple(job[k] for k in ROW_KEYS) for job in self}
        return f"<Results: {len(self)} jobs of {len(rows)} result rows>"

    def summary(self, permutations: int | None = None) -> list[dict]:
        """One entry per result row (`evaluation.summary.summarise`), leaks marked from each
        row's protocol and audit. permutations: permutation p-values (default: the
        experiment's, else none)."""
        if not self:
            return []
        experiment = self.experiment
        if permutations is None:
            permutations = experiment.permutations if experiment else 0
        seed = (experiment.seed if experiment else None) or 0
        found = summarise(list(self), self.planned, permutations, seed)
        return mark_leaks(found, self.audits)

    def to_frame(self):
        """A pandas DataFrame, one row per job and subject among its test windows: the job
        (`JOB_COLUMNS`; "subjects": those it held out; "leaks": declared or found by its
        audit), "subject", "n_test" (that subject's test windows) and the `PER_SUBJECT`
        scores of that subject's test windows in that fold."""
        import pandas as pd

        records = []
        for job in self:
            predictions = job["predictions"]
            leaks = bool(leak_evidence(job, self.audits))
            for subject in np.unique(predictions["subject"]):
                mask = predictions["subject"] == subject
                y_true, y_pred = predictions["y_true"][mask], predictions["y_pred"][mask]
                scores = {
                    name: confusion_score(y_true, y_pred, job["n_classes"], name)
                    for name in PER_SUBJECT
                }
                records.append(
                    {
                        **{k: job[k] for k in JOB_COLUMNS},
                        "leaks": leaks,
                        "subject": str(subject),
                        "n_test": int(mask.sum()),
                        **scores,
                    }
                )
        columns = [*JOB_COLUMNS, "subject", "n_test", *PER_SUBJECT]
        return pd.DataFrame.from_records(records, columns=columns)

    def per_subject(self, summary: list[dict] | None = None):
        """`per_subject_frame` of the summary (computed when not given)."""
        return per_subject_frame(self.summary() if summary is None else summary)

    def summary_frame(self, summary: list[dict] | None = None):
        """`summary_frame` of the summary (computed when not given)."""
        return summary_frame(self.summary() if summary is None else summary)


def per_subject_frame(summary: list[dict]):
    """A pandas DataFrame, one row per result row and subject (what per_subject.csv holds):
    the row (`ROW_KEYS`, "leaks"), "subject", and per `PER_SUBJECT` score the subject's score
    on its pooled test predictions and "chance_<score>", the row's chance strategy on that
    subject's folds; with permutations "p_value" and "p_holm" (Holm over the row's subjects)."""
    import pandas as pd

    records = []
    for entry in summary:
        table = entry["per_subject"]
        tested = [name for name in ("p_value", "p_holm") if name in table]
        for i, subject in enumerate(table["subject"]):
            record = {**{k: entry[k] for k in ROW_KEYS}, "leaks": entry["leaks"]}
            record["subject"] = subject
            for score in PER_SUBJECT:
                record[score] = table[score][i]
                record[f"chance_{score}"] = table["chance"][score][i]
            records.append({**record, **{name: table[name][i] for name in tested}})
    scores = [name for score in PER_SUBJECT for name in (score, f"chance_{score}")]
    return pd.DataFrame.from_records(records, columns=[*ROW_KEYS, "leaks", "subject", *scores])


def summary_frame(summary: list[dict]):
    """A pandas DataFrame, one row per result row: the row (`ROW_KEYS`, "leaks"), subjects,
    jobs and planned jobs; per score its mean and std over subjects, "chance_<score>" and
    "beats_chance_<score>" (`evaluation.summary.row_entry`); the permutation p-value when the
    summary has one."""
    import pandas as pd

    records = []
    for entry in summary:
        record = {k: entry[k] for k in (*ROW_KEYS, "leaks", "n_subjects", "n_jobs", "n_planned")}
        for score, chance in entry["chance"].items():
            record.update({score: entry[score], f"{score}_std": entry[f"{score}_std"]})
            record[f"chance_{score}"] = chance
            record[f"beats_chance_{score}"] = entry["beats_chance"][score]
        if "p_value" in entry:
            record.update(
                p_value=entry["p_value"], subjects_significant=entry["subjects_significant"]
            )
        records.append(record)
    return pd.DataFrame.from_records(records)
