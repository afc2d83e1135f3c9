"""Text normalisation and features for the statistical layer of the routing engine.

One model serves simplified Chinese, traditional Chinese and English, so every text goes through the same steps,
at training time and at run time (this module is the only place they are defined):

1. **Normalise**: NFKC (full-width letters, digits and punctuation become ASCII), case-fold, typographic quotes
   made plain, and traditional characters mapped to simplified ones with a character table (``t2s.json`` next to
   this module, exported from ``zhconv``'s dictionary by :mod:`router.engine.charmap`, so run time needs no
   conversion library). A character table is not a full phrase converter, but the few one-to-many cases
   (``著``/``着``, ``乾``/``干``) only blur a handful of n-grams, which the classifier tolerates.
2. **Features** (sparse, binary, then L2-normalised), chosen because Chinese is not segmented and callers type
   fast:

   - Chinese: character 1-, 2- and 3-grams inside each run of Han characters (punctuation, digits and Latin
     letters end a run). No word segmenter: n-grams capture words and short phrases (``燃气``, ``漏气``,
     ``没人收``) without a dictionary that would miss dialect and typos.
   - English: stemmed word unigrams and bigrams (the small stemmer of the keyword classifier) and character
     3- and 4-grams of each word with boundary marks, which tolerate typos and unseen inflections
     (``garbge``, ``electrocuted``). Digits become ``0`` so house numbers and dates do not become features.
   - Each family has its own prefix, so a Chinese bigram never collides with an English one.

Feature strings are mapped to columns by a fixed vocabulary saved with the model (features seen in at least two
training texts); features outside it are ignored.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from router.routing.classifier import stem

__all__ = ["features", "normalise", "rule_features", "to_simplified"]

CHARMAP_FILE = Path(__file__).with_name("t2s.json")

_QUOTES = {"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"}
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:'[a-z\u00c0-\u024f]+)*")
_DIGITS = re.compile(r"[0-9]+")
_STOP = frozenset({"a", "an", "the", "and", "or", "of", "to", "is", "are", "was", "were", "be", "it", "in", "on",
                   "at", "for", "i", "we", "my", "our", "me", "us", "this", "that", "there", "s"})


# Talking *about* contacting the police is not the matter itself ("I called the police last year about the dogs,
# now it's the bins"). Such phrases become one token, so the model learns from the data how much (little) they say,
# instead of reading them as the words "police" or "报警".
_POLICE_CONTACT = re.compile(
    r"\b(?:i|we|she|he|they|someone|neighbours?|neighbors?)?\s*(?:had\s+|have\s+|'ve\s+|already\s+)?"
    r"(?:called|phoned|rang|contacted|reported\s+(?:it|this|that)?\s*to|told|went\s+to|call(?:ing)?)\s+"
    r"(?:the\s+)?(?:police|cops|999|911|110)\b"
    r"|\b(?:police|cops)\s+(?:came|were\s+(?:called|here|round|out)|said|told|have\s+been|had\s+been|already"
    r"|visited|attended)\b"
    r"|报过警|报了警|已经报警|已报警|报警了|报警过|打过110|打了110|打过幺幺零|找过派出所|找过警察|警察来过|警察来了"
    r"|派出所来过|派出所说|警察说|民警来过")


# Asides: clauses that are not the matter and whose words must not make a report a police matter when the rest of
# it is plainly another department's ("Our bins were missed again. Maybe someone stole the lids, they're gone too";
# "I called the police last year about a burglary, but today it's the street light"): a guess that *someone* stole
# something, and a contact with the police in the past. Matched per clause of a normalised text (simplified, case-
# folded); the combiner decides without them only when that leaves a sure decision for another department.
_CLAUSE = re.compile(r"[^.!?;。！？；,，\n]+[.!?;。！？；,，\n]*")
_HEDGE_EN = re.compile(r"\b(?:maybe|perhaps|possibly|probably|might(?:\s+have)?|may\s+have|must\s+have|could\s+have"
                       r"|i\s+guess|i\s+suppose|i\s+reckon|who\s+knows)\b")
_SOMEONE_EN = re.compile(r"\b(?:someone|somebody|some1|some\s+one|kids|people)\b")
_THEFT_EN = re.compile(r"\b(?:stole|stolen|steal|nicked|pinched|swiped|nabbed|taken|took)\b")
_HEDGE_ZH = re.compile(r"可能|也许|大概|说不定|估计|没准|或许")
_THEFT_ZH = re.compile(r"偷|拿走|顺走|捡走")
# a contact with the police that happened: a past verb, or the police having come, and a time before today
_PAST_CONTACT_EN = re.compile(
    r"\b(?:called|phoned|rang|contacted|reported\s+(?:[\w'-]+\s+){0,4}?to|told|went\s+to)\s+(?:the\s+)?"
    r"(?:police|cops|999|911|110)\b|\b(?:police|cops)\s+(?:came|were\s+(?:called|here|round|out)|visited|attended)\b")
# "before" only as an adverb ("I've called the police before", "twice before"), not a conjunction ("I called the
# police before I rang you because ..."); "back in" only before a year or a month
_PAST_EN = re.compile(r"\b(?:last\s+(?:year|month|week|summer|winter|spring|autumn|fall|time)|(?:years?|months?|weeks?)"
                      r"\s+ago|previously|in\s+the\s+past|a\s+while\s+back|(?:once|twice|times|ever)\s+before"
                      r"|before\s*[.,;!?]*$|back\s+in\s+(?:\d{4}|january|february|march|april|may|june|july|august"
                      r"|september|october|november|december|the\s+day))\b")
_PAST_CONTACT_ZH = re.compile(r"报过警|报了警|打过110|打了110|找过派出所|找过警察|警察来过|派出所来过|民警来过")
_PAST_ZH = re.compile(r"去年|前年|上个月|上个星期|上周|上次|几年前|那次|早前|好久以前|很久以前")  # not 之前/以前: "半小时之前"


def asides(normalised: str) -> list[str]:
    """The clauses of a normalised text that are asides (above), in order."""
    out = []
    for match in _CLAUSE.finditer(normalised):
        clause = match.group()
        guessed_theft = bool(_HEDGE_EN.search(clause) and _THEFT_EN.search(clause) and _SOMEONE_EN.search(clause)
                             or _HEDGE_ZH.search(clause) and _THEFT_ZH.search(clause))
        past_police = bool(_PAST_CONTACT_EN.search(clause) and _PAST_EN.search(clause)
                           or _PAST_CONTACT_ZH.search(clause) and _PAST_ZH.search(clause))
        if guessed_theft or past_police:
            out.append(clause)
    return out


def without_asides(normalised: str, found: list[str]) -> str | None:
    """The normalised text without the clauses ``found`` by :func:`asides`, or ``None`` when too little is left to
    decide on (fewer than 8 characters)."""
    rest = normalised
    for clause in found:
        rest = rest.replace(clause, " ", 1)
    rest = " ".join(rest.split())
    return rest if len(rest) >= 8 else None


@lru_cache(maxsize=1)
def _table() -> dict[int, str]:
    table = {ord(k): v for k, v in _QUOTES.items()}
    try:
        mapping = json.loads(CHARMAP_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:  # only while bootstrapping the map itself
        mapping = {}
    table.update({ord(k): v for k, v in mapping.items()})
    return table


def to_simplified(text: str) -> str:
    """Traditional characters replaced by their simplified form (character by character)."""
    return text.translate(_table())


def normalise(text: str) -> str:
    """NFKC, case-folded, plain quotes, simplified characters."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_table())


def _words(text: str) -> Iterator[tuple[str, str, str | None]]:
    """The words of a normalised text as the features read them: (the word without "'s" and with its digits as 0,
    the word as written, its stem); the stem is None for a word that is only digits (it breaks word pairs)."""
    for match in _WORD.finditer(text):
        written = match.group()
        word = _DIGITS.sub("0", written[:-2] if written.endswith("'s") else written)
        yield word, written, (stem(word) if word and word != "0" else None)


def features(text: str) -> list[str]:
    """The distinct feature strings of a *normalised* text, in first-seen order."""
    out: dict[str, None] = {}
    text = _POLICE_CONTACT.sub(" policecontact ", text)
    for run in _HAN.findall(text):
        n = len(run)
        for i in range(n):
            out["c" + run[i]] = None
            if i + 1 < n:
                out["c" + run[i:i + 2]] = None
                if i + 2 < n:
                    out["c" + run[i:i + 3]] = None
    previous = None
    for word, _, stemmed in _words(text):
        if stemmed is None:
            previous = None
            continue
        if word not in _STOP:
            out["w" + stemmed] = None
            if len(word) >= 3 and word != "policecontact":
                marked = f"<{word}>"
                for size in (3, 4):
                    for i in range(len(marked) - size + 1):
                        out["g" + marked[i:i + size]] = None
        if previous is not None:
            out["b" + previous + " " + stemmed] = None
        previous = stemmed
    return list(out)


def surface_forms(text: str) -> dict[str, str]:
    """The words of a *normalised* text as :func:`features` names them, mapped to how the text wrote them: a word
    feature to its first spelling ("wfir" → "fire"), a word pair to the first pair ("bcar alarm" → "car alarms").
    Evidence reads better in the caller's words than in the stemmer's."""
    out: dict[str, str] = {}
    previous: tuple[str, str] | None = None
    for _, word, stemmed in _words(_POLICE_CONTACT.sub(" policecontact ", text)):
        if stemmed is None:
            previous = None
            continue
        out.setdefault("w" + stemmed, word)
        if previous is not None:
            out.setdefault("b" + previous[0] + " " + stemmed, previous[1] + " " + word)
        previous = (stemmed, word)
    return out


def rule_features(analysis) -> list[str]:  # analysis: router.routing.classifier.RuleAnalysis
    """What the operator rules found, as features of the model (stacking): the departments whose terms matched
    (before presence modes and refusals, so the features do not depend on the date), the leads of matching joint
    rules, and the rules' priority. The model learns from the data how far to trust each of them, in context."""
    out = ["rd" + code for code in analysis.matched]
    out += ["rj" + rule.lead for rule in analysis.joint if rule.lead is not None]
    out.append("rp" + analysis.priority)
    return list(dict.fromkeys(out))
