"""The statistical layer's artifact and its inference: linear models over the features of :mod:`.text`.

The artifact is two files under ``router/engine/model/`` (shipped in the wheel, loaded at start, no network):

- ``routing-v1.npz``: ``weights`` (features x columns, float16), ``bias`` (columns, float32) and ``vocab`` (the
  feature strings, UTF-8, newline-separated, row order);
- ``routing-v1.json``: version, departments and priorities (column order), the SHA-256 of the training data and
  registry, the trainer's version, parameters and counts. No wall-clock date: retraining the same data gives
  byte-identical files.

Three heads share the feature rows; their columns sit side by side in ``weights``:

- ``lead``: one softmax over every department (multinomial logistic regression);
- ``involved``: one sigmoid per department, "is this department among the report's departments" (one-vs-rest
  logistic regression); ``involved[police]`` is the police-matter probability;
- ``priority``: one softmax over P1..P4.

Inference is a handful of numpy operations: look the features up in the vocabulary, add up their weight rows,
scale (the features are binary and L2-normalised), add the bias. It takes tens of microseconds.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router.engine.text import features

__all__ = ["DEFAULT_MODEL_FILE", "LinearModel", "Prediction"]

DEFAULT_MODEL_FILE = Path(__file__).with_name("model") / "routing-v1.npz"


@dataclass(frozen=True)
class Prediction:
    lead: dict[str, float]  # department -> probability (sums to 1)
    involved: dict[str, float]  # department -> probability it is among the departments
    priority: dict[str, float]  # P1..P4 -> probability
    evidence: tuple[str, ...]  # the features that most support the most probable lead, readable
    known: int  # how many of the text's features the model knows

    @property
    def police(self) -> float:
        return self.involved.get("police", 0.0)


def _readable(feature: str) -> str:
    kind, body = feature[0], feature[1:]
    if kind == "g":
        return body.strip("<>") + "…" if not (body.startswith("<") and body.endswith(">")) else body.strip("<>")
    return body


class LinearModel:
    """A trained artifact in memory. Pure and thread-safe after construction."""

    def __init__(self, weights: np.ndarray, bias: np.ndarray, vocab: list[str], meta: dict) -> None:
        self.weights = weights  # as stored (float16)
        self._weights32 = weights.astype(np.float32)  # summed at run time: float32 adds faster than float16
        self.bias = bias.astype(np.float32)
        self.vocab_list = vocab
        self.vocab = {f: i for i, f in enumerate(vocab)}
        self.meta = meta
        self.departments: list[str] = list(meta["departments"])
        self.priorities: list[str] = list(meta["priorities"])
        k = len(self.departments)
        self._lead = slice(0, k)
        self._involved = slice(k, 2 * k)
        self._priority = slice(2 * k, 2 * k + len(self.priorities))
        self.version: str = meta["version"]

    # -- files --------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path | None = None) -> LinearModel:
        path = Path(path) if path is not None else DEFAULT_MODEL_FILE
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        with np.load(path, allow_pickle=False) as data:
            weights = data["weights"]
            bias = data["bias"]
            vocab = bytes(data["vocab"]).decode("utf-8").split("\n") if data["vocab"].size else []
        return cls(weights, bias, vocab, meta)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = np.frombuffer("\n".join(self.vocab_list).encode("utf-8"), dtype=np.uint8)
        # a fixed timestamp inside the zip, so the same model always gives the same bytes
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in (("weights", self.weights), ("bias", self.bias), ("vocab", vocab)):
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

    def raw(self, normalised: str, rules: list[str] = ()) -> tuple[np.ndarray, list[int]]:
        vocab = self.vocab
        rows = [i for f in features(normalised) if (i := vocab.get(f)) is not None]
        extra = [i for f in rules if (i := vocab.get(f)) is not None] if self.rule_scale else []
        n = len(rows) + len(extra)
        if n:
            scores = self._weights32[rows].sum(axis=0) if rows else np.zeros_like(self.bias)
            if extra:
                scores = scores + np.float32(self.rule_scale) * self._weights32[extra].sum(axis=0)
            scores = scores * np.float32(1 / math.sqrt(n)) + self.bias
        else:
            scores = self.bias.copy()
        return scores, rows

    def predict(self, normalised: str, rules: list[str] = (), *, evidence: int = 4) -> Prediction:
        scores, rows = self.raw(normalised, rules)
        lead = _softmax(scores[self._lead])
        involved = 1.0 / (1.0 + np.exp(-np.clip(scores[self._involved], -30, 30)))
        priority = _softmax(scores[self._priority])
        best = int(lead.argmax())
        top: tuple[str, ...] = ()
        if rows and evidence:
            # words, word pairs and Chinese n-grams read better than English character n-grams
            readable = [r for r in rows if self.vocab_list[r][0] != "g"] or rows
            contributions = self._weights32[readable, best]
            order = np.argsort(-contributions, kind="stable")[:evidence]
            top = tuple(_readable(self.vocab_list[readable[i]]) for i in order if contributions[i] > 0)
        deps = self.departments
        return Prediction(
            lead={deps[i]: float(lead[i]) for i in range(len(deps))},
            involved={deps[i]: float(involved[i]) for i in range(len(deps))},
            priority={p: float(priority[i]) for i, p in enumerate(self.priorities)},
            evidence=top, known=len(rows))


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()
