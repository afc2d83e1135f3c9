"""The statistical layer's artifact and its inference: a small network over the n-gram features of :mod:`.text`.

The artifact is two files under ``router/engine/model/`` (shipped in the wheel, loaded at start, no network):

- ``routing-v2.npz``: ``weights`` (features x hidden units: one learnt vector per feature, stored as int8 with a
  float32 ``weight_scale`` per feature: the artifact is half the size of float16, and on the held-out split it
  changed 2 leads in 7,114 and no probability by more than 0.005), ``hidden_bias`` (hidden units), ``output``
  (hidden units x columns) and ``bias`` (columns), float32, ``vocab`` (the feature strings, UTF-8,
  newline-separated, row order), and the memory (:mod:`.memory`: ``memory_vectors``, each training report's hidden
  activations at unit length, float16; ``memory_police``; ``memory_centres`` and ``memory_starts``, the search
  cells; ``memory_search``, k and cells probed);
- ``routing-v2.json``: version, departments and priorities (column order), the SHA-256 of the training data and
  registry, the trainer's version, parameters and counts. No wall-clock date: retraining the same data gives
  byte-identical files.

The network (:mod:`.train`): the text's binary features, L2-normalised, select rows of ``weights`` that are
summed (a bag of n-gram vectors, as in fastText), then one hidden layer of rectified units and three heads side by
side in ``output``:

- ``lead``: one softmax over every department;
- ``involved``: one sigmoid per department, "is this department among the report's departments";
  ``involved[police]`` is the police-matter probability;
- ``priority``: one softmax over P1..P4.

The hidden layer lets the model weigh evidence together (money leaving a mother's account *and* nobody she knows
taking it) where a linear model can only add it up; on the held-out split it raised police-matter AUC from 0.984
to 0.990 and lead accuracy by two points over the logistic regressions of ``routing-v1``. An artifact without
``output`` (``routing-v1``: ``weights`` features x columns) is a linear model and still loads.

Inference is a handful of numpy operations: look the features up, add up their rows, scale, rectify, one small
matrix product, and the memory's search among the nearest training reports: a fraction of a millisecond. Training
needs PyTorch, running needs only numpy. An artifact without a memory still loads (the network decides alone, with
the thresholds chosen for it: :class:`router.engine.combiner.EngineSettings`).
"""

from __future__ import annotations

import copy
import json
import math
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router.engine.memory import Memory
from router.engine.text import features, surface_forms

__all__ = ["DEFAULT_MODEL_FILE", "Prediction", "RoutingModel", "quantise"]

DEFAULT_MODEL_FILE = Path(__file__).with_name("model") / "routing-v2.npz"


@dataclass(frozen=True)
class Prediction:
    lead: dict[str, float]  # department -> probability (sums to 1)
    involved: dict[str, float]  # department -> probability it is among the departments
    priority: dict[str, float]  # P1..P4 -> probability
    evidence: tuple[str, ...]  # the features that most support the most probable lead, readable
    known: int  # how many of the text's features the model knows
    # the memory's estimate (:mod:`.memory`): the similarity-weighted share of police matters among the nearest
    # training reports, and how many; None without a memory or when the model knows none of the text's features
    memory: tuple[float, int] | None = None

    @property
    def police(self) -> float:
        return self.involved.get("police", 0.0)


def _readable(feature: str, spelt: dict[str, str] | None = None) -> str:
    """A feature as evidence: as the text wrote it where known (``spelt``, :func:`~router.engine.text.surface_forms`),
    an English character n-gram with "…" where it is part of a longer word."""
    if spelt and feature in spelt:
        return spelt[feature]
    kind, body = feature[0], feature[1:]
    if kind == "g":
        return body.strip("<>") + "…" if not (body.startswith("<") and body.endswith(">")) else body.strip("<>")
    return body


class RoutingModel:
    """A trained artifact in memory. Pure and thread-safe after construction.

    ``hidden_bias`` and ``output`` given: the network described in the module docstring; neither: a linear model
    whose ``weights`` are the columns themselves (``routing-v1``). ``weight_scale`` given: ``weights`` are int8,
    row ``i`` stands for ``weights[i] * weight_scale[i]`` (:func:`quantise`)."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, vocab: list[str], meta: dict,
                 hidden_bias: np.ndarray | None = None, output: np.ndarray | None = None,
                 weight_scale: np.ndarray | None = None, memory: Memory | None = None) -> None:
        if (hidden_bias is None) != (output is None):
            raise ValueError("a network needs both hidden_bias and output")
        self.weights = weights  # as stored (int8 with weight_scale, or float16)
        self.weight_scale = weight_scale.astype(np.float32) if weight_scale is not None else None
        # int8 rows stay int8 in memory (a quarter of float32's) and are scaled when looked up; a float16 linear
        # model is widened once (float32 adds faster than float16)
        self._weights32 = weights.astype(np.float32) if self.weight_scale is None else None
        self.bias = bias.astype(np.float32)
        self.hidden_bias = hidden_bias.astype(np.float32) if hidden_bias is not None else None
        self.output = output.astype(np.float32) if output is not None else None
        self.vocab_list = vocab
        self.vocab = {f: i for i, f in enumerate(vocab)}
        # words, word pairs and Chinese n-grams read better as evidence than English character n-grams ("g…")
        self._wordlike = np.fromiter((not f.startswith("g") for f in vocab), dtype=bool, count=len(vocab))
        self.meta = meta
        self.departments: list[str] = list(meta["departments"])
        self.priorities: list[str] = list(meta["priorities"])
        k = len(self.departments)
        self._lead = slice(0, k)
        self._involved = slice(k, 2 * k)
        self._priority = slice(2 * k, 2 * k + len(self.priorities))
        self.version: str = meta["version"]
        self.memory = memory  # consulted only by a network (a linear model has no hidden activations)

    def with_memory(self, memory: Memory | None) -> RoutingModel:
        """This model with another memory (or none); the arrays are shared, not copied."""
        other = copy.copy(self)
        other.memory = memory
        return other

    # -- files --------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> RoutingModel:
        path = Path(path) if path is not None else DEFAULT_MODEL_FILE
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path, allow_pickle=False) as data:
            weights = data["weights"]
            bias = data["bias"]
            vocab = bytes(data["vocab"]).decode("utf-8").split("\n") if data["vocab"].size else []
            optional = {name: data[name] for name in ("hidden_bias", "output", "weight_scale") if name in data.files}
            memory = Memory.from_arrays(data) if "memory_vectors" in data.files else None
        return cls(weights, bias, vocab, meta, **optional, memory=memory)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = np.frombuffer("\n".join(self.vocab_list).encode("utf-8"), dtype=np.uint8)
        # a fixed timestamp inside the zip, so the same model always gives the same bytes
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            arrays = [("weights", self.weights), ("bias", self.bias), ("vocab", vocab)]
            if self.output is not None:
                arrays += [("hidden_bias", self.hidden_bias), ("output", self.output)]
            if self.weight_scale is not None:
                arrays.append(("weight_scale", self.weight_scale))
            if self.memory is not None:
                arrays += list(self.memory.arrays().items())
            for name, array in arrays:
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(info, "w") as handle:
                    np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)
        path.with_suffix(".json").write_text(json.dumps(self.meta, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")

    # -- inference ----------------------------------------------------------------------------------------------
    @property
    def rule_scale(self) -> float:
        """How much a rule feature counts against one n-gram (0: the model does not use rule features)."""
        return float(self.meta.get("params", {}).get("rule_features", 0.0))

    def feature_vectors(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        """The feature vectors of these rows, float32 (``len(rows)`` x the weights' width)."""
        if self._weights32 is not None:
            return self._weights32[rows]
        return self.weights[rows].astype(np.float32) * self.weight_scale[rows, None]

    def _summed(self, rows: list[int]) -> np.ndarray:
        if not rows:
            return np.zeros(self.weights.shape[1], np.float32)
        if self._weights32 is not None:
            return self._weights32[rows].sum(axis=0)
        return self.weight_scale[rows] @ self.weights[rows].astype(np.float32)

    def raw(self, normalised: str, rules: list[str] = ()) -> tuple[np.ndarray, list[int], np.ndarray | None]:
        """The columns' scores (logits), the feature rows used, and the hidden units' activations (network)."""
        vocab = self.vocab
        rows = [i for f in features(normalised) if (i := vocab.get(f)) is not None]
        extra = [i for f in rules if (i := vocab.get(f)) is not None] if self.rule_scale else []
        n = len(rows) + len(extra)
        summed = self._summed(rows)
        if extra:
            summed = summed + np.float32(self.rule_scale) * self._summed(extra)
        if n:
            summed = summed * np.float32(1 / math.sqrt(n))
        if self.output is None:
            return summed + self.bias, rows, None
        hidden = np.maximum(summed + self.hidden_bias, 0)
        return hidden @ self.output + self.bias, rows, hidden

    def predict(self, normalised: str, rules: list[str] = (), *, evidence: int = 4) -> Prediction:
        scores, rows, hidden = self.raw(normalised, rules)
        lead = _softmax(scores[self._lead])
        involved = 1.0 / (1.0 + np.exp(-np.clip(scores[self._involved], -30, 30)))
        priority = _softmax(scores[self._priority])
        best = int(lead.argmax())
        top: tuple[str, ...] = ()
        if rows and evidence:
            used = np.asarray(rows)
            readable = used[self._wordlike[used]]
            if not len(readable):
                readable = used
            if hidden is None:
                contributions = self.feature_vectors(readable)[:, best]
            else:
                # the lead's logit is linear in the summed features while the active units stay active: each
                # feature's share is its row through those units to the lead's column
                contributions = self.feature_vectors(readable) @ (self.output[:, best] * (hidden > 0))
            order = np.argsort(-contributions, kind="stable")[:evidence]
            spelt = surface_forms(normalised)
            top = tuple(_readable(self.vocab_list[readable[i]], spelt) for i in order if contributions[i] > 0)
        deps = self.departments
        return Prediction(
            lead={deps[i]: float(lead[i]) for i in range(len(deps))},
            involved={deps[i]: float(involved[i]) for i in range(len(deps))},
            priority={p: float(priority[i]) for i, p in enumerate(self.priorities)},
            evidence=top, known=len(rows),
            # a text with no known feature has only the biases' activations: every such text would meet the same
            # neighbours, which say nothing about it
            memory=self.memory.police_share(hidden) if self.memory is not None and hidden is not None and rows
            else None)


def quantise(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(q, scale)``: int8 rows and one float32 scale per row, ``q[i] * scale[i]`` within ``scale[i] / 2`` of
    ``weights[i]`` (symmetric, the row's largest magnitude maps to 127)."""
    scale = (np.abs(weights).max(axis=1) / 127).astype(np.float32)
    safe = np.where(scale > 0, scale, 1).astype(np.float32)
    q = np.clip(np.rint(weights / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()
