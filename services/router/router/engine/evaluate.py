"""Evaluate the routing engine: ``make eval`` (``python -m router.engine.evaluate``).

Datasets, each reported per language (and, for Chinese, per script):

- ``held-out``: the training set's held-out scenario groups (:func:`router.engine.train.split`), classified by a
  model trained *without* those groups in this very run (the shipped artifact has seen them). Traditional-Chinese
  rows count under ``zh-hant``; every simplified held-out row is also converted to traditional characters
  (``zh-hant*``, needs zhconv) to check that one model serves both scripts.
- ``writers-held-out`` (``--writers``, off by default: it trains a second model, three more minutes): every report
  of some writers (:func:`router.engine.train.split_writers`; default :data:`WRITERS_HELD_OUT`), classified by a
  model trained on the other writers' reports only. The held-out split's groups come from writers whose other
  reports the model has learnt from; this one measures phrasing the model has never met.
- ``independent``: ``services/router/training/eval/*.jsonl``, reports written for evaluation only by authors who
  never saw the training data (provenance beside them), classified by the shipped artifact, which never trained on
  them. They carry full labels (departments, priority) and ``lead_ok``.
- every ``*.jsonl`` in ``../shared/data/public-eval/`` (relative to the repository root; ``--public-eval DIR``
  overrides; skipped with a message when absent): real-world texts, classified by the shipped artifact. They are
  for evaluation only: nothing here trains or tunes on them.

Metrics (weighted by a row's ``weight`` where present): police-matter recall and precision, police/non-police
accuracy, police reached (a police matter decided as one, or sent to police while it waits in triage), lead accuracy (the lead is in ``lead_ok``, or equals the row's ``lead``), department-set F1 (where the
row has its full department set), P1 recall (where the row has a priority), the share sent to review, the lead accuracy of the reports not sent to review, and the
keyword classifier alone for comparison. A confusion table (gold lead -> decided lead, the most frequent
mistakes) follows each dataset. All reports are classified at 2025-12-10 09:00 UTC (inside the heating season).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from router.engine.combiner import RoutingEngine
from router.engine.model import RoutingModel
from router.routing.classifier import RoutingDecision
from shared.registry import Registry, load_registry

ROOT = Path(__file__).resolve().parents[4]
PUBLIC_EVAL_DIR = ROOT.parent / "shared" / "data" / "public-eval"
INDEPENDENT_DIR = Path(__file__).resolve().parents[2] / "training" / "eval"
AT = datetime(2025, 12, 10, 9, tzinfo=UTC)
# the writers held out by ``--writers`` without codes (6,016 reports): English from North America (ene) and as it is
# used around the world (enf), Chinese written reports (zhe) and traditional-script Chinese from Hong Kong, Taiwan
# and Macau (zhf); held out to check the engine's changes since stop 17
WRITERS_HELD_OUT = ("ene", "enf", "zhe", "zhf")


@dataclass(frozen=True)
class Case:
    text: str
    lang: str
    police: bool
    lead_ok: tuple[str, ...]
    departments: frozenset[str] | None = None
    priority: str | None = None
    weight: float = 1.0


@dataclass
class Tally:
    n: float = 0.0
    police_tp: float = 0.0
    police_fp: float = 0.0
    police_fn: float = 0.0
    police_ok: float = 0.0
    police_reached: float = 0.0
    lead_ok: float = 0.0
    f1_sum: float = 0.0
    f1_n: float = 0.0
    p1_n: float = 0.0
    p1_hit: float = 0.0
    p1_said: float = 0.0
    review: float = 0.0
    auto_ok: float = 0.0
    rules_lead_ok: float = 0.0
    rules_police_tp: float = 0.0

    def add(self, case: Case, d: RoutingDecision, rules: RoutingDecision | None) -> None:
        w = case.weight
        self.n += w
        if case.police and d.police:
            self.police_tp += w
        elif d.police:
            self.police_fp += w
        elif case.police:
            self.police_fn += w
        self.police_ok += w * (case.police == d.police)
        self.police_reached += w * (case.police and (d.police or "police" in d.dispatch_while_review))
        self.lead_ok += w * (d.lead in case.lead_ok)
        if case.departments is not None:
            got = set(d.departments)
            tp = len(got & case.departments)
            self.f1_sum += w * (2 * tp / (len(got) + len(case.departments)))
            self.f1_n += w
        if case.priority is not None and d.priority == "P1":
            self.p1_said += w
        if case.priority == "P1":
            self.p1_n += w
            self.p1_hit += w * (d.priority == "P1")
        self.review += w * d.needs_review
        self.auto_ok += w * (not d.needs_review and d.lead in case.lead_ok)
        if rules is not None:
            self.rules_lead_ok += w * (rules.lead in case.lead_ok)
            self.rules_police_tp += w * (case.police and rules.police)

    def row(self) -> dict[str, float | None]:
        def ratio(a: float, b: float) -> float | None:
            return round(a / b, 4) if b else None

        positives = self.police_tp + self.police_fn
        return {
            "n": round(self.n, 1),
            "police_recall": ratio(self.police_tp, positives),
            "police_reached": ratio(self.police_reached, positives),
            "police_precision": ratio(self.police_tp, self.police_tp + self.police_fp),
            "police_accuracy": ratio(self.police_ok, self.n),
            "lead_accuracy": ratio(self.lead_ok, self.n),
            "department_f1": ratio(self.f1_sum, self.f1_n),
            "p1_recall": ratio(self.p1_hit, self.p1_n),
            "p1_precision": ratio(self.p1_hit, self.p1_said),
            "review_rate": ratio(self.review, self.n),
            "auto_lead_accuracy": ratio(self.auto_ok, self.n - self.review),
            "rules_only_lead_accuracy": ratio(self.rules_lead_ok, self.n),
            "rules_only_police_recall": ratio(self.rules_police_tp, positives),
        }


def evaluate(engine: RoutingEngine, cases: Iterable[tuple[str, Case]], *, baseline: bool = True
             ) -> tuple[dict[str, dict], Counter]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    confusion: Counter = Counter()
    keywords = engine.rules if baseline else None
    for key, case in cases:
        decision = engine.classify(case.text, at=AT)
        rules = keywords.classify(case.text, at=AT) if keywords is not None else None
        for k in (key, "all"):
            tallies[k].add(case, decision, rules)
        gold = case.lead_ok[0]
        if decision.lead not in case.lead_ok:
            confusion[(gold, decision.lead)] += case.weight
        else:
            confusion[(gold, gold)] += case.weight
    order = sorted(tallies, key=lambda k: (k == "all", k))
    return {k: tallies[k].row() for k in order}, confusion


def held_out_cases(rows, *, converted: bool = True) -> list[tuple[str, Case]]:
    cases = []
    to_traditional = None
    if converted:
        try:
            import zhconv

            to_traditional = lambda text: zhconv.convert(text, "zh-hant")  # noqa: E731
        except ImportError:  # pragma: no cover - zhconv is in the dev extra
            print("zhconv not installed: no converted traditional-Chinese rows", file=sys.stderr)
    for row in rows:
        key = _lang_key(row.lang, row.script)
        case = Case(row.text, row.lang, row.police, (row.lead,), row.departments, row.priority)
        cases.append((key, case))
        if to_traditional is not None and row.lang == "zh" and row.script != "traditional":
            cases.append(("zh-hant*", Case(to_traditional(row.text), "zh", row.police, (row.lead,),
                                           row.departments, row.priority)))
    return cases


def independent_cases(directory: Path) -> list[tuple[str, Case]]:
    """The independent evaluation sets: full labels, keyed by language (traditional Chinese apart)."""
    cases = []
    for path in sorted(directory.glob("*.jsonl")):
        for raw in _records(path):
            departments = {raw["lead"], *raw.get("assisting", [])} | ({"police"} if raw["police"] else set())
            cases.append((_lang_key(raw["lang"], raw.get("script")), Case(
                raw["text"], raw["lang"], bool(raw["police"]), tuple(raw.get("lead_ok") or [raw["lead"]]),
                frozenset(departments), raw["priority"])))
    return cases


def public_cases(path: Path) -> list[tuple[str, Case]]:
    return [(raw["lang"], Case(raw["text"], raw["lang"], bool(raw["police"]),
                               tuple(raw.get("lead_ok") or [raw["lead"]]), weight=float(raw.get("weight", 1.0))))
            for raw in _records(path)]


def _records(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON objects of a ``.jsonl`` file (blank lines skipped)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            yield json.loads(line)


def _lang_key(lang: str, script: str | None) -> str:
    """The row a case counts under: its language, traditional Chinese apart."""
    return "zh-hant" if lang == "zh" and script == "traditional" else lang


def _print_table(name: str, results: dict[str, dict], confusion: Counter, top: int) -> None:
    columns = ["n", "police_recall", "police_reached", "police_precision", "police_accuracy", "lead_accuracy",
               "department_f1", "p1_recall", "p1_precision", "review_rate", "auto_lead_accuracy",
               "rules_only_lead_accuracy", "rules_only_police_recall"]
    short = ["n", "pol.rec", "pol.reach", "pol.prec", "pol.acc", "lead.acc", "dept.F1", "P1.rec", "P1.prec",
             "review", "auto.lead", "kw.lead", "kw.polrec"]
    print(f"\n== {name}")
    print(f"{'lang':9}" + "".join(f"{s:>10}" for s in short))
    for key, row in results.items():
        cells = [("-" if row[c] is None else (f"{row[c]:.0f}" if c == "n" else f"{row[c]:.3f}")) for c in columns]
        print(f"{key:9}" + "".join(f"{c:>10}" for c in cells))
    golds = Counter()
    correct = Counter()
    for (gold, got), n in confusion.items():
        golds[gold] += n
        if gold == got:
            correct[gold] += n
    print("confusion (gold lead: n, correct; most frequent wrong leads):")
    for gold, n in golds.most_common():
        wrong = sorted(((got, m) for (g, got), m in confusion.items() if g == gold and got != gold),
                       key=lambda item: -item[1])[:top]
        print(f"  {gold:22} {n:7.0f} {correct[gold] / n:6.1%}  " + ", ".join(f"{got} {m:.0f}" for got, m in wrong))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the routing engine: held-out split (and writers held out), "
                                                 "independent sets, public sets.")
    parser.add_argument("--data", type=Path, default=None, help="training data directory")
    parser.add_argument("--public-eval", type=Path, default=PUBLIC_EVAL_DIR, help="public evaluation sets")
    parser.add_argument("--independent", type=Path, default=INDEPENDENT_DIR, help="independent evaluation sets")
    parser.add_argument("--model", type=Path, default=None,
                        help="artifact for the independent and public sets (default: shipped)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--top", type=int, default=4, help="wrong leads listed per gold lead")
    parser.add_argument("--skip-held-out", action="store_true")
    parser.add_argument("--writers", nargs="*", default=None, metavar="CODE",
                        help="also hold out every report of these writers (id prefixes; none given: "
                             f"{' '.join(WRITERS_HELD_OUT)}) and train a model without them")
    args = parser.parse_args(argv)
    from router.engine import train as training

    registry: Registry = load_registry()
    report: dict[str, dict] = {}

    rows = training.load_rows(args.data or training.DATA_DIR, registry) if (
        not args.skip_held_out or args.writers is not None) else []
    by_writers = None  # (writers, train rows, held-out rows)
    if args.writers is not None:  # checked before anything trains: a typo should not cost the held-out model's minutes
        writers = list(dict.fromkeys(args.writers or WRITERS_HELD_OUT))
        try:
            by_writers = (writers, *training.split_writers(rows, writers))
        except ValueError as error:
            parser.error(str(error))
    if not args.skip_held_out:
        train_rows, held = training.split(rows)
        results, confusion = evaluate(RoutingEngine(registry, training.train(train_rows, registry)),
                                      held_out_cases(held))
        _print_table(f"held-out ({len(held)} reports in {len({r.group for r in held})} groups; model trained on "
                     f"{len(train_rows)} reports of the other groups)", results, confusion, args.top)
        report["held-out"] = results
    if by_writers is not None:
        writers, train_rows, held = by_writers
        results, confusion = evaluate(RoutingEngine(registry, training.train(train_rows, registry)),
                                      held_out_cases(held, converted=False))
        _print_table(f"writers-held-out ({len(held)} reports by writers {', '.join(writers)}; model trained on "
                     f"{len(train_rows)} reports by the others)", results, confusion, args.top)
        report["writers-held-out"] = results

    shipped = RoutingEngine(registry, RoutingModel.load(args.model))
    independent = independent_cases(args.independent) if args.independent.is_dir() else []
    if independent:
        results, confusion = evaluate(shipped, independent)
        _print_table(f"independent ({len(independent)} reports by authors who never saw the training data; shipped "
                     f"model {shipped.model.version})", results, confusion, args.top)
        report["independent"] = results
    if args.public_eval.is_dir():
        files = sorted(args.public_eval.glob("*.jsonl"))
        for path in files:
            results, confusion = evaluate(shipped, public_cases(path))
            _print_table(f"{path.name} (shipped model {shipped.model.version})", results, confusion, args.top)
            report[path.name] = results
    else:
        print(f"\npublic evaluation sets not found at {args.public_eval}: skipped")

    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
