"""Train the routing engine's statistical layer: ``make train`` (``python -m router.engine.train``).

Reads every ``*.jsonl`` file in ``services/router/training/data/`` (one report a line: ``id``, ``group``, ``lang``,
``script``, ``register``, ``text``, ``police``, ``lead``, ``assisting``, ``priority``; provenance in
``services/router/training/README.md``) and writes ``router/engine/model/routing-v2.npz`` + ``.json``.

The model (:mod:`router.engine.model`): a bag of n-gram vectors, one hidden layer and three heads (lead, involved,
priority), trained jointly with PyTorch (:func:`_fit`). Deterministic: the data files are read in name order,
augmentation uses a random generator seeded per report id, the network's start, the batch order and both dropouts
(of input features and of hidden units) come from ``Params.seed``, and training runs on one thread, so the same
data gives the same weights; ``make train`` also holds numpy's, PyTorch's and MKL's kernels at AVX2, because
AVX-512 kernels round differently (on an AVX-512 machine PyTorch's default kernels gave other weights than the
pinned ones; pinned, every run and a clean clone gave the committed bits; an AVX-512 machine with AMX, stop 20's,
gives other bits pinned too, the same on every run there). The artifact's metadata records the
SHA-256 of the data files and of the bundled registry's department terms (training examples too; its priority
triggers and joint rules are not, so operators edit those without retraining); a unit test fails when they no
longer match, so nobody forgets to retrain.

What goes in:

1. every report of the data set, minus the held-out groups when training the evaluation model
   (:func:`split`: a whole scenario group is in or out, so paraphrases of one scenario never leak across);
2. augmented copies (:func:`augment`): the same report wrapped in another register (operator-note and SMS
   prefixes, hesitations, a polite closing), English with a typo or stripped to lower-case SMS style, Chinese
   with a dropped character. The copies teach the model that wrappers carry no routing signal;
3. the registry's department terms, each as a tiny report of its department (lead and involved heads only): the
   operators' vocabulary becomes a prior for the model too, which helps short and terse texts.

After the network, its memory (:func:`remember`, :mod:`router.engine.memory`): every training report (not the
copies or terms) as the finished network places it, with its police label.

Training-only dependencies: PyTorch (CPU; and zhconv for the character map); they are in the ``dev`` and ``train``
extras, the router itself needs only numpy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from router.engine.memory import Memory
from router.engine.memory import build as build_memory
from router.engine.model import DEFAULT_MODEL_FILE, RoutingModel, quantise
from router.engine.text import features, normalise, rule_features
from router.routing.classifier import KeywordClassifier
from shared.registry import DEFAULT_REGISTRY_FILE, PRIORITIES, Registry, load_registry

__all__ = ["DATA_DIR", "Params", "Row", "augment", "data_hash", "load_rows", "split", "split_writers", "train",
           "writer"]

DATA_DIR = Path(__file__).resolve().parents[2] / "training" / "data"
VERSION = "routing-v2"


@dataclass(frozen=True)
class Row:
    id: str
    group: str
    lang: str
    script: str
    register: str
    text: str
    police: bool
    lead: str
    assisting: tuple[str, ...]
    priority: str
    source: str = ""

    @property
    def departments(self) -> frozenset[str]:
        deps = {self.lead, *self.assisting}
        if self.police:
            deps.add("police")
        return frozenset(deps)


@dataclass(frozen=True)
class Params:
    hidden: int = 64  # hidden units (tried on the held-out split: 64, 128 and 256 scored alike)
    epochs: int = 5
    dropout: float = 0.3
    # each epoch, drop each n-gram of a training example with this probability (and scale the rest up), so that no
    # single phrase decides alone; on the held-out split (two data versions, two seeds): lead accuracy +0.002 to
    # +0.004, police AUC alike or up to +0.0005, P1 AUC +0.001 against none (docs/routing-history.md, stop 16)
    feature_dropout: float = 0.4
    learning_rate: float = 0.002
    batch_size: int = 128
    init_scale: float = 0.05  # feature vectors start as normal(0, init_scale)
    augment_copies: int = 2
    keyword_weight: float = 0.5
    letter_fraction: int = 50  # percent of the reports that also get a copy in the letter register
    min_df: int = 2
    holdout_percent: int = 20
    balance: float = 0.5  # lead head: weight a report by (reports of its lead) ** -balance, so rare departments count
    rule_features: float = 0.0  # weight of a rule feature against one n-gram (0: none; see text.rule_features;
    # tried at 1 and 3 with routing-v1: no better than blending the rules in the combiner, police recall lower)
    prune: float = 0.002  # drop a feature whose vector's entries are all smaller than this
    seed: str = "linkage-routing"
    # the memory (router.engine.memory): neighbours counted, search cells (at most one per 160 reports) and cells
    # searched per query
    memory_k: int = 60
    memory_cells: int = 256
    memory_probe: int = 16


def load_rows(data_dir: Path = DATA_DIR, registry: Registry | None = None,
              warn: bool = True) -> list[Row]:
    """Every valid report of every ``*.jsonl`` file, in file-name then line order. Invalid lines are reported on
    stderr and skipped (the data is written by people; a bad line should not stop training)."""
    codes = set((registry or load_registry()).codes())
    rows: list[Row] = []
    seen: set[str] = set()
    for path in sorted(data_dir.glob("*.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                row = Row(id=str(raw["id"]), group=str(raw.get("group") or raw["id"]), lang=str(raw["lang"]),
                          script=str(raw.get("script", "")), register=str(raw.get("register", "")),
                          text=str(raw["text"]), police=bool(raw["police"]), lead=str(raw["lead"]),
                          assisting=tuple(str(a) for a in raw.get("assisting") or ()),
                          priority=str(raw["priority"]), source=path.name)
                bad = [c for c in (row.lead, *row.assisting) if c not in codes]
                if bad or row.priority not in PRIORITIES or not row.text.strip():
                    raise ValueError(f"unknown department {bad}" if bad else "bad priority or empty text")
                if row.id in seen:
                    raise ValueError(f"duplicate id {row.id!r}")
            except (ValueError, KeyError, TypeError) as exc:
                if warn:
                    print(f"{path.name}:{number}: skipped: {exc}", file=sys.stderr)
                continue
            seen.add(row.id)
            rows.append(row)
    return rows


def data_hash(data_dir: Path = DATA_DIR, registry_file: Path = DEFAULT_REGISTRY_FILE,
              params: Params = Params()) -> str:
    """SHA-256 of what training reads: the data files and, of the registry, the department codes and terms (each
    term is a training example). Priority triggers and joint rules train nothing (unless ``params.rule_features``
    is set, then the whole registry counts), so operators edit them without retraining."""
    digest = hashlib.sha256()
    for path in sorted(data_dir.glob("*.jsonl")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    terms = [[department.code, *department.keywords] for department in load_registry(registry_file)]
    digest.update(json.dumps(terms, ensure_ascii=False).encode())
    if params.rule_features:
        digest.update(registry_file.read_bytes())
    return digest.hexdigest()


def _bucket(seed: str, group: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{group}".encode()).digest()[:4], "big") % 100


def split(rows: Sequence[Row], params: Params = Params()) -> tuple[list[Row], list[Row]]:
    """(train, held-out) by scenario group: ``holdout_percent`` of the groups, chosen by a hash of the group id."""
    train_rows, held = [], []
    for row in rows:
        (held if _bucket(params.seed, row.group) < params.holdout_percent else train_rows).append(row)
    return train_rows, held


def writer(row: Row) -> str:
    """The writer (data set) a report comes from: its id's prefix (``ene-0042`` -> ``ene``)."""
    return row.id.split("-", 1)[0]


def split_writers(rows: Sequence[Row], writers: Iterable[str]) -> tuple[list[Row], list[Row]]:
    """(train, held-out) by writer: every report of these writers is held out, whatever its group. Another test
    than :func:`split`, whose held-out groups come from writers the model has also learnt from: this one measures
    how the engine reads people whose phrasing it has never met. ``ValueError`` for a writer with no reports and
    for holding out every writer (nothing left to train on)."""
    if isinstance(writers, str):
        raise TypeError("writers: a collection of writer codes, not one string")
    writers = set(writers)
    known = {writer(row) for row in rows}
    unknown = writers - known
    if unknown:
        raise ValueError(f"no reports by writer(s) {', '.join(repr(w) for w in sorted(unknown))}; the writers are "
                         f"{', '.join(sorted(known))}")
    if known <= writers:
        raise ValueError("every writer held out: nothing left to train on")
    train_rows, held = [], []
    for row in rows:
        (held if writer(row) in writers else train_rows).append(row)
    return train_rows, held


# ---------------------------------------------------------------------------------------------------------------
# Augmentation: other registers and noise, seeded by the report id
# ---------------------------------------------------------------------------------------------------------------

_ZH_PREFIX = ["", "来电人反映：", "市民来电称，", "来电反映", "网友留言：", "【短信】", "喂，你好，", "呃，那个，",
              "您好，我想反映一下，", "群众反映：", "工单：", "你好 ", "坐席记录：来电人称"]
_ZH_SUFFIX = ["", "，请尽快处理。", "。谢谢！", "，麻烦你们派人来看看。", "。请相关部门核实处理。", "，急！",
              "。来电人要求回复。", "……就这样"]
_ZH_FILLER = ["呃", "那个", "就是", "嗯", "然后"]
_EN_PREFIX = ["", "Caller states ", "Caller reports that ", "RP advises ", "SMS: ", "Web form: ", "hi, um, ",
              "Hello, ", "Hi there, I want to report that ", "Operator note: caller says ", "uh, yeah, ",
              "Message from resident: "]
_EN_SUFFIX = ["", " pls help", ". Please send someone.", " thanks", ". Thank you.", ". Caller requests callback.",
              " asap", "... that's it really"]
_EN_FILLER = ["um", "uh", "like", "you know", "I mean"]

# The written-letter register (web forms, letters to the mayor's mailbox) is long and mostly courtesy, context and
# insistence; the data set has few such reports. A letter wrapper around a report teaches the model that this
# framing carries no routing signal. The phrases are generic civic-letter formulae written for this purpose.
_ZH_LETTER_OPEN = [
    "尊敬的领导您好！我是本市的一名普通市民，在这里住了十几年了，一直很关心我们这里的发展。今天写信是想反映一件事情，",
    "各位领导好：我们是附近几个小区的居民，这件事情已经困扰我们很长一段时间了，大家商量以后决定通过网上留言的方式反映。",
    "您好，我想通过这个平台反映一个问题。之前也找过相关的人，但是一直没有得到答复，所以只好在这里留言，希望能引起重视。",
    "标题：关于我们小区附近一个问题的反映。内容：",
]
_ZH_LETTER_CLOSE = [
    "希望有关部门能够重视这个问题，尽快派人来实地看看，给我们老百姓一个答复。谢谢！",
    "这个问题拖了很久了，大家意见都很大，恳请领导在百忙之中关注一下，早日解决。此致敬礼！",
    "以上情况属实，如需核实可以联系我。希望早日得到回复，谢谢各位领导！",
    "我们相信政府一定会为群众办实事，期待您的回复。",
]
_EN_LETTER_OPEN = [
    "Dear Sir or Madam, I am writing as a resident of this neighbourhood for over ten years to raise a matter that "
    "has worried a number of us for some time. ",
    "To whom it may concern: I have tried to raise this before without getting an answer, so I am using this form "
    "in the hope that it reaches the right people. ",
    "Subject: a problem near our home. Details: ",
]
_EN_LETTER_CLOSE = [
    " I would be grateful if someone could look into this and let me know what will be done. Yours faithfully.",
    " Many residents feel the same way and we hope to hear back soon. Thank you for your time.",
    " I am happy to provide more details if needed. Kind regards.",
]


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    choice = rng.randrange(3)
    if choice == 0:
        return word[:i] + word[i + 1:]
    if choice == 1:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + word[i] + word[i:]


def augment(row: Row, copies: int, seed: str, letters: bool = False) -> list[str]:
    """``copies`` variants of the report's text (plus one in the letter register when ``letters``), the same every
    time for the same id."""
    rng = random.Random(f"{seed}:{row.id}")
    out = []
    for _ in range(copies):
        text = row.text
        if row.lang == "zh":
            if rng.random() < 0.4:
                cut = [i for i, ch in enumerate(text) if ch in "，,。 "]
                if cut:
                    i = rng.choice(cut)
                    text = text[:i + 1] + rng.choice(_ZH_FILLER) + "，" + text[i + 1:]
            if rng.random() < 0.3 and len(text) > 8:
                i = rng.randrange(len(text))
                text = text[:i] + text[i + 1:]
            text = rng.choice(_ZH_PREFIX) + text + rng.choice(_ZH_SUFFIX)
        else:
            words = text.split(" ")
            if rng.random() < 0.6 and words:
                i = rng.randrange(len(words))
                words[i] = _typo(words[i], rng)
            if rng.random() < 0.3 and len(words) > 3:
                i = rng.randrange(1, len(words))
                words.insert(i, rng.choice(_EN_FILLER) + ",")
            text = " ".join(words)
            if rng.random() < 0.3:
                text = "".join(ch for ch in text.lower() if ch.isalnum() or ch in " '")
            text = rng.choice(_EN_PREFIX) + text + rng.choice(_EN_SUFFIX)
        out.append(text)
    if letters:
        if row.lang == "zh":
            out.append(rng.choice(_ZH_LETTER_OPEN) + row.text + rng.choice(_ZH_LETTER_CLOSE))
        else:
            out.append(rng.choice(_EN_LETTER_OPEN) + row.text + rng.choice(_EN_LETTER_CLOSE))
    return out


# ---------------------------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------------------------

@dataclass
class _Doc:
    features: list[str]
    rules: list[str]
    lead: str
    departments: frozenset[str]
    priority: str | None  # None: not a priority example (registry terms)
    weight: float = 1.0
    counted: bool = True  # counts towards document frequency (augmented copies do not)


_AT = datetime(2025, 12, 10, 9, tzinfo=UTC)  # rule features do not depend on the date; any fixed day will do


def _documents(rows: Iterable[Row], registry: Registry, params: Params) -> list[_Doc]:
    docs: list[_Doc] = []
    keywords = KeywordClassifier(registry)

    def rules(text: str) -> list[str]:
        return rule_features(keywords.analyse(text, at=_AT)) if params.rule_features else []

    for row in rows:
        deps = row.departments
        docs.append(_Doc(features(normalise(row.text)), rules(row.text), row.lead, deps, row.priority))
        letter = params.letter_fraction > 0 and _bucket(params.seed + ":letter", row.id) < params.letter_fraction
        for text in augment(row, params.augment_copies, params.seed, letters=letter):
            docs.append(_Doc(features(normalise(text)), rules(text), row.lead, deps, row.priority, counted=False))
    for department in registry:
        for term in department.keywords:
            feats = features(normalise(term))
            if feats:
                docs.append(_Doc(feats, rules(term), department.code, frozenset({department.code}), None,
                                 weight=params.keyword_weight))
    return docs


def _matrix(docs: Sequence[_Doc], vocab: dict[str, int], params: Params) -> tuple[np.ndarray, np.ndarray,
                                                                                   np.ndarray]:
    """The documents' features as CSR arrays (row pointers, feature rows, values): binary, L2-normalised."""
    indptr, indices, values = [0], [], []
    for doc in docs:
        cols = {vocab[f]: 1.0 for f in doc.features if f in vocab}
        cols.update({vocab[f]: params.rule_features for f in doc.rules if f in vocab})
        scale = 1.0 / math.sqrt(len(cols)) if cols else 0.0
        for col in sorted(cols):
            indices.append(col)
            values.append(cols[col] * scale)
        indptr.append(len(indices))
    return np.array(indptr, dtype=np.int64), np.array(indices, dtype=np.int64), np.array(values, dtype=np.float32)


def _seed(params: Params) -> int:
    return int.from_bytes(hashlib.sha256(params.seed.encode()).digest()[:4], "big")


@dataclass(frozen=True)
class _Examples:
    """The training documents as arrays: their features (CSR: row pointers, feature rows, values) and targets."""
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    lead: np.ndarray  # the lead's department index
    lead_weight: np.ndarray  # the lead loss's weight (rarer departments weighted up)
    involved: np.ndarray  # documents x departments, 1.0 where the department is among the document's
    priority: np.ndarray  # P1..P4 as 0..3; -1: not a priority example (registry terms)
    weight: np.ndarray  # the document's weight


def _fit(examples: _Examples, vocabulary: int, params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                                       np.ndarray]:
    """Train the network; returns (weights, hidden_bias, output, bias) as numpy arrays.

    Loss per document: the lead's cross-entropy (times ``lead_weight``) + the involved heads' binary
    cross-entropies (summed over departments) + the priority's cross-entropy (reports only), each times the
    document's weight. Adam (lazy, sparse for the feature rows), mini-batches in an order drawn from the seed,
    dropout on the input features (``feature_dropout``) and on the hidden units; one thread and a fixed seed make it
    deterministic."""
    import torch
    from torch import nn
    from torch.nn import functional

    indptr, indices, values, lead = examples.indptr, examples.indices, examples.values, examples.lead
    k = examples.involved.shape[1]
    columns = 2 * k + len(PRIORITIES)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with torch.random.fork_rng():
            torch.manual_seed(_seed(params))
            embedding = nn.EmbeddingBag(vocabulary, params.hidden, mode="sum", sparse=True)
            nn.init.normal_(embedding.weight, 0.0, params.init_scale)
            hidden_bias = nn.Parameter(torch.zeros(params.hidden))
            output = nn.Linear(params.hidden, columns)
            dropout = nn.Dropout(params.dropout)
            sparse = torch.optim.SparseAdam([embedding.weight], lr=params.learning_rate)
            dense = torch.optim.Adam([hidden_bias, *output.parameters()], lr=params.learning_rate)
            t_lead, t_lead_weight = torch.from_numpy(lead), torch.from_numpy(examples.lead_weight)
            t_involved, t_priority = torch.from_numpy(examples.involved), torch.from_numpy(examples.priority)
            t_weight = torch.from_numpy(examples.weight)
            order = np.random.default_rng(_seed(params))
            for _ in range(params.epochs):
                permutation = order.permutation(len(lead))
                for start in range(0, len(lead), params.batch_size):
                    batch = permutation[start:start + params.batch_size]
                    spans = [(indptr[i], indptr[i + 1]) for i in batch]
                    offsets = np.cumsum([0] + [b - a for a, b in spans[:-1]])
                    idx = np.concatenate([indices[a:b] for a, b in spans])
                    val = np.concatenate([values[a:b] for a, b in spans])
                    if params.feature_dropout:
                        val = val * (order.random(len(val)) >= params.feature_dropout) / (1 - params.feature_dropout)
                        val = val.astype(np.float32)
                    summed = embedding(torch.from_numpy(idx), torch.from_numpy(offsets), torch.from_numpy(val))
                    logits = output(dropout(torch.relu(summed + hidden_bias)))
                    rows = torch.from_numpy(batch)
                    w = t_weight[rows]
                    loss = (functional.cross_entropy(logits[:, :k], t_lead[rows], reduction="none")
                            * t_lead_weight[rows]).mean()
                    loss = loss + (functional.binary_cross_entropy_with_logits(
                        logits[:, k:2 * k], t_involved[rows], reduction="none").sum(dim=1) * w).mean()
                    rated = t_priority[rows] >= 0
                    if bool(rated.any()):
                        loss = loss + (functional.cross_entropy(logits[rated][:, 2 * k:], t_priority[rows][rated],
                                                                reduction="none") * w[rated]).mean()
                    sparse.zero_grad()
                    dense.zero_grad()
                    loss.backward()
                    sparse.step()
                    dense.step()
    finally:
        torch.set_num_threads(threads)
    with torch.no_grad():
        return (embedding.weight.numpy().copy(), hidden_bias.numpy().copy(), output.weight.numpy().T.copy(),
                output.bias.numpy().copy())


def train(rows: Sequence[Row], registry: Registry | None = None, params: Params = Params(),
          meta: dict | None = None) -> RoutingModel:
    """A model trained on ``rows`` (and augmentations and registry terms, see the module docstring)."""
    registry = registry or load_registry()
    departments = registry.codes()
    docs = _documents(rows, registry, params)

    df = Counter(f for d in docs if d.counted for f in (*d.features, *d.rules))
    vocab_list = sorted(f for f, n in df.items() if n >= params.min_df)
    vocab = {f: i for i, f in enumerate(vocab_list)}
    indptr, indices, values = _matrix(docs, vocab, params)
    k = len(departments)
    index = {code: i for i, code in enumerate(departments)}

    lead = np.array([index[d.lead] for d in docs], dtype=np.int64)
    involved = np.zeros((len(docs), k), dtype=np.float32)
    for row, doc in enumerate(docs):
        involved[row, [index[c] for c in doc.departments]] = 1.0
    priority = np.array([PRIORITIES.index(d.priority) if d.priority else -1 for d in docs], dtype=np.int64)
    weight = np.array([d.weight for d in docs], dtype=np.float32)
    # lead: rarer departments weighted up, (reports of its lead) ** -balance, scaled to a mean of 1 over reports
    reports = priority >= 0
    counts = Counter(d.lead for d in docs if d.priority is not None)
    lead_weight = np.array([d.weight * (counts[d.lead] ** -params.balance if d.priority is not None else 1.0)
                            for d in docs], dtype=np.float64)
    lead_weight[reports] *= reports.sum() / lead_weight[reports].sum()

    examples = _Examples(indptr, indices, values, lead, lead_weight.astype(np.float32), involved, priority, weight)
    w, hidden_bias, output, bias = _fit(examples, len(vocab_list), params)
    keep = np.abs(w).max(axis=1) >= params.prune
    w = w[keep]
    vocab_list = [f for f, kept in zip(vocab_list, keep, strict=True) if kept]
    info = {
        "version": VERSION, "departments": departments, "priorities": list(PRIORITIES),
        "heads": {"lead": [0, k], "involved": [k, 2 * k], "priority": [2 * k, 2 * k + len(PRIORITIES)]},
        "params": params.__dict__, "reports": len(rows), "documents": len(docs), "features": len(vocab_list),
        "languages": dict(sorted(Counter(r.lang for r in rows).items())),
        "leads": dict(sorted(Counter(r.lead for r in rows).items())),
        **(meta or {}),
    }
    weights, scale = quantise(w)
    network = RoutingModel(weights, bias, vocab_list, info, hidden_bias, output, weight_scale=scale)
    memory = remember(network, rows, registry, params)
    info["memory"] = {"reports": len(memory), "cells": len(memory.centres), "k": memory.k, "probe": memory.probe}
    return network.with_memory(memory)


def remember(model: RoutingModel, rows: Sequence[Row], registry: Registry | None = None,
             params: Params = Params()) -> Memory:
    """The model's memory of ``rows`` (:mod:`router.engine.memory`): where the finished, quantised network places
    each report, as it will at run time, and whether it was a police matter. Cells: one per 160 reports, at most
    ``params.memory_cells``."""
    keywords = KeywordClassifier(registry or load_registry()) if model.rule_scale else None
    width = model.weights.shape[1]
    activations = np.zeros((len(rows), width), dtype=np.float32)
    for i, row in enumerate(rows):
        rules = rule_features(keywords.analyse(row.text, at=_AT)) if keywords is not None else ()
        activations[i] = model.raw(normalise(row.text), rules)[2]
    return build_memory(activations, np.array([row.police for row in rows], dtype=bool), k=params.memory_k,
                        cells=min(params.memory_cells, max(1, len(rows) // 160)), probe=params.memory_probe,
                        seed=_seed(params))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the routing engine's statistical layer.")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="directory of *.jsonl training files")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_FILE, help="artifact path (.npz)")
    args = parser.parse_args(argv)
    from torch import __version__ as torch_version

    registry = load_registry()
    rows = load_rows(args.data, registry)
    if not rows:
        raise SystemExit(f"no training data in {args.data}")
    model = train(rows, registry, meta={"data_hash": data_hash(args.data), "data_files": sorted(
        p.name for p in args.data.glob("*.jsonl")), "trainer": f"PyTorch {torch_version}"})
    model.save(args.out)
    size = args.out.stat().st_size
    print(f"{args.out}: {model.meta['reports']} reports, {model.meta['documents']} documents, "
          f"{model.meta['features']} features, {size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
