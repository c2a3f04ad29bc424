"""crisk.report: the charts of `crisk report` from Python, for a notebook (the Report shows
inline) or a self-contained HTML file. Drawn with matplotlib (pinned in requirements.txt),
each figure embedded as inline SVG: nothing is fetched when the page opens."""
from __future__ import annotations

import html
import io
import math
import os
from typing import Dict, Optional

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from . import capi
from ._bundle import Bundle, Declarations, PathLike
from ._events import Events
from ._errors import CriskError
from ._monitor import Monitor

PERCENTS = (1, 2, 5, 10, 20)
REASONS = 3
CHARTS = ("gains", "lift", "at-k", "distribution", "calibration", "lanes", "drift",
          "reasons")


def _top(n: int, k: int) -> int:
    """ceil(n k / 100) in integers, as `crisk evaluate` counts the top k%."""
    return (n * k + 99) // 100


def _ranked(score: np.ndarray, label: np.ndarray, revenue: np.ndarray) -> pd.DataFrame:
    """The declarations by score, highest first, NaN last, ties in input order."""
    key = np.where(np.isnan(score), np.inf, -score)
    order = np.lexsort((np.arange(len(score)), key))
    return pd.DataFrame({"score": score[order], "label": label[order],
                         "revenue": revenue[order]})


def _at_k(ranked: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and revenue share at every k% of 0..100."""
    n = len(ranked)
    hits = np.concatenate([[0], np.cumsum(ranked["label"].to_numpy())])
    rev = np.concatenate([[0], np.cumsum(ranked["revenue"].to_numpy())])
    rows = []
    for k in range(101):
        m = _top(n, k)
        rows.append({"k": k, "declarations": m,
                     "precision": hits[m] / m if m else math.nan,
                     "recall": hits[m] / hits[-1] if hits[-1] else math.nan,
                     "revenue": rev[m] / rev[-1] if rev[-1] else math.nan})
    return pd.DataFrame(rows).set_index("k")


class Report:
    """The charts of a report: ``figures`` (chart id -> matplotlib Figure), ``at_k`` (the
    precision / recall / revenue table at 1, 2, 5, 10 and 20%), ``drift`` (Monitor.report,
    or None without a reference) and ``lanes``. Shows inline in a notebook; ``save``
    writes one self-contained HTML file."""

    def __init__(self, title: str, figures: Dict[str, Figure], at_k: pd.DataFrame,
                 drift: Optional[pd.DataFrame], lanes: pd.DataFrame):
        self.title, self.figures, self.at_k = title, figures, at_k
        self.drift, self.lanes = drift, lanes

    def _svg(self, chart: str) -> str:
        out = io.StringIO()
        self.figures[chart].savefig(out, format="svg")
        text = out.getvalue()
        body = text[text.index("<svg"):]
        return body.replace("<svg ", f'<svg id="{chart}" class="chart" ', 1)

    def _repr_html_(self) -> str:
        sections = "".join(f"<section>{self._svg(c)}</section>" for c in self.figures)
        return (f"<div class=\"crisk-report\"><h2>{html.escape(self.title)}</h2>"
                f"{sections}{self.at_k.to_html(float_format='%.4f')}</div>")

    def save(self, path: PathLike) -> None:
        """Writes the report as one HTML file that opens offline."""
        with open(os.fspath(path), "w", encoding="utf-8") as f:
            f.write("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                    f"<title>{html.escape(self.title)}</title><style>section{{display:"
                    "inline-block}</style></head><body>" + self._repr_html_() +
                    "</body></html>\n")


def _figure(title: str, xlabel: str, ylabel: str) -> tuple:
    fig = Figure(figsize=(6.4, 3.6))
    ax = fig.add_subplot()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig, ax


def _selection_figures(model: str, curve: pd.DataFrame, revenue: bool) -> Dict[str, Figure]:
    k = curve.index.to_numpy()
    base = curve["recall"].iloc[-1] and curve["precision"].iloc[-1]
    figs = {}
    figs["gains"], ax = _figure("Cumulative gains", "declarations inspected (%)",
                                "frauds found (%)")
    ax.plot(k, 100 * curve["recall"], label=model)
    ax.plot([0, 100], [0, 100], "--", label="random selection")
    ax.legend()
    figs["lift"], ax = _figure("Lift over random selection", "declarations inspected (%)",
                               "lift")
    ax.plot(k[1:], curve["precision"].iloc[1:] / base, label="lift")
    figs["at-k"], ax = _figure("Precision, recall and revenue at k%",
                               "declarations inspected, k (%)", "%")
    for column in ("precision", "recall") + (("revenue",) if revenue else ()):
        ax.plot(k[1:], 100 * curve[column].iloc[1:], label=column)
    ax.legend()
    return figs


def _outcome_figures(ranked: pd.DataFrame) -> Dict[str, Figure]:
    figs = {}
    scored = ranked.dropna(subset=["score"])
    figs["distribution"], ax = _figure("Score distribution by outcome", "score",
                                       "declarations of the outcome (%)")
    top = max(float(scored["score"].max()), 1e-12) if len(scored) else 1.0
    bins = np.linspace(0, top, 21)
    for value, name in ((0, "not fraud (label 0)"), (1, "fraud (label 1)")):
        s = scored.loc[scored["label"] == value, "score"]
        counts, _ = np.histogram(s.clip(upper=top), bins=bins)
        ax.plot((bins[:-1] + bins[1:]) / 2, 100 * counts / max(len(s), 1), label=name)
    ax.legend()
    figs["calibration"], ax = _figure("Calibration (tenths by score)", "mean score",
                                      "fraud rate")
    tenths = np.array_split(np.arange(len(scored)), 10)
    mean = [scored["score"].iloc[t].mean() for t in tenths if len(t)]
    rate = [scored["label"].iloc[t].mean() for t in tenths if len(t)]
    ax.plot(mean, rate, marker="o", label="observed")
    edge = max(mean + rate + [1e-12])
    ax.plot([0, edge], [0, edge], "--", label="perfect calibration")
    ax.legend()
    return figs


def _bars(title: str, labels, values, notes) -> Figure:
    fig = Figure(figsize=(6.4, 0.4 + 0.3 * max(len(labels), 1)))
    ax = fig.add_subplot()
    ax.set_title(title)
    y = np.arange(len(labels))[::-1]
    ax.barh(y, values)
    ax.set_yticks(y, labels)
    for yi, v, note in zip(y, values, notes):
        ax.text(v, yi, f" {note}", va="center", fontsize=8)
    fig.tight_layout()
    return fig


def report(bundle: Bundle, declarations: Declarations, label: str,
           revenue: Optional[str] = None, model: Optional[str] = None,
           events: Optional[Events] = None, device_keys: Optional[PathLike] = None,
           threads: int = 0) -> Report:
    """Scores labelled ``declarations`` (a DataFrame with a ``label`` column of 0/1, and
    ``revenue`` when given) with ``bundle`` and returns the charts `crisk report` draws:
    gains, lift, precision / recall / revenue at k%, score distributions by outcome,
    calibration, lane mix, drift per feature (when the bundle has reference
    distributions) and the red lane's most frequent reason codes (when the policy's
    score model gives them). ``model`` is the one ranked (default: the policy's score
    model, else the first)."""
    frame = pd.DataFrame(declarations)
    policy_model = capi.crisk_bundle_score_model(bundle._live())
    if model is None:
        model = bundle.model_names[max(policy_model, 0)]
    if model not in bundle.model_names or bundle.score_columns[model] != [model]:
        raise ValueError(f"model {model!r} is no one-output model of the bundle "
                         f"({bundle.model_names})")
    explain = REASONS if policy_model >= 0 else 0
    try:
        result = bundle.score(frame, threads=threads, events=events,
                              device_keys=device_keys, explain=explain)
    except CriskError:  # a score model with several margins gives no reasons
        explain = 0
        result = bundle.score(frame, threads=threads, events=events,
                              device_keys=device_keys)
    scores = result.scores
    kept = frame.loc[scores.index]
    y = pd.to_numeric(kept[label]).to_numpy(np.float64)
    rev = (pd.to_numeric(kept[revenue]).to_numpy(np.float64) if revenue
           else np.zeros(len(kept)))
    ranked = _ranked(scores[model].to_numpy(np.float64), y, rev)
    curve = _at_k(ranked)
    figs = _selection_figures(model, curve, revenue is not None)
    figs.update(_outcome_figures(ranked))
    lanes = pd.DataFrame({"declarations": scores["lane"].value_counts(),
                          "fraud_rate": pd.Series(y, index=scores.index)
                          .groupby(scores["lane"]).mean()}).reindex(bundle.lanes).fillna(0)
    share = 100 * lanes["declarations"] / max(len(scores), 1)
    figs["lanes"] = _bars("Lane mix (% of declarations)", list(lanes.index), share,
                          [f"{int(c)} ({s:.1f}%), fraud rate {r:.3f}" for c, s, r in
                           zip(lanes["declarations"], share, lanes["fraud_rate"])])
    drift = None
    try:
        monitor = Monitor(bundle)
        monitor.add(frame, events, device_keys, threads)
        drift = monitor.report()
        top = drift.sort_values("psi", ascending=False).head(15)
        figs["drift"] = _bars("Drift against the reference (PSI, highest first)",
                              list(top.index), top["psi"],
                              [f"{p:.4f} {lv}" for p, lv in zip(top["psi"], top["level"])])
    except CriskError:
        pass  # no reference distributions: no drift chart
    if explain:
        red = scores[scores["lane"] == bundle.lanes[0]]
        fields = pd.concat([red[f"reason_{k}_field"] for k in range(1, explain + 1)])
        counts = fields.dropna().value_counts().head(15)
        if len(counts):
            figs["reasons"] = _bars("Most frequent reason codes of the red lane",
                                    list(counts.index), counts.to_numpy(),
                                    [str(c) for c in counts])
    return Report(f"crisk report: {bundle.path}", figs,
                  curve.loc[list(PERCENTS)], drift, lanes)
