"""The routing engine: operator rules and the statistical model, combined into one decision.

Layers (see also the README's "Routing engine" section):

1. **Rules** (:class:`router.routing.classifier.KeywordClassifier`, data in the department registry): department
   terms, priority triggers, combined priority rules and joint-handling rules, in both languages.
2. **Model** (:class:`router.engine.model.RoutingModel`): a small network over character/word n-grams trained
   on the repository's data set, with three heads: lead department, "department involved" (one per department;
   police's is the police-matter probability) and priority.
3. **Combiner** (this module), in this order:

   - *Lead*: a matching joint rule names the lead (operators' explicit joint-handling practice), unless the model
     gives that lead less than ``joint_lead_floor``: then the rule's terms matched a report that is not its matter,
     and the rule is set aside (named in the explanation; police named by it still decides police). Otherwise the
     model's lead distribution is blended with the rules' share of term evidence,
     ``q = (p_model + rule_weight * p_rules) / (1 + rule_weight)`` (only ``p_model`` when no term matched), and
     the most probable department that can take the report now leads. Presence modes and refusals apply to the
     model's departments exactly as to the rules' (:meth:`Registry.resolve`: heating out of season hands its
     probability to housing; an ``exclude``\\ d department's probability goes nowhere).
   - *Police*: the police probability blends the network's with the memory's share of police matters among the
     nearest training reports (``memory_weight``; :mod:`router.engine.memory`; without the memory's estimate the
     network's alone, with the ``*_network`` thresholds chosen for it). A police matter when a matching joint rule
     involves police, police leads, or that probability reaches ``police_threshold``
     (``police_threshold_sure_lead`` beside another department's lead of confidence ``sure_lead`` or more when no
     police term matched: weak police evidence next to a sure street-light report leaves the police question to
     triage instead of deciding it). Police terms alone do not make one ("I called the police last year"), and
     calm wording does not hide one (the model learnt the matter, not the tone). A *possible* police matter
     (probability at least ``police_possible``, or police terms with a non-negligible probability) that is not
     decided goes to triage with police in ``dispatch_while_review`` — and with the lead and assisting departments
     too when the routing itself is sure: only the police question waits for an operator. *Asides* are not the
     matter (:func:`router.engine.text.asides`: a guess that someone stole something, a contact with the police in
     the past): a report that is or may be a police matter, with an aside, is decided again without it, and that
     decision stands when it is sure of another department (``aside_sure``) and no longer a police matter.
   - *Assisting*: the joint rules' departments, and every department whose "involved" probability reaches
     ``assist_threshold`` (police is handled above).
   - *Priority*: the most urgent of the rules' triggers (P1 triggers are unmissable) and the model's priority,
     P1 from the model already at ``p1_threshold`` (recall first), unless the model is sure (``p1_enquiry``) that
     the report is information or an enquiry (P4: "fire drill tomorrow", "fire" in another sense); P4 only when
     the model says so and nothing is urgent.
   - *Confidence*: ``q`` of the lead (at least 0.85 when a joint rule decided); below ``review_threshold`` the
     report needs review by centre staff (triage queue) instead of being guessed.

The explanation names the rule terms and rules that fired, the model's probabilities and its strongest evidence
n-grams, and the combiner's reasons, in plain words. The engine is pure and thread-safe; one instance serves the
whole router.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from router.engine.model import RoutingModel
from router.engine.text import asides, normalise, rule_features, without_asides
from router.routing.classifier import KeywordClassifier, RoutingDecision, joint_placement
from shared.registry import FALLBACK_DEPARTMENT, POLICE_DEPARTMENT, PRIORITIES, Priority, Registry

__all__ = ["EngineSettings", "RoutingEngine"]


@dataclass(frozen=True)
class EngineSettings:
    review_threshold: float = 0.5
    # thresholds chosen on the held-out split for routing-v2's probabilities (README, "Routing engine")
    # (police thresholds apply to the blend of the network's probability and the memory's share, below)
    police_threshold: float = 0.025
    police_possible: float = 0.0025
    # beside a lead sure enough to dispatch without review (not police, no police term), police needs ...
    sure_lead: float = 0.5
    police_threshold_sure_lead: float = 0.08  # ... this much probability to be decided (else: possible)
    assist_threshold: float = 0.5
    p1_threshold: float = 0.02
    # ... unless the model is this sure the report is an enquiry or information (P4): "fire drill tomorrow"
    p1_enquiry: float = 0.85
    rule_weight: float = 0.25
    involved_weight: float = 0.0  # lead distribution sharpened by the involved heads: p_lead * p_involved ** w
    joint_lead_floor: float = 0.05  # a joint rule counts only if the model gives its lead at least this probability
    # police probability = (1 - w) * the network's + w * the memory's share of police matters among the nearest
    # training reports (router.engine.memory), when the model has a memory
    memory_weight: float = 0.7
    # without the memory's estimate (an artifact without a memory, a text with no known feature) the network
    # decides alone, with the thresholds chosen for it before the memory (stop 19)
    police_threshold_network: float = 0.05
    police_threshold_sure_lead_network: float = 0.1
    police_possible_network: float = 0.008
    # a report decided again without its asides (text.asides) takes that decision when its lead is this sure
    aside_sure: float = 0.8


class RoutingEngine:
    """Rules + model + combiner behind the :class:`~router.routing.classifier.Classifier` protocol."""

    def __init__(self, registry: Registry, model: RoutingModel | None = None,
                 settings: EngineSettings = EngineSettings()) -> None:
        self.registry = registry
        self.rules = KeywordClassifier(registry)
        self.model = model if model is not None else RoutingModel.load()
        self.settings = settings
        self.name = f"engine-{self.model.version}"
        self._order = {code: i for i, code in enumerate(registry.codes())}

    @classmethod
    def load(cls, registry: Registry, model_file: str | Path | None = None,
             settings: EngineSettings = EngineSettings()) -> RoutingEngine:
        return cls(registry, RoutingModel.load(model_file), settings)

    @lru_cache(maxsize=256)  # noqa: B019  # one engine lives as long as the process; keys are small
    def _placement(self, month: int, day: int, switched_on: frozenset[str], exclude: frozenset[str]
                   ) -> dict[str, str | None]:
        """Where each department's matters go on that day: itself, its fallback, or nowhere (refused)."""
        at = datetime(2000, month, day)  # a leap year: every month-day exists; presence depends on month-day only
        registry = self.registry
        out: dict[str, str | None] = {}
        for code in registry.codes():
            target = None if code in exclude else registry.resolve(code, at, switched_on)
            out[code] = None if target in exclude else target
        return out

    def classify(self, text: str, *, at: datetime | None = None, exclude: frozenset[str] = frozenset(),
                 switched_on: frozenset[str] = frozenset()) -> RoutingDecision:
        at = at if at is not None else datetime.now().astimezone()
        exclude = frozenset(exclude)
        decision = self._decide(text, at, exclude, switched_on)
        if not (decision.police or POLICE_DEPARTMENT in decision.dispatch_while_review):
            return decision
        # words in an aside are not the matter (text.asides): decided again without them, the decision for
        # another department stands when it is sure and no longer a police matter (a possible police matter stays
        # one unless the aside was all that made it so); what the aside said (its urgency, its departments) goes
        # with it, and everything else the report said is in the text decided again
        normalised = normalise(text)
        found = asides(normalised)
        rest = without_asides(normalised, found) if found else None
        if rest is None:
            return decision
        other = self._decide(rest, at, exclude, switched_on)
        if (other.police or other.lead == POLICE_DEPARTMENT or other.confidence < self.settings.aside_sure
                or (not decision.police and POLICE_DEPARTMENT in other.dispatch_while_review)):
            return decision
        quoted = "; ".join(f"'{clause.strip(' ,.;!?，。；！？')}'" for clause in found)
        return replace(other, explanation=f"aside, not the matter: {quoted} (decided without it); " + other.explanation)

    def _decide(self, text: str, at: datetime, exclude: frozenset[str], switched_on: frozenset[str]
                ) -> RoutingDecision:
        settings = self.settings
        registry = self.registry
        rules = self.rules.analyse(text, at=at, exclude=exclude, switched_on=switched_on)
        prediction = self.model.predict(normalise(text), rule_features(rules) if self.model.rule_scale else ())
        placement = self._placement(*registry.month_day(at), frozenset(switched_on), exclude)
        place = placement.get

        # -- lead ---------------------------------------------------------------------------------------------
        model_q: dict[str, float] = {}
        lead_p = prediction.lead
        if settings.involved_weight:
            lead_p = {c: p * prediction.involved.get(c, 0.0) ** settings.involved_weight for c, p in lead_p.items()}
            total = sum(lead_p.values()) or 1.0
            lead_p = {c: p / total for c, p in lead_p.items()}
        for code, p in lead_p.items():
            if (target := place(code)) is not None:
                model_q[target] = model_q.get(target, 0.0) + p
        total_rules = sum(rules.scores.values())
        if total_rules > 0:
            w = settings.rule_weight
            q = {code: (model_q.get(code, 0.0) + w * rules.scores.get(code, 0.0) / total_rules) / (1 + w)
                 for code in {*model_q, *rules.scores}}
            # a department the model was never trained on (added to the registry since, e.g. a temporary one an
            # operator switched on) has only the operators' terms to go by: they count in full
            for code, score in rules.scores.items():
                if code not in prediction.lead:
                    q[code] = score / total_rules
        else:
            q = model_q
        reasons: list[str] = []
        # a joint rule's terms can match a report that is not its matter ("sparks jumping off" a cable is no
        # suicide risk): a rule whose lead the model all but rules out is set aside, except that police named by a
        # matching rule still decides police (below)
        joint_lead, joint_departments = rules.joint_lead, rules.joint_departments
        set_aside = [rule for rule in rules.joint
                     if rule.lead is not None and prediction.lead.get(rule.lead, 1.0) < settings.joint_lead_floor]
        if set_aside:
            joint_lead, joint_departments = joint_placement((rule for rule in rules.joint if rule not in set_aside),
                                                            place)
            reasons += [f"joint rule '{rule.name}' set aside (model: lead {rule.lead} "
                        f"{prediction.lead.get(rule.lead, 0.0):.2f})" for rule in set_aside]
        if joint_lead is not None:
            lead = joint_lead
            confidence = max(0.85, q.get(lead, 0.0))
            reasons.append(f"lead {lead} by joint rule")
        elif q:
            lead = min(q, key=lambda c: (-q[c], self._order.get(c, 999)))
            confidence = q[lead]
            reasons.append(f"lead {lead}: combined probability {confidence:.2f}")
        else:
            lead, confidence = FALLBACK_DEPARTMENT, 0.0
            reasons.append(f"no department can take it now; fallback {FALLBACK_DEPARTMENT}")

        # -- police -------------------------------------------------------------------------------------------
        p_network = max(prediction.police, prediction.lead.get(POLICE_DEPARTMENT, 0.0))
        if prediction.memory is not None:
            share, _ = prediction.memory
            p_police = (1 - settings.memory_weight) * p_network + settings.memory_weight * share
            threshold, sure_threshold, possible_at = (settings.police_threshold, settings.police_threshold_sure_lead,
                                                      settings.police_possible)
        else:
            p_police = p_network
            threshold, sure_threshold, possible_at = (settings.police_threshold_network,
                                                      settings.police_threshold_sure_lead_network,
                                                      settings.police_possible_network)
        police_allowed = place(POLICE_DEPARTMENT) == POLICE_DEPARTMENT
        rule_police = POLICE_DEPARTMENT in rules.joint_departments
        police_terms = POLICE_DEPARTMENT in rules.scores
        if lead != POLICE_DEPARTMENT and not police_terms and confidence >= settings.sure_lead:
            threshold = max(threshold, sure_threshold)
        police = police_allowed and (lead == POLICE_DEPARTMENT or rule_police or p_police >= threshold)
        possible = police_allowed and not police and (
            p_police >= possible_at or (police_terms and p_police >= possible_at / 2))
        if police and lead != POLICE_DEPARTMENT:
            why = "joint rule" if rule_police else f"police probability {p_police:.3f}"
            reasons.append(f"police matter ({why})")
        elif possible:
            reasons.append(f"possibly a police matter (probability {p_police:.3f}"
                           + (", police terms matched" if police_terms else "") + "): review, police informed")

        # -- assisting ----------------------------------------------------------------------------------------
        assisting: list[str] = []
        for code in joint_departments:
            if code != lead and code not in assisting and code in registry and code not in exclude:
                assisting.append(code)
        for code, p in sorted(prediction.involved.items(), key=lambda item: -item[1]):
            if p < settings.assist_threshold or code == POLICE_DEPARTMENT:
                continue
            target = place(code)
            if target is not None and target != lead and target not in assisting:
                assisting.append(target)
                reasons.append(f"{target} assists (model {p:.2f})")
        if police and lead != POLICE_DEPARTMENT and POLICE_DEPARTMENT not in assisting:
            assisting.append(POLICE_DEPARTMENT)
        if not police and POLICE_DEPARTMENT in assisting:
            assisting.remove(POLICE_DEPARTMENT)

        # -- priority -----------------------------------------------------------------------------------------
        model_priority: Priority = max(prediction.priority, key=lambda k: prediction.priority[k])  # type: ignore[assignment]
        recall_first = False
        if (prediction.priority.get("P1", 0.0) >= settings.p1_threshold
                and prediction.priority.get("P4", 0.0) < settings.p1_enquiry):
            recall_first, model_priority = model_priority != "P1", "P1"
        rank = PRIORITIES.index
        # a joint rule set aside takes its priority with it; the triggers' own stay unmissable
        rules_priority, rules_note = rules.priority_without(set_aside)
        if rules_priority in ("P1", "P2") and rank(rules_priority) <= rank(model_priority):
            priority: Priority = rules_priority
            priority_why = rules_note
        elif model_priority == "P4" and rules_priority not in ("P1", "P2"):
            priority, priority_why = "P4", f"priority P4: model {prediction.priority['P4']:.2f}"
        else:
            priority = "P3" if model_priority == "P4" else model_priority
            priority_why = (f"priority {priority}: model {prediction.priority[priority]:.2f}"
                            + (f", P1 from {settings.p1_threshold:g}: an urgent matter is not missed"
                               if recall_first and priority == "P1" else "")
                            + (f" ({rules_note})" if rules_priority != "P3" else ""))

        # -- review -------------------------------------------------------------------------------------------
        confidence = round(min(confidence, 0.99), 3)
        sure = confidence >= settings.review_threshold and lead not in exclude
        needs_review = not sure or possible
        dispatch: tuple[str, ...] = ()
        if needs_review:
            # what cannot wait for an operator: the departments it is sure of (only the police question is open), the
            # departments it suggests for a P1 (a flood with people inside must not wait for an operator to reach
            # fire; a department it does not concern hands its ticket back), and police when it may be a police
            # matter
            urgent = priority == "P1" and not sure
            waiting = [d for d in (lead, *assisting) if d not in exclude] if sure or urgent else []
            if (police or possible) and police_allowed:
                waiting.append(POLICE_DEPARTMENT)
            dispatch = tuple(dict.fromkeys(waiting))
            if sure or urgent:
                meanwhile = ", ".join(d for d in dispatch if d != POLICE_DEPARTMENT)
                if meanwhile:
                    reasons.append(f"{meanwhile} dispatched meanwhile" + (" (P1)" if urgent else ""))

        # -- explanation --------------------------------------------------------------------------------------
        top = sorted(prediction.lead.items(), key=lambda item: -item[1])[:3]
        model_part = ("model " + self.model.version + ": lead " + ", ".join(f"{c} {p:.2f}" for c, p in top)
                      + f"; police {p_network:.2f}"
                      + (f" ({prediction.memory[1]} nearest training reports: {prediction.memory[0]:.0%} police "
                         f"matters; blended {p_police:.2f})" if prediction.memory is not None else "")
                      + "; priority "
                      + ", ".join(f"{k} {v:.2f}" for k, v in prediction.priority.items() if v >= 0.1))
        if prediction.evidence:
            model_part += "; evidence " + ", ".join(f"'{e}'" for e in prediction.evidence)
        rule_parts = [p for p in rules.parts[:-1] if not p.startswith("no department matched")]
        explanation = "; ".join([
            *(["rules: " + "; ".join(rule_parts)] if rule_parts else ["rules: no term matched"]),
            model_part, "decision: " + "; ".join(reasons), priority_why,
            *(["needs review (confidence below threshold)"] if confidence < settings.review_threshold else []),
        ])
        return RoutingDecision(
            police=police, lead=lead, assisting=tuple(assisting), priority=priority, confidence=confidence,
            explanation=explanation, needs_review=needs_review, classifier=self.name,
            dispatch_while_review=dispatch)
