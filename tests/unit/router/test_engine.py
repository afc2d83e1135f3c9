"""The routing engine (rules + model + combiner) on reports written for these tests, not taken from the training
set: unmissable P1 triggers in three scripts, joint handling, distractors and calm police matters, presence modes,
refusals, triage with police informed, and a reproducible, up-to-date model artifact."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from router.engine import DEFAULT_MODEL_FILE, EngineSettings, RoutingEngine, RoutingModel
from router.engine import train as training
from router.engine.model import quantise
from router.engine.text import asides, features, normalise
from router.routing.classifier import Classifier, RoutingDecision
from shared.registry import load_registry

WINTER = datetime(2026, 1, 14, 9, tzinfo=UTC)
SUMMER = datetime(2026, 7, 14, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine() -> RoutingEngine:
    return RoutingEngine(load_registry())


def classify(engine: RoutingEngine, text: str, **kwargs: object) -> RoutingDecision:
    kwargs.setdefault("at", WINTER)
    return engine.classify(text, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", [
    "快来人啊，三楼那户人家窗户里往外冒黑烟，好像着火了",
    "我爸突然倒下了，叫他没反应，好像没有呼吸了",
    "菜市场门口有个人拿着刀在挥，大家都在跑",
    "我們這棟樓走廊裏有很濃的煤氣味，好像哪裏漏氣了",
    "隔壁倉庫起火了，火很大，快來",
    "有人在公園裏持刀傷人",
    "My husband collapsed in the garden and he is not breathing, please hurry",
    "There is a man waving a gun outside the corner shop on Hill Road",
    "Flames are coming out of the roof of the warehouse next to us",
    "strong smell of gas on our landing, think its a gas leak",
    "My son swallowed a button battery about twenty minutes ago",
    "我女儿吃了虾以后过敏性休克了，脸都肿了",
    "Care home on Mill Road: resident with sudden left-sided weakness, query CVA",
    "我家宝宝喘气很费劲，嘴唇发紫了",
])
def test_p1_triggers_are_unmissable_in_every_script(engine: RoutingEngine, text: str) -> None:
    decision = classify(engine, text)
    assert decision.priority == "P1", decision.explanation


@pytest.mark.parametrize(("text", "lead", "assisting"), [
    ("A van went into a cyclist at the roundabout, he's lying in the road and his head is bleeding", "police",
     {"ems"}),
    ("路口一辆电动车和小轿车撞了，骑车的人腿受伤了走不了", "police", {"ems"}),
    ("RTC on the bypass by the retail park, two cars, one driver injured and bleeding from the head", "police",
     {"ems"}),
    ("MVA - pedestrian struck outside the pharmacy on Elm Ave, conscious, leg injury", "police", {"ems"}),
    ("Really strong smell of gas in the stairwell of block C, every floor", "gas", {"fire"}),
    ("單元樓道裏燃氣味特別大", "gas", {"fire"}),
    ("煤气泄漏，有人昏迷", "gas", {"fire", "ems"}),  # a person overcome where gas leaks: the ambulance comes too
    ("A truck overturned on the ring road, the driver is trapped in the cab", "fire", {"ems", "police"}),
    ("大货车侧翻，司机被困在车里", "fire", {"ems", "police"}),
    ("有人跳河了", "fire", {"ems"}),
    ("廚房煤氣味好大，阿婆暈低咗叫唔醒", "gas", {"fire", "ems"}),
    ("strong gas smell in the kitchen, my mum has collapsed and won't wake up", "gas", {"fire", "ems"}),
    ("My elderly neighbour lives alone and I can see her through the window, she collapsed on the kitchen floor",
     "ems", {"civil_affairs"}),
    ("隔壁独居的王奶奶摔倒在地上起不来了", "ems", {"civil_affairs"}),
    ("Six of us have been throwing up since lunch at the noodle restaurant on King Street, food poisoning", "ems",
     {"market_regulation"}),
    ("公司旁边那家快餐店，我们好几个同事吃完都食物中毒了，上吐下泻", "ems", {"market_regulation"}),
    # self-harm bleeding now: ems leads, police assists (WRITING.md: police assists for self-harm); the joint rule
    # names police, the model gives police 0.01 as lead: the model sets the rule's lead aside, police stays
    ("Come quick, my brother has cut his wrists in the bathroom, there's so much blood", "ems", {"police"}),
    ("Our lodger hanged himself in the garage, we've cut him down, he's not moving", "police", {"ems"}),
    ("我爸刚才说他不想活了，把自己锁在房间里，我闻到有烧炭的味道", "police", {"ems"}),
    ("隔壁阿姨跟老公吵架以后喝了农药，现在在地上打滚", "police", {"ems"}),
    ("我朋友傳訊息說佢喺屋企燒炭，點算", "police", {"ems"}),
    ("工地上有个工人坐在脚手架最上面，说老板再不结账他就跳下去", "police", {"ems"}),
    ("My flatmate is on the balcony and says he'll jump, he's been drinking", "police", {"ems"}),
    ("The two lads are up on the crane and they'll jump if the firm doesn't pay them, that's what they're shouting",
     "police", {"ems"}),
    ("我哥给我发微信说以后不拖累家里了，然后就关机了，他最近欠了很多债", "police", {"ems"}),
    ("My ex is outside the front door with a can of petrol and a lighter, screaming at us to come out", "police",
     set()),
    ("MISSING CHILD 6 YRS - LAST SEEN AT THE SWINGS, RIVERSIDE PARK", "police", set()),
    ("我孩子不见了，刚才还在商场二楼的游乐区玩，一转眼就没了", "police", set()),
    ("有人拿着刀在菜市场砍人", "police", {"ems"}),  # someone hacked at is hurt: the ambulance comes too
    ("A man has been stabbed outside the chip shop", "police", {"ems"}),
    # a fire burning is fire's, whatever is on fire (the model read a mill as environment's, a flat as housing's)
    ("there's a blaze at the old mill on Canal St", "fire", set()),
    ("the flat upstairs is ablaze", "fire", set()),
    ("Garbage truck load on fire, driver dumped load in street", "fire", set()),
])
def test_joint_handling(engine: RoutingEngine, text: str, lead: str, assisting: set[str]) -> None:
    decision = classify(engine, text)
    assert decision.lead == lead, decision.explanation
    assert assisting <= set(decision.assisting), decision.explanation


@pytest.mark.parametrize(("text", "lead"), [
    # a drowning already pulled out and in CPR is a medical emergency, not a water rescue ('person in the water')
    ("DROWNING - child pulled from pool, CPR in progress", "ems"),
    # wires down and smoking are power's, not a fire ('fallen power line on fire')
    ("The storm's brought a tree down onto the wires on Linden Road, the wires are on the ground now and smoking",
     "power"),
])
def test_a_joint_rule_whose_lead_the_model_rules_out_is_set_aside(engine: RoutingEngine, text: str,
                                                                  lead: str) -> None:
    decision = classify(engine, text)
    assert decision.lead == lead and "set aside" in decision.explanation, decision.explanation


@pytest.mark.parametrize("text", [
    "small crash in the car park, nobody hurt, the other driver is shouting at me",
    "跟一个电动车撞了一下，没人受伤，但是他非要我赔两千",
])
def test_a_crash_with_no_one_hurt_is_police_alone_and_not_p1(engine: RoutingEngine, text: str) -> None:
    decision = classify(engine, text)  # WRITING.md: no injuries but a dispute -> police P3
    assert (decision.lead, decision.assisting) == ("police", ()) and decision.priority != "P1", decision.explanation


@pytest.mark.parametrize("text", [
    "Burst water main on Xingfu Road, road flooded, some guys are robbing the stranded drivers",
    "Water main burst on Xingfu Road, road flooding, and a man is smashing car windows next to it",
    "The shop down the road is selling weed openly to teenagers",
    "我老婆被人打了，现在脸肿得很厉害，人已经跑了",
    "Burst water main on Xingfu Road, road flooded, our car is stuck and some guys are robbing us",
])
def test_a_crime_being_committed_beside_another_matter_reaches_police(engine: RoutingEngine, text: str) -> None:
    """No police matter diverted: the joint rule names police, which stays even where the model keeps its lead."""
    decision = classify(engine, text)
    assert decision.police and "police" in decision.departments, decision.explanation


def test_a_joint_rule_set_aside_takes_its_priority_with_it(engine: RoutingEngine) -> None:
    """"Alight" matches the fire rule (P1), but a street lamp that is alight is lit: the model rules fire out, and
    the rule's P1 goes with it (before, the lead was power and the priority still P1)."""
    decision = classify(engine, "The street lamp outside no. 12 is alight all day long")
    assert (decision.lead, decision.priority) == ("power", "P3"), decision.explanation
    assert "set aside" in decision.explanation


@pytest.mark.parametrize(("text", "p1"), [
    ("the bin store behind the flats is alight", True),  # a fire burning is P1
    ("對面公寓一整層被改成十幾間小套房出租，隔間用木板，只有一個出口，萬一火災很危險，請查是否違法隔間", False),
])
def test_a_fire_burning_is_p1_and_one_that_might_happen_is_not(engine: RoutingEngine, text: str, p1: bool) -> None:
    decision = classify(engine, text)
    assert (decision.priority == "P1") == p1, decision.explanation


@pytest.mark.parametrize("text", [
    "fire drill tomorrow at 10 in our building, just letting you know",
    "We're having a fire alarm test on Thursday, is that OK to notify",
])
def test_a_notice_the_model_is_sure_of_is_not_p1_on_a_word_in_another_sense(engine: RoutingEngine, text: str) -> None:
    """The model's recall-first P1 threshold gives way when the model is sure the report is information (P4)."""
    decision = classify(engine, text)
    assert decision.priority == "P4", decision.explanation
    recall_first = RoutingEngine(load_registry(), engine.model, EngineSettings(p1_enquiry=1.01))
    assert classify(recall_first, text).priority == "P1"  # what it was before: the model's P1 at 0.02 won


def test_police_named_by_a_joint_rule_is_kept_when_the_rule_is_set_aside() -> None:
    every_rule_aside = RoutingEngine(load_registry(), settings=EngineSettings(joint_lead_floor=1.01))
    decision = every_rule_aside.classify("Two cars crashed at the junction, one driver is injured and bleeding",
                                         at=WINTER)
    assert "set aside" in decision.explanation
    assert decision.police and "police" in decision.departments, decision.explanation


@pytest.mark.parametrize(("text", "lead"), [
    ("Our bins on Ashgrove Road were skipped again this week. Maybe someone stole the lids, they are gone too, "
     "but mainly we need the rubbish collected", "sanitation"),
    ("I called the police last year about something else and they were very kind; today I'm ringing because the "
     "street light outside number 9 has been dark for a week", "power"),
    ("去年我报过警，那是另一回事。今天打电话是因为我们小区的垃圾已经三天没人清运了，臭得不行", "sanitation"),
    ("The police were here last week about something else, but today I'm calling because the street light on our "
     "corner has been out for days", "power"),
])
def test_words_that_are_not_the_matter_do_not_make_it_a_police_matter(engine: RoutingEngine, text: str,
                                                                      lead: str) -> None:
    decision = classify(engine, text)
    assert decision.lead == lead, decision.explanation
    assert not decision.police, decision.explanation


@pytest.mark.parametrize(("text", "lead"), [
    ("Our bin wasn't collected this week. Maybe someone stole the lids too.", "sanitation"),
    ("garbage not picked up again!! and the lids r gone maybe some1 stole them lol. 22 King St", "sanitation"),
    ("來電人反映：小區垃圾三天沒人收，垃圾桶蓋子不見了，可能被人偷走，請處理", "sanitation"),
    ("I called the police last year about a burglary, but today it's about the street light outside number 12, "
     "it's been out for a week.", "power"),
    # the whole text reads as a police matter (lead police); without the aside it is plainly the street light
    ("I called the police last year about a burglary, but today it's about the street light", "power"),
])
def test_an_aside_does_not_send_police_even_while_it_waits(engine: RoutingEngine, text: str, lead: str) -> None:
    """Not decided police is not enough: police informed while an operator looks would be the aside's doing too."""
    decision = classify(engine, text)
    assert decision.lead == lead and not decision.police, decision.explanation
    assert "police" not in decision.dispatch_while_review, decision.explanation
    assert "aside, not the matter" in decision.explanation


@pytest.mark.parametrize("text", [
    "call the police before someone gets hurt",  # a request, not a past contact
    "I called the police before I rang you because a man smashed my car window and is still here",
    "I called the police and he's back in the flat now",
    "半小时之前有人砸我家门我报了警",  # half an hour ago: now, not the past
])
def test_a_present_police_matter_is_no_aside(text: str) -> None:
    assert not asides(normalise(text))


def test_what_an_aside_said_goes_with_it(engine: RoutingEngine) -> None:
    """A stabbing last year is not today's street-light report's urgency, nor its ambulance."""
    decision = classify(engine, "I called the police last year when a man was stabbed and bleeding heavily on our "
                                "road, but today it's about the street light outside number 4")
    assert (decision.lead, decision.departments, decision.priority) == ("power", ("power",), "P3"), (
        decision.explanation)


@pytest.mark.parametrize("text", [
    "Maybe someone stole my car, it's not where I parked it last night",
    "可能有人偷了我的电动车，早上起来就不见了",
    "I called the police last year about the same man, he's back now and threatening us",
    "Our shed was broken into, maybe kids took the tools, the lock is smashed",
])
def test_an_aside_that_is_the_matter_still_makes_a_police_matter(engine: RoutingEngine, text: str) -> None:
    decision = classify(engine, text)
    assert decision.police and decision.lead == "police", decision.explanation


@pytest.mark.parametrize("text", [
    "Someone keeps taking money from my mother's account and she has no idea who it is",
    "有人冒充银行客服打电话，让我妈把存款转到一个安全账户，她已经转了两万",
    "最近總有個男的跟着我女兒放學回家，她很害怕",
    "Out walking this morning and I think I can see a body in the pond by the old mill, face down",
    "河边芦苇里好像漂着一具尸体，看不清是男是女",
])
def test_calm_wording_does_not_hide_a_police_matter(engine: RoutingEngine, text: str) -> None:
    decision = classify(engine, text)
    assert decision.police or "police" in decision.dispatch_while_review, decision.explanation


def test_heating_out_of_season_goes_to_housing(engine: RoutingEngine) -> None:
    text = "The radiators in our flat have been stone cold for three days"
    assert classify(engine, text, at=WINTER).lead == "heating"
    summer = classify(engine, text, at=SUMMER)
    assert summer.lead == "housing" and "heating" not in summer.departments


def test_excluded_department_is_not_proposed_again(engine: RoutingEngine) -> None:
    text = "小区门口的自来水管爆了，水哗哗地往外冒"
    first = classify(engine, text)
    assert first.lead == "water"
    again = classify(engine, text, exclude=frozenset({"water"}))
    assert "water" not in again.departments


def test_possible_police_matter_reaches_police_while_it_waits_for_triage() -> None:
    # a threshold nobody reaches puts every report in triage: police must still get the possibly-police ones
    strict = RoutingEngine(load_registry(), settings=EngineSettings(review_threshold=1.0))
    decision = strict.classify("Someone keeps taking money from my mother's account", at=WINTER)
    assert decision.needs_review
    assert decision.dispatch_while_review == ("police",)
    calm = strict.classify("The bins on our street were not collected this week", at=WINTER)
    assert calm.needs_review and calm.dispatch_while_review == ()


def test_a_sure_routing_that_may_also_be_a_police_matter_dispatches_its_departments_while_it_waits() -> None:
    # only the police question is open: the departments the routing is sure of must not wait for an operator
    wary = RoutingEngine(load_registry(), settings=EngineSettings(police_threshold=1.0, police_possible=0.0))
    decision = wary.classify("楼道里燃气味很大，邻居家好像漏气了", at=WINTER)
    assert decision.needs_review and not decision.police and decision.lead == "gas"
    assert decision.dispatch_while_review == ("gas", "fire", "police"), decision.explanation
    # not sure of the department either: only police goes ahead, unless it is a P1, whose suggested departments
    # do not wait for an operator either
    unsure = RoutingEngine(load_registry(), settings=EngineSettings(review_threshold=1.0, police_threshold=1.0,
                                                                    police_possible=0.0))
    routine = unsure.classify("垃圾桶三天没人清理了，臭气熏天", at=WINTER)
    assert routine.priority != "P1" and routine.dispatch_while_review == ("police",), routine.explanation
    urgent = unsure.classify("楼道里燃气味很大，邻居家好像漏气了", at=WINTER)
    assert urgent.priority == "P1" and urgent.dispatch_while_review == ("gas", "fire", "police")
    assert "dispatched meanwhile (P1)" in urgent.explanation


def test_weak_police_evidence_beside_a_sure_lead_goes_to_triage_with_police_informed() -> None:
    text = "The street light outside number 12 on Ash Road has been out for a week"
    eager = EngineSettings(police_threshold=0.0, police_possible=0.0)  # every report reaches the police threshold
    plain = RoutingEngine(load_registry(), settings=replace(eager, sure_lead=1.0)).classify(text, at=WINTER)
    assert plain.police and plain.lead == "power" and plain.confidence >= 0.8, plain.explanation
    # beside that sure lead, with no police term, the police question goes to an operator; police hears at once
    wary = RoutingEngine(load_registry(), settings=replace(eager, police_threshold_sure_lead=1.0))
    decision = wary.classify(text, at=WINTER)
    assert not decision.police and decision.lead == "power" and decision.needs_review, decision.explanation
    assert decision.dispatch_while_review == ("power", "police"), decision.explanation


@pytest.mark.parametrize("text", ["xq zzv plorp", "嗯……那个……就是……"])
def test_text_that_names_no_matter_goes_to_review(engine: RoutingEngine, text: str) -> None:
    # (a broken line, "hello? hello? can you hear me", is not such a text: WRITING.md gives wrong numbers and
    # garbled calls to grid, and the training data since round 11 teaches it)
    decision = classify(engine, text)
    assert decision.needs_review


def test_explanation_names_rules_model_and_evidence(engine: RoutingEngine) -> None:
    decision = classify(engine, "楼道里燃气味很大")
    assert "rules: gas: matched '燃气味'" in decision.explanation
    assert "model routing-v2: lead gas" in decision.explanation
    assert "evidence" in decision.explanation


def test_traditional_and_simplified_normalise_to_the_same_features() -> None:
    assert features(normalise("樓道裏燃氣味很大")) == features(normalise("楼道里燃气味很大"))
    assert normalise("ＢＵＲＳＴ Pipe") == "burst pipe"


def test_engine_satisfies_the_protocol_and_is_deterministic(engine: RoutingEngine) -> None:
    protocol: Classifier = engine
    text = "The street light outside 4 Mill Lane flickers all night"
    assert protocol.classify(text, at=WINTER) == protocol.classify(text, at=WINTER)
    assert engine.name == "engine-routing-v2"


def test_training_is_deterministic() -> None:
    registry = load_registry()
    rows = training.load_rows(training.DATA_DIR, registry, warn=False)[:120]
    params = replace(training.Params(), augment_copies=1, epochs=15)
    first = training.train(rows, registry, params)
    second = training.train(rows, registry, params)
    assert first.vocab_list == second.vocab_list
    for name in ("weights", "weight_scale", "hidden_bias", "output", "bias"):
        assert np.array_equal(getattr(first, name), getattr(second, name)), name
    assert first.memory is not None and second.memory is not None and len(first.memory) == len(rows)
    for name in ("vectors", "police", "centres", "starts"):
        assert np.array_equal(getattr(first.memory, name), getattr(second.memory, name)), name
    # and it learnt something: the training reports' own leads come out on top for most of them
    hits = sum(max(first.predict(normalise(r.text)).lead.items(), key=lambda item: item[1])[0] == r.lead
               for r in rows)
    assert hits >= 0.8 * len(rows)


def test_committed_artifact_was_trained_on_the_current_data() -> None:
    meta = json.loads(DEFAULT_MODEL_FILE.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["data_hash"] == training.data_hash(), "training data or department terms changed: run `make train`"
    assert meta["params"] == training.Params().__dict__, "training parameters changed: run `make train`"
    model = RoutingModel.load()
    hidden = meta["params"]["hidden"]
    assert model.weights.shape == (len(model.vocab_list), hidden)
    assert model.output is not None and model.hidden_bias is not None
    assert model.weights.dtype == np.int8 and model.weight_scale is not None
    assert model.output.shape == (hidden, 2 * len(model.departments) + len(model.priorities))


def _tiny_meta(version: str) -> dict:
    return {"version": version, "departments": ["water", "police"], "priorities": ["P1", "P2", "P3", "P4"]}


def test_artifacts_round_trip_and_a_linear_routing_v1_artifact_still_loads(tmp_path: Path) -> None:
    vocab = ["wburst", "wpip", "wknif"]
    # a network: 'burst' and 'pipe' drive one hidden unit towards water, 'knife' another towards police
    weights = np.array([[1, 0], [1, 0], [0, 2]], dtype=np.float16)
    output = np.zeros((2, 8), dtype=np.float32)
    output[0, 0] = output[0, 2] = output[1, 1] = output[1, 3] = 4.0
    network = RoutingModel(weights, np.full(8, -1, dtype=np.float32), vocab, _tiny_meta("tiny-v2"),
                           np.zeros(2, dtype=np.float32), output)
    # a linear model: one column per head entry, as routing-v1 stored it
    linear = RoutingModel(np.eye(3, 8, dtype=np.float16) * 3, np.zeros(8, dtype=np.float32), vocab,
                          _tiny_meta("tiny-v1"))
    # the network with its feature vectors stored as int8 (as training stores them): same decisions
    everything = list(range(len(vocab)))
    q, scale = quantise(network.feature_vectors(everything))
    stored = RoutingModel(q, network.bias, vocab, _tiny_meta("tiny-v2q"), network.hidden_bias, network.output,
                          weight_scale=scale)
    assert q.dtype == np.int8
    assert np.allclose(stored.feature_vectors(everything), network.feature_vectors(everything),
                       atol=float(scale.max()))
    for model in (network, linear, stored):
        model.save(tmp_path / f"{model.version}.npz")
        loaded = RoutingModel.load(tmp_path / f"{model.version}.npz")
        assert (loaded.output is None) == (model.output is None)
        assert loaded.weights.dtype == model.weights.dtype
        for text in ("burst pipe", "knife", "nothing known"):
            assert loaded.predict(text) == model.predict(text)
    water, police = network.predict("burst pipe"), network.predict("knife")
    assert max(water.lead, key=water.lead.get) == "water" and water.involved["police"] < 0.5
    assert max(police.lead, key=police.lead.get) == "police" and police.police > 0.5
    for text in ("burst pipe", "knife"):
        a, b = network.predict(text), stored.predict(text)
        assert max(a.lead, key=a.lead.get) == max(b.lead, key=b.lead.get) and abs(a.police - b.police) < 0.01


def test_data_hash_covers_the_department_terms_but_not_the_operators_rules(tmp_path: Path) -> None:
    bundled = training.DEFAULT_REGISTRY_FILE.read_text(encoding="utf-8")
    rules = ('"自残", "自伤"', '"end his life", "end her life"')  # a P1 trigger, a joint rule's terms
    term = '"burst water pipe", "burst main"'  # water's terms
    assert all(bundled.count(text) == 1 for text in (*rules, term))

    def hash_of(text: str) -> str:
        path = tmp_path / "departments.toml"
        path.write_text(text, encoding="utf-8")
        return training.data_hash(registry_file=path)

    assert hash_of(bundled) == training.data_hash()
    for rule in rules:  # the operators' rules: no retraining needed
        assert hash_of(bundled.replace(rule, rule.split(",")[0])) == training.data_hash()
    # with rule features, every rule is training input
    assert training.data_hash(params=replace(training.Params(), rule_features=1.0)) != training.data_hash()
    # a department's term is a training example
    assert hash_of(bundled.replace(term, term.split(",")[0])) != training.data_hash()


def test_router_builds_the_engine_by_default_and_the_rules_alone_on_request() -> None:
    from router.app import build_classifier
    from router.routing.classifier import KeywordClassifier
    from router.settings import RouterSettings

    registry = load_registry()
    assert isinstance(build_classifier(RouterSettings(), registry), RoutingEngine)
    assert isinstance(build_classifier(RouterSettings(classifier="keywords"), registry), KeywordClassifier)
    strict = build_classifier(RouterSettings(review_threshold=0.99, police_threshold=0.9), registry)
    assert isinstance(strict, RoutingEngine)
    assert (strict.settings.review_threshold, strict.settings.police_threshold) == (0.99, 0.9)


def test_writers_held_out_are_held_out_whole_and_unknown_writers_are_refused() -> None:
    rows = training.load_rows(training.DATA_DIR, warn=False)
    train_rows, held = training.split_writers(rows, ["ene", "zhf"])
    assert {training.writer(r) for r in held} == {"ene", "zhf"}
    assert not {training.writer(r) for r in train_rows} & {"ene", "zhf"}
    assert len(train_rows) + len(held) == len(rows)
    # a writer code is the whole id prefix: "en" is not "ene" or "enf"
    _, held_en = training.split_writers(rows, ["en"])
    assert held_en and all(r.id.startswith("en-") for r in held_en)
    with pytest.raises(ValueError, match="no reports by writer"):
        training.split_writers(rows, ["ene", "nobody"])
    with pytest.raises(ValueError, match="nothing left to train on"):
        training.split_writers(rows, {training.writer(r) for r in rows})
    with pytest.raises(TypeError):
        training.split_writers(rows, "ene")


def test_evaluate_refuses_an_unknown_writer_before_training_anything(capsys: pytest.CaptureFixture[str]) -> None:
    from router.engine import evaluate

    with pytest.raises(SystemExit) as exit_:
        evaluate.main(["--writers", "ene", "nobody"])  # would train the held-out model first if it checked later
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "no reports by writer(s) 'nobody'" in err and "ene" in err


def test_evidence_prefers_words_and_falls_back_to_character_ngrams(engine: RoutingEngine) -> None:
    model = engine.model
    assert model.predict(normalise("gas leak in the kitchen")).evidence[0] == "gas"
    # in the caller's words, not the stemmer's ("fir", "fir alarm")
    evidence = model.predict(normalise("The fire alarms went off and there is smoke everywhere")).evidence
    assert {"fire", "fire alarms"} & set(evidence) and not {"fir", "fir alarm"} & set(evidence), evidence
    # no word the model knows, only English character n-grams: they are the evidence then
    prediction = model.predict(normalise("zzqfirezzq"))
    assert prediction.evidence and all(e.endswith("…") for e in prediction.evidence)
