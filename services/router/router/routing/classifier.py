"""Deciding where a report goes: the classifier seam and the first classifier, keyword matching.

A :class:`Classifier` turns a report's free text into a :class:`RoutingDecision`: whether it is a police matter,
which department leads, which assist, how urgent it is, how sure the classifier is and why. The routing service
depends only on the protocol. The router's default classifier is the routing engine (:mod:`router.engine`), which
uses :class:`KeywordClassifier` as its rules layer (:meth:`KeywordClassifier.analyse` exposes the evidence) and
combines it with a statistical model; ``LINKAGE_ROUTER_CLASSIFIER=keywords`` runs the rules alone.

:class:`KeywordClassifier` routes by the terms in the department registry (``shared/registry/departments.toml``):

1. The text is normalised (NFKC, case-folded). Chinese terms match as substrings; the registry lists simplified
   and traditional forms. English terms match whole words with light inflection tolerance (``leak`` matches
   ``leaks``/``leaked``/``leaking``), skipping articles.
2. Where terms of different departments overlap, the longest match wins, and an exact word beats an inflection of
   another term. Each department scores its distinct terms (phrases 1.5, single words 1).
3. Departments the report was refused by (``exclude``) drop out; a department that is not routable at ``at``
   (heating out of season, a temporary department switched off) hands its evidence to its fallback.
4. The first matching joint rule chooses the lead and every matching rule adds its assisting departments; without
   one, the highest score leads (ties: registry order). Police joins whenever police terms matched.
5. Priority: P1 triggers win, then P2, then P4 markers, else P3; joint rules can raise it.
6. Nothing placeable matched: lead ``grid``, confidence 0, ``needs_review``. Confidence below 0.5 always needs
   review by centre staff.

The classifier is pure: it compiles its matchers once, does no I/O and keeps no state between calls, so one
instance is safely shared by every request and consumer task.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple, Protocol

from shared.registry import FALLBACK_DEPARTMENT, POLICE_DEPARTMENT, PRIORITIES, JointRule, Priority, Registry

__all__ = ["REVIEW_THRESHOLD", "Classifier", "KeywordClassifier", "Priority", "RoutingDecision", "RuleAnalysis"]

REVIEW_THRESHOLD = 0.5  # decisions less confident than this go to the triage queue


@dataclass(frozen=True)
class RoutingDecision:
    police: bool
    lead: str
    assisting: tuple[str, ...]
    priority: Priority
    confidence: float
    explanation: str
    needs_review: bool
    classifier: str
    # departments to dispatch at once even while the decision waits in triage for centre staff: a report that may
    # be a police matter reaches police while it waits
    dispatch_while_review: tuple[str, ...] = ()

    @property
    def departments(self) -> tuple[str, ...]:
        return (self.lead, *self.assisting)


class Classifier(Protocol):
    name: str

    def classify(self, text: str, *, at: datetime | None = None, exclude: frozenset[str] = frozenset(),
                 switched_on: frozenset[str] = frozenset()) -> RoutingDecision: ...


# ---------------------------------------------------------------------------------------------------------------
# Text normalisation and multi-term matching
# ---------------------------------------------------------------------------------------------------------------

_LETTERS = "a-z0-9\u00c0-\u024f"
_WORD = re.compile(rf"[{_LETTERS}]+(?:'[{_LETTERS}]+)*")
_WORD_TERM = re.compile(rf"[{_LETTERS}' \-]+")
_ARTICLES = frozenset({"a", "an", "the"})
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), case-folded, typographic apostrophes made plain."""
    return unicodedata.normalize("NFKC", text).casefold().translate(_QUOTES)


def stem(word: str) -> str:
    """A deliberately small English stemmer: the same key for a word and its common inflections
    (pipe/pipes, leak/leaked/leaking, trap/trapped, injury/injuries, gas/gases). Both the registry's terms and
    the report's words go through it, so it only needs to be consistent, not linguistically right."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
    elif len(word) > 4 and ((word.endswith("ed") and not word.endswith("eed"))
                            or (word.endswith("es") and word[-3] in "sxzh")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


class _Token(NamedTuple):
    stem: str
    word: str
    start: int
    end: int


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _WORD.finditer(text):
        word = match.group()
        if word.endswith("'s"):
            word = word[:-2]
        if word and word not in _ARTICLES:
            tokens.append(_Token(stem(word), word, match.start(), match.end()))
    return tokens


# What a term stands for: ("dept", code), ("priority", level), ("ignore", ""), ("combined", index, group),
# ("joint", index, group).
Label = tuple[str, ...] | tuple[str, int, int]


class _Hit(NamedTuple):
    start: int
    end: int
    exact: bool  # the text has the term's own words, not inflections of them
    length: int  # length of the normalised term: the more specific term wins an overlap
    label: Label
    term: str  # as written in the registry, for explanations

    @property
    def span(self) -> int:
        return self.end - self.start


@dataclass
class _TermIndex:
    """All registry terms in two lookup tables: Chinese (any non-word term) by first character, English by the
    stem of the first word. One scan of a report finds every occurrence of every term, overlaps included."""

    substrings: dict[str, dict[str, list[tuple[Label, str]]]] = field(default_factory=dict)
    words: dict[str, dict[tuple[str, ...], tuple[tuple[str, ...], list[tuple[Label, str]]]]] = \
        field(default_factory=dict)  # first stem -> {words: (stems, [(label, term)])}

    def add(self, term: str, label: Label) -> None:
        key = normalise(term).strip()
        if not key:
            return
        if _WORD_TERM.fullmatch(key):
            tokens = _tokens(key)
            if not tokens:
                return
            stems = tuple(t.stem for t in tokens)
            words = tuple(t.word for t in tokens)
            entry = self.words.setdefault(stems[0], {}).setdefault(words, (stems, []))
            entry[1].append((label, term))
        else:
            self.substrings.setdefault(key[0], {}).setdefault(key, []).append((label, term))

    def compile(self) -> _CompiledIndex:
        substrings = {first: tuple(sorted(((key, tuple(payload)) for key, payload in bucket.items()),
                                          key=lambda item: -len(item[0])))
                      for first, bucket in self.substrings.items()}
        words = {first: tuple((stems, words, len(" ".join(words)), tuple(payload))
                              for words, (stems, payload) in bucket.items())
                 for first, bucket in self.words.items()}
        return _CompiledIndex(substrings, words)


@dataclass(frozen=True)
class _CompiledIndex:
    substrings: dict[str, tuple[tuple[str, tuple[tuple[Label, str], ...]], ...]]
    words: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...], int, tuple[tuple[Label, str], ...]], ...]]

    def scan(self, text: str) -> list[_Hit]:
        hits: list[_Hit] = []
        substrings = self.substrings
        for i, char in enumerate(text):
            bucket = substrings.get(char)
            if bucket is not None:
                for key, payload in bucket:
                    if text.startswith(key, i):
                        for label, term in payload:
                            hits.append(_Hit(i, i + len(key), True, len(key), label, term))
        tokens = _tokens(text)
        words = self.words
        for i, token in enumerate(tokens):
            entries = words.get(token.stem)
            if entries is None:
                continue
            for stems, term_words, length, payload in entries:
                n = len(stems)
                if i + n > len(tokens) or any(tokens[i + k].stem != stems[k] for k in range(1, n)):
                    continue
                exact = all(tokens[i + k].word == term_words[k] for k in range(n))
                for label, term in payload:
                    hits.append(_Hit(token.start, tokens[i + n - 1].end, exact, length, label, term))
        return hits


def _longest_first(hits: Iterable[_Hit]) -> list[_Hit]:
    """Resolve overlapping department terms: longer text first, then exact words, then the longer term. Hits on
    the very same words by equally good terms all stay (the text supports each department equally)."""
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.span, not h.exact, -h.length, h.start)):
        if all(hit.end <= k.start or k.end <= hit.start
               or (hit.start, hit.end, hit.exact, hit.length) == (k.start, k.end, k.exact, k.length) for k in kept):
            kept.append(hit)
    kept.sort(key=lambda h: h.start)
    return kept


def _ignored(hit: _Hit, ignores: list[_Hit]) -> bool:
    """A trigger inside a longer ignore phrase, or an inflected trigger on an ignore phrase's exact words."""
    return any(i.start <= hit.start and hit.end <= i.end and (i.span > hit.span or (i.exact and not hit.exact))
               for i in ignores)


# A trigger denied right before it is not the matter: "nothing is on fire", "there's no gas leak", "nobody is
# unconscious", "不是火灾", "没有煤气泄漏", "未发现明火". Only the words just before the trigger, in the same clause,
# count (a comma or a full stop ends a denial), and not a question's "是不是"/"有没有" ("是不是着火了?" is no denial),
# nor 沉没/淹没 ("sank", "flooded") or 没人 ("nobody home": "家里没人着火了" is a fire), while 没有人 is ("没有人受伤"). In
# Chinese a hypothetical counts too: "假如家里燃气泄漏…" (if, in case: 假如, 如果, 万一, 要是, a few words before).
_DENIED_EN = re.compile(
    r"(?:^|[\s(\"])(?:no|not|nothing|nobody|no one|no-one|none|never|without|isn't|wasn't|aren't|weren't|isnt|wasnt"
    r"|hasn't|haven't|didn't|doesn't|don't)"
    r"(?:\s+(?:is|was|are|were|been|be|a|an|any|the|sign of|signs of|smell of|evidence of|longer|real|actual))*\s+$")
_DENIED_ZH = re.compile(r"(?<![是有沉淹埋出])(?:没有人|沒有人|没有|沒有|没|沒|冇|不是|唔係|并非|並非|并没有|並沒有|无人|無人|无|無|未"
                        r"|并未|並未)(?:发生|發生|出现|出現|发现|發現|闻到|聞到|看到|起)?$"
                        # a hypothetical: "假如家里燃气泄漏应该怎么办"
                        r"|(?:假如|如果|万一|萬一|假设|假設|要是)[^，。！？；,.!?;]{0,8}$")


def _denied(hit: _Hit, text: str) -> bool:
    """Whether the words just before a trigger deny it (see ``_DENIED_EN`` and ``_DENIED_ZH``)."""
    before = text[max(0, hit.start - 40):hit.start]
    return bool(_DENIED_ZH.search(before) if before and not before[-1].isascii() else _DENIED_EN.search(before))


def _weight(term: str) -> float:
    key = normalise(term).strip()
    if _WORD_TERM.fullmatch(key):
        return 1.5 if len(_tokens(key)) > 1 else 1.0
    return 1.5 if len(key) >= 3 else 1.0


def joint_placement(rules: Iterable[JointRule], place: Callable[[str], str | None]
                    ) -> tuple[str | None, tuple[str, ...]]:
    """Where matching joint rules send a report: the lead (the first rule's whose lead can take it now, through
    ``place``: presence modes and refusals) and every department they name, leads included, in rule order."""
    rules = tuple(rules)
    lead = next((target for rule in rules if rule.lead is not None and (target := place(rule.lead)) is not None),
                None)
    departments = dict.fromkeys(target for rule in rules for code in (rule.lead, *rule.assisting)
                                if code is not None and (target := place(code)) is not None)
    return lead, tuple(departments)


def _quoted(terms: Iterable[str]) -> str:
    return ", ".join(f"'{t}'" for t in terms)


# ---------------------------------------------------------------------------------------------------------------
# The keyword classifier
# ---------------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RuleAnalysis:
    """What the rules found, for a combiner that weighs them against other evidence (``router.engine``)."""

    decision: RoutingDecision  # the keyword classifier's own decision
    scores: dict[str, float]  # evidence per (resolved) department: its distinct terms, weighted
    terms: dict[str, tuple[str, ...]]  # the matched terms per (resolved) department
    joint: tuple[JointRule, ...]  # joint rules whose every group matched
    joint_lead: str | None  # the (resolved) lead of the first matching joint rule that can lead now
    joint_departments: tuple[str, ...]  # every (resolved) department a matching joint rule names
    priority: Priority  # from triggers, combined and joint rules (P3 when nothing matched)
    priority_note: str
    parts: tuple[str, ...]  # the explanation's parts, department evidence first, the priority note last
    refused: dict[str, list[str]]
    matched: tuple[str, ...] = ()  # departments whose terms matched, before presence and refusals
    # the priority from triggers and combined rules alone, without the joint rules' (see :meth:`priority_without`)
    trigger_priority: Priority = "P3"
    trigger_priority_note: str = ""

    def priority_without(self, set_aside: Iterable[JointRule]) -> tuple[Priority, str]:
        """The rules' priority and its note once a combiner has set some joint rules aside: their priority goes with
        them; the triggers' own stay unmissable."""
        set_aside = tuple(set_aside)
        if not set_aside:
            return self.priority, self.priority_note
        priority, note = self.trigger_priority, self.trigger_priority_note
        for rule in self.joint:
            if rule not in set_aside and rule.priority is not None and (
                    PRIORITIES.index(rule.priority) < PRIORITIES.index(priority)):
                priority, note = rule.priority, f"priority {rule.priority}: joint rule '{rule.name}'"
        return priority, note


@dataclass
class _Candidate:
    """Evidence for one (resolved) department: its distinct terms, and the department each came from."""

    terms: dict[str, float] = field(default_factory=dict)
    sources: dict[str, list[str]] = field(default_factory=dict)

    @property
    def score(self) -> float:
        return sum(self.terms.values())

    def add(self, source: str, term: str) -> None:
        if term not in self.terms:
            self.terms[term] = _weight(term)
        if term not in (listed := self.sources.setdefault(source, [])):
            listed.append(term)


class KeywordClassifier:
    """Routes by the registry's terms, priority triggers and joint rules; see the module docstring."""

    name = "keywords-v1"

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._order = {code: i for i, code in enumerate(registry.codes())}
        rules = registry.priority_rules
        self._combined = rules.combined
        self._joint = registry.joint_rules
        index = _TermIndex()
        for department in registry.departments.values():
            for term in department.keywords:
                index.add(term, ("dept", department.code))
        for level in ("P1", "P2", "P4"):
            for term in rules.terms(level):
                index.add(term, ("priority", level))
        for term in rules.ignore:
            index.add(term, ("ignore", ""))
        for r, combined in enumerate(rules.combined):
            for g, group in enumerate(combined.when_all):
                for term in group:
                    index.add(term, ("combined", r, g))
        for r, joint in enumerate(registry.joint_rules):
            for g, group in enumerate(joint.when_all):
                for term in group:
                    index.add(term, ("joint", r, g))
        self._index = index.compile()

    def classify(self, text: str, *, at: datetime | None = None, exclude: frozenset[str] = frozenset(),
                 switched_on: frozenset[str] = frozenset()) -> RoutingDecision:
        return self.analyse(text, at=at, exclude=exclude, switched_on=switched_on).decision

    def analyse(self, text: str, *, at: datetime | None = None, exclude: frozenset[str] = frozenset(),
                switched_on: frozenset[str] = frozenset()) -> RuleAnalysis:
        """The decision together with the evidence behind it."""
        at = at if at is not None else datetime.now().astimezone()
        exclude = frozenset(exclude)
        registry = self._registry

        normalised = normalise(text)
        hits = self._index.scan(normalised)
        ignores = [h for h in hits if h.label[0] == "ignore"]
        department_hits = _longest_first(h for h in hits if h.label[0] == "dept")
        triggers = [h for h in hits if h.label[0] in ("priority", "combined", "joint") and not _ignored(h, ignores)
                    and (h.label == ("priority", "P4") or not _denied(h, normalised))]

        def place(code: str) -> str | None:
            """Where ``code``'s matters go now: itself, its fallback, or nowhere (refused)."""
            if code in exclude:
                return None
            target = registry.resolve(code, at, switched_on)
            return None if target in exclude else target

        # Evidence per department, resolved for presence and refusals.
        candidates: dict[str, _Candidate] = {}
        refused: dict[str, list[str]] = {}
        for hit in department_hits:
            code = str(hit.label[1])
            target = place(code)
            if target is None:
                if hit.term not in (listed := refused.setdefault(code, [])):
                    listed.append(hit.term)
            else:
                candidates.setdefault(target, _Candidate()).add(code, hit.term)

        # Joint rules: every group needs a trigger.
        group_terms: dict[tuple[str, int, int], list[str]] = {}
        for hit in triggers:
            if hit.label[0] in ("joint", "combined"):
                group_terms.setdefault(hit.label, []).append(hit.term)  # type: ignore[arg-type]
        joint = [rule for r, rule in enumerate(self._joint)
                 if all(("joint", r, g) in group_terms for g in range(len(rule.when_all)))]

        lead, rule_order = joint_placement(joint, place)
        by_joint_rule = lead is not None
        ranked = sorted(candidates, key=lambda c: (-candidates[c].score, self._order[c]))
        assisting = list(rule_order)
        by_rule = set(assisting)  # every department a matching joint rule placed, its lead included
        if lead is None:
            lead = ranked[0] if ranked else (assisting[0] if assisting else FALLBACK_DEPARTMENT)
        if POLICE_DEPARTMENT in candidates and POLICE_DEPARTMENT not in assisting:
            assisting.append(POLICE_DEPARTMENT)
        assisting = [code for code in assisting if code != lead]
        departments = (lead, *assisting)

        priority, priority_note = self._priority(triggers, group_terms, joint)
        trigger_priority, trigger_note = self._priority(triggers, group_terms, []) if joint else (priority,
                                                                                                   priority_note)
        confidence = self._confidence(candidates, departments, lead, by_joint_rule)
        nothing_placed = lead not in candidates and lead not in by_rule

        parts = []
        for code in departments:
            candidate = candidates.get(code)
            if candidate is None:
                if code in by_rule:
                    parts.append(f"{code}: by joint rule")
                continue
            for source, terms in candidate.sources.items():
                suffix = "" if source == code else f" (for {source}, not routable now)"
                parts.append(f"{code}: matched {_quoted(terms)}{suffix}")
        parts += [f"joint rule '{rule.name}': " + (f"lead {rule.lead}" + (
                      f", assisting {', '.join(rule.assisting)}" if rule.assisting else "")
                      if rule.lead is not None else f"adds {', '.join(rule.assisting)}") for rule in joint]
        left_out = [code for code in ranked if code not in departments]
        if left_out:
            parts.append("also matched, not assigned: " + "; ".join(
                f"{code} ({_quoted(candidates[code].terms)})" for code in left_out))
        if refused:
            parts.append("excluded: " + "; ".join(f"{code} ({_quoted(terms)})" for code, terms in refused.items()))
        if nothing_placed:
            parts.append(f"no department matched; fallback {FALLBACK_DEPARTMENT}"
                         + (" (excluded too: centre staff must place it)" if FALLBACK_DEPARTMENT in exclude else ""))
        parts.append(priority_note)

        needs_review = confidence < REVIEW_THRESHOLD or lead in exclude
        police = POLICE_DEPARTMENT in departments
        decision = RoutingDecision(
            police=police, lead=lead, assisting=tuple(assisting), priority=priority,
            confidence=confidence, explanation="; ".join(parts), needs_review=needs_review, classifier=self.name,
            dispatch_while_review=(POLICE_DEPARTMENT,) if needs_review and police and POLICE_DEPARTMENT not in exclude
            else ())
        return RuleAnalysis(
            decision=decision, scores={code: c.score for code, c in candidates.items()},
            terms={code: tuple(c.terms) for code, c in candidates.items()}, joint=tuple(joint),
            joint_lead=lead if by_joint_rule else None, joint_departments=rule_order,
            priority=priority, priority_note=priority_note, parts=tuple(parts), refused=refused,
            matched=tuple(dict.fromkeys(str(h.label[1]) for h in department_hits)),
            trigger_priority=trigger_priority, trigger_priority_note=trigger_note)

    def _priority(self, triggers: list[_Hit], group_terms: dict[tuple[str, int, int], list[str]],
                  joint: list[JointRule]) -> tuple[Priority, str]:
        reasons: dict[str, list[str]] = {"P1": [], "P2": [], "P4": []}
        for hit in triggers:
            if hit.label[0] == "priority" and (quoted := f"'{hit.term}'") not in reasons[str(hit.label[1])]:
                reasons[str(hit.label[1])].append(quoted)
        for r, combined in enumerate(self._combined):
            groups = [group_terms.get(("combined", r, g)) for g in range(len(combined.when_all))]
            if all(groups):
                terms = _quoted(dict.fromkeys(g[0] for g in groups if g))
                reasons[combined.level].append(f"'{combined.name}' ({terms})")
        for rule in joint:
            if rule.priority in reasons:
                reasons[rule.priority].append(f"joint rule '{rule.name}'")
        for level in ("P1", "P2", "P4"):
            if reasons[level]:
                return level, f"priority {level}: matched {', '.join(reasons[level])}"
        return "P3", "priority P3: no priority trigger (routine)"

    @staticmethod
    def _confidence(candidates: dict[str, _Candidate], departments: tuple[str, ...], lead: str,
                    by_joint_rule: bool) -> float:
        """Grows with the lead's evidence (one short term 0.6, two 0.84, three 0.94) and shrinks with evidence for
        departments left out of the decision (an even split costs about 30 %). A joint rule is strong evidence."""
        lead_score = candidates[lead].score if lead in candidates else 0.0
        left_out = max((c.score for code, c in candidates.items() if code not in departments), default=0.0)
        if lead_score == 0.0:
            confidence = 0.0
        else:
            confidence = (1 - 0.4 ** lead_score) * math.sqrt(lead_score / (lead_score + left_out))
        if by_joint_rule:
            confidence = max(confidence, 0.85)
        return round(min(confidence, 0.99), 3)
