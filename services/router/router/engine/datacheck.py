"""Check routing data files before they are committed: ``python -m router.engine.datacheck FILE...``.

For each file: every line must be a valid report (the fields of ``services/router/training/README.md``, department
codes of the bundled registry, P1..P4, ``police`` equal to "police is the lead or assists"), ids must be unique across
the whole data directory and the evaluation sets, a group's lines must carry the same labels, and a text must not
repeat (case- and space-insensitively) a text anywhere else. Prints the problems and the file's counts; exits 1 when
there is a problem, so a writer can run it after every batch.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

from router.engine.train import DATA_DIR
from shared.registry import PRIORITIES, load_registry

EVAL_DIR = DATA_DIR.parent / "eval"
FIELDS = ("id", "group", "lang", "script", "register", "text", "police", "lead", "assisting", "priority")


def _key(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _lines(path: Path) -> list[tuple[int, dict | None, str]]:
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line), ""))
        except json.JSONDecodeError as exc:
            out.append((number, None, f"not JSON: {exc}"))
    return out


def check(files: list[Path]) -> int:
    codes = set(load_registry().codes())
    checked = {f.resolve() for f in files}
    other_ids: set[str] = set()
    other_texts: dict[str, str] = {}
    for path in [*sorted(DATA_DIR.glob("*.jsonl")), *sorted(EVAL_DIR.glob("*.jsonl"))]:
        if path.resolve() in checked:
            continue
        for _, raw, _ in _lines(path):
            if raw:
                other_ids.add(str(raw.get("id")))
                other_texts[_key(str(raw.get("text", "")))] = f"{path.name}:{raw.get('id')}"
    problems = 0
    for path in files:
        ids: set[str] = set()
        texts: dict[str, str] = {}
        groups: dict[str, tuple] = {}
        counts: dict[str, Counter] = {k: Counter() for k in ("lead", "priority", "register", "lang", "police")}
        n = 0
        for number, raw, error in _lines(path):
            where = f"{path.name}:{number}"
            errors = [error] if error else []
            if raw is not None:
                missing = [f for f in FIELDS if f not in raw]
                if missing:
                    errors.append(f"missing {missing}")
                else:
                    deps = [raw["lead"], *raw["assisting"]]
                    bad = [c for c in deps if c not in codes]
                    if bad:
                        errors.append(f"unknown department {bad}")
                    if raw["priority"] not in PRIORITIES:
                        errors.append(f"bad priority {raw['priority']!r}")
                    if raw["police"] != ("police" in deps):
                        errors.append("police must be true exactly when police leads or assists")
                    if raw["lead"] in raw["assisting"] or len(set(raw["assisting"])) != len(raw["assisting"]):
                        errors.append("assisting repeats the lead or itself")
                    if raw["lang"] not in ("zh", "en"):
                        errors.append("lang must be zh or en")
                    for c in raw.get("lead_ok", []):
                        if c not in codes:
                            errors.append(f"unknown department in lead_ok {c!r}")
                    if not str(raw["text"]).strip():
                        errors.append("empty text")
                    rid = str(raw["id"])
                    if rid in ids or rid in other_ids:
                        errors.append(f"duplicate id {rid}")
                    ids.add(rid)
                    key = _key(str(raw["text"]))
                    if key in texts or key in other_texts:
                        errors.append(f"text repeats {texts.get(key) or other_texts.get(key)}")
                    texts[key] = rid
                    labels = (raw["lead"], tuple(sorted(raw["assisting"])), raw["priority"])
                    if groups.setdefault(str(raw["group"]), labels) != labels:
                        errors.append(f"group {raw['group']} has other labels on another line")
                    n += 1
                    counts["lead"][raw["lead"]] += 1
                    counts["priority"][raw["priority"]] += 1
                    counts["register"][raw["register"]] += 1
                    counts["lang"][f"{raw['lang']}/{raw['script']}"] += 1
                    counts["police"][str(raw["police"]).lower()] += 1
            for e in errors:
                print(f"{where}: {e}")
            problems += len(errors)
        print(f"{path.name}: {n} valid lines, {len(groups)} groups")
        for name, counter in counts.items():
            print(f"  {name}: " + ", ".join(f"{k} {v}" for k, v in counter.most_common()))
    print("OK" if not problems else f"{problems} problem(s)")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    sys.exit(check(parser.parse_args(argv).files))


if __name__ == "__main__":
    main()
