"""How far do careful readers agree with the writers' labels, and the engine with either?

    .venv/bin/python services/router/training/agreement/compare.py [--model HELD_OUT_MODEL.npz]
    .venv/bin/python services/router/training/agreement/compare.py --independent

Reads the annotators' labels beside this script (``labels-<batch><n>.jsonl``: each batch labelled by two
annotators who saw only the report text, ``WRITING.md`` and ``departments.md``), the writers' labels of the same
reports (``data/*.jsonl``, all from the held-out split) and the engine's decisions with a model trained without the
held-out split (trained here, about three minutes, unless ``--model`` names one). Prints, per pair of label
sources, police/non-police agreement, lead agreement and P1 agreement, and the engine's scores on the reports
where the writer and both annotators agree. README.md (this directory) tells what the figures mean.

The second form measures the independent set instead: the reader's labels of 300 of its English reports
(``labels-ind-<batch>.jsonl``, one reader run each), against their authors' labels and the shipped engine.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import defaultdict
from pathlib import Path

from router.engine import train as training
from router.engine.combiner import RoutingEngine
from router.engine.evaluate import AT, INDEPENDENT_DIR
from router.engine.model import RoutingModel
from shared.registry import load_registry

HERE = Path(__file__).resolve().parent


def _load(path: Path) -> dict[str, dict]:
    return {row["id"]: row for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()) if row}


def _pair(a: dict[str, dict], b: dict[str, dict], ids: list[str]) -> dict[str, float]:
    """``a`` measured against ``b`` as the reference."""
    n = len(ids)
    police = sum(a[i]["police"] == b[i]["police"] for i in ids) / n
    ref_police = [i for i in ids if b[i]["police"]]
    recall = sum(a[i]["police"] for i in ref_police) / max(len(ref_police), 1)
    lead = sum(a[i]["lead"] in b[i].get("lead_ok", [b[i]["lead"]]) for i in ids) / n
    ref_p1 = [i for i in ids if b[i]["priority"] == "P1"]
    p1 = sum(a[i]["priority"] == "P1" for i in ref_p1) / max(len(ref_p1), 1)
    return {"police acc.": police, "police recall": recall, "lead": lead, "P1 recall": p1}


# the English sets the reader's sample was drawn from (stop 20); later sets would change the draw
READER_SETS = ("even", "evenb", "evenc")


def _independent_english() -> list[dict]:
    rows = [row for path in sorted(INDEPENDENT_DIR.glob("*.jsonl")) for row in _load(path).values()]
    return [row for row in rows if row["lang"] == "en"]


def draw_independent(directory: Path, *, per_batch: int = 150, seed: int = 20261207) -> None:
    """The reader's batches of the independent set: English reports of :data:`READER_SETS` drawn at random,
    ``batchC``, ``batchD``."""
    rows = [row for row in _independent_english() if row["id"].split("-", 1)[0] in READER_SETS]
    random.Random(seed).shuffle(rows)
    for i, name in enumerate("CD"):
        (directory / f"batch{name}.jsonl").write_text("".join(
            json.dumps({"id": row["id"], "text": row["text"]}, ensure_ascii=False) + "\n"
            for row in rows[i * per_batch:(i + 1) * per_batch]), encoding="utf-8")


def independent(labels_dir: Path) -> None:
    """Reader, authors and the shipped engine against each other on the reader's sample of the independent set."""
    reader = {i: row for path in sorted(labels_dir.glob("labels-ind-*.jsonl")) for i, row in _load(path).items()}
    authors = {row["id"]: {**row, "lead_ok": row.get("lead_ok") or [row["lead"]]} for row in _independent_english()
               if row["id"] in reader}
    engine = RoutingEngine(load_registry())
    decided = {}
    for i, row in authors.items():
        d = engine.classify(row["text"], at=AT)
        decided[i] = {"police": d.police, "lead": d.lead, "priority": d.priority}
    ids = list(reader)
    print(f"{len(ids)} English reports of the independent set, one reader; lead: in the reference's lead_ok")
    print(f"{'first vs second':24} {'police acc.':>12} {'police recall':>14} {'lead':>6} {'P1 recall':>10}")
    for name, a, b in [("reader vs authors", reader, authors), ("engine vs authors", decided, authors),
                       ("engine vs reader", decided, reader), ("authors vs reader", authors, reader)]:
        r = _pair(a, b, ids)
        print(f"{name:24} {r['police acc.']:>12.3f} {r['police recall']:>14.3f} {r['lead']:>6.3f} "
              f"{r['P1 recall']:>10.3f}")


def draw(held: list, directory: Path, *, per_language: int = 80, seed: int = 20261207) -> None:
    """The annotators' batches: one report per held-out scenario group, ``per_language`` English and as many
    Chinese reports (either script) a batch, drawn at random; written as ``batchA.jsonl``, ``batchB.jsonl`` with
    only ``id`` and ``text``."""
    rng = random.Random(seed)
    seen: set[str] = set()
    first = [row for row in held if not (row.group in seen or seen.add(row.group))]
    english = [row for row in first if row.lang == "en"]
    chinese = [row for row in first if row.lang == "zh"]
    rng.shuffle(english)
    rng.shuffle(chinese)
    n = per_language
    for i, name in enumerate("AB"):
        batch = english[i * n:(i + 1) * n] + chinese[i * n:(i + 1) * n]
        rng.shuffle(batch)
        (directory / f"batch{name}.jsonl").write_text("".join(
            json.dumps({"id": row.id, "text": row.text}, ensure_ascii=False) + "\n" for row in batch), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="a model trained without the held-out split")
    parser.add_argument("--labels", type=Path, default=HERE, help="directory of labels-<batch><n>.jsonl")
    parser.add_argument("--draw", type=Path, default=None, metavar="DIR",
                        help="only write the annotators' batches (report text, no labels) to DIR")
    parser.add_argument("--independent", action="store_true", help="measure the independent set's sample instead")
    parser.add_argument("--draw-independent", type=Path, default=None, metavar="DIR",
                        help="only write the reader's batches of the independent set to DIR")
    args = parser.parse_args(argv)
    if args.draw_independent:
        args.draw_independent.mkdir(parents=True, exist_ok=True)
        draw_independent(args.draw_independent)
        return
    if args.independent:
        independent(args.labels)
        return

    registry = load_registry()
    rows = training.load_rows(training.DATA_DIR, registry)
    train_rows, held = training.split(rows)
    if args.draw:
        args.draw.mkdir(parents=True, exist_ok=True)
        draw(held, args.draw)
        return
    model = RoutingModel.load(args.model) if args.model else training.train(train_rows, registry)
    engine = RoutingEngine(registry, model)

    annotators: dict[str, dict[str, dict[str, dict]]] = defaultdict(dict)  # batch -> annotator -> labels
    for path in sorted(args.labels.glob("labels-[A-Z][0-9].jsonl")):
        name = path.stem.removeprefix("labels-")
        annotators[name[0]][name] = _load(path)
    by_id = {row.id: row for row in held}
    writer, engine_labels = {}, {}
    for i in {i for batch in annotators.values() for labels in batch.values() for i in labels}:
        row = by_id[i]  # every annotated report is a held-out report
        writer[i] = {"police": row.police, "lead": row.lead, "priority": row.priority}
        d = engine.classify(row.text, at=AT)
        engine_labels[i] = {"police": d.police, "lead": d.lead, "priority": d.priority}

    table: dict[str, list[tuple[dict[str, float], int]]] = defaultdict(list)
    reports: dict[str, int] = defaultdict(int)
    consensus: list[str] = []
    majority: dict[str, dict] = {}
    for batch in annotators.values():
        (_, first), (_, second) = sorted(batch.items())
        ids = list(first)
        for i in ids:  # the majority of writer and annotators; a lead is accepted by two of the three
            accepted = [{writer[i]["lead"]}, set(first[i]["lead_ok"]), set(second[i]["lead_ok"])]
            leads = [d for d in dict.fromkeys(d for s in accepted for d in s) if sum(d in s for s in accepted) >= 2]
            votes = [writer[i], first[i], second[i]]
            majority[i] = {"police": sum(v["police"] for v in votes) >= 2, "lead": (leads or [writer[i]["lead"]])[0],
                           "lead_ok": leads or [writer[i]["lead"]],
                           "priority": "P1" if sum(v["priority"] == "P1" for v in votes) >= 2 else "P2-P4"}
        for lang in ("en", "zh", "all"):
            sub = [i for i in ids if lang == "all" or by_id[i].lang == lang]
            reports[lang] += len(sub)
            pairs = {
                "annotator vs annotator": [(first, second), (second, first)],
                "annotator vs writer": [(first, writer), (second, writer)],
                "engine vs writer": [(engine_labels, writer)],
                "engine vs annotator": [(engine_labels, first), (engine_labels, second)],
                "writer vs majority of three": [(writer, majority)],
                "engine vs majority of three": [(engine_labels, majority)],
            }
            for name, cases in pairs.items():
                table[f"{name} | {lang}"] += [(_pair(a, b, sub), len(sub)) for a, b in cases]
        consensus += [i for i in ids if writer[i]["police"] == first[i]["police"] == second[i]["police"]
                      and writer[i]["lead"] in first[i]["lead_ok"] and writer[i]["lead"] in second[i]["lead_ok"]
                      and (writer[i]["priority"] == "P1") == (first[i]["priority"] == "P1")
                      == (second[i]["priority"] == "P1")]

    print(f"{reports['all']} held-out reports, two annotators each; each row: the first source measured against "
          "the second (lead: in the reference's lead_ok; the writers gave one lead), averaged over both ways")
    print(f"{'pair | lang':40} {'n':>4} {'police acc.':>12} {'police recall':>14} {'lead':>6} {'P1 recall':>10}")
    for key, results in table.items():
        total = sum(n for _, n in results)
        avg = {k: sum(r[k] * n for r, n in results) / total for k in results[0][0]}
        print(f"{key:40} {reports[key.rsplit(' ', 1)[-1]]:>4} {avg['police acc.']:>12.3f} "
              f"{avg['police recall']:>14.3f} {avg['lead']:>6.3f} {avg['P1 recall']:>10.3f}")
    agreed = {i: writer[i] for i in consensus}
    score = _pair(engine_labels, agreed, consensus)
    print(f"\nreports on which the writer and both annotators agree (police, lead, P1 or not): {len(consensus)}")
    print("engine on them: " + ", ".join(f"{k} {v:.3f}" for k, v in score.items()))


if __name__ == "__main__":
    main()
