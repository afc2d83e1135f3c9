"""The keyword classifier routes report texts by the default registry's terms, priority triggers and joint rules."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest

from router.routing.classifier import Classifier, KeywordClassifier, RoutingDecision
from shared.registry import Department, Registry, load_registry

WINTER = datetime(2025, 12, 10, 9, tzinfo=UTC)
SUMMER = datetime(2025, 7, 10, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def classifier() -> KeywordClassifier:
    return KeywordClassifier(load_registry())


def classify(classifier: KeywordClassifier, text: str, **kwargs: object) -> RoutingDecision:
    kwargs.setdefault("at", WINTER)
    return classifier.classify(text, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "lead"), [
    ("我们小区3号楼门口的自来水管爆了，水一直往外冒", "water"),
    ("Caller states the street light outside 12 Elm Street has been out for a week", "power"),
    ("楼下饭店后厨着火了，烟很大", "fire"),
    ("My neighbour's renovation starts at 6 am every day, we talked twice, can someone mediate?", "mediation"),
    ("垃圾桶三天没人清理了，臭气熏天", "sanitation"),
    ("Someone broke into my car last night and stole my laptop", "police"),
    ("老板拖欠我们三个月工资不发", "labor"),
    ("No heating in our building for two days, it is freezing", "heating"),
])
def test_typical_reports_go_to_the_department_that_handles_them(classifier: KeywordClassifier, text: str,
                                                                 lead: str) -> None:
    decision = classify(classifier, text)
    assert decision.lead == lead
    assert decision.departments[0] == lead
    assert not decision.needs_review
    assert decision.confidence >= 0.5
    assert decision.police is (lead == "police")
    assert decision.classifier == "keywords-v1"


def test_kitchen_fire_is_p1_and_explained(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "楼下饭店后厨着火了，烟很大")
    assert decision.priority == "P1"
    assert "fire: matched '着火'" in decision.explanation
    assert "priority P1: matched '着火'" in decision.explanation


def test_routine_service_matter_is_p3_and_enquiry_is_p4(classifier: KeywordClassifier) -> None:
    assert classify(classifier, "垃圾桶三天没人清理了，臭气熏天").priority == "P3"
    enquiry = classify(classifier, "请问停水什么时候恢复？")
    assert (enquiry.lead, enquiry.priority) == ("water", "P4")


def test_urgent_trigger_beats_enquiry_marker(classifier: KeywordClassifier) -> None:
    assert classify(classifier, "请问，楼道里有很浓的煤气味怎么办").priority == "P1"


@pytest.mark.parametrize(("text", "priority"), [
    # an alarm is not smoke (WRITING.md: an alarm with no smoke confirmed is P2, which the engine's model weighs;
    # the rules alone, tested here, no longer force P1)
    ("The smoke alarm in the flat next door has been beeping for an hour, no smoke, nobody answers", "P3"),
    ("How do I get a free smoke detector fitted?", "P4"),
    ("Smoke alarm going off next door and there is smoke coming under their door", "P1"),
    ("Fire alarm ringing and flames in the kitchen window", "P1"),
    # a trigger word in another sense or denied is no trigger; the word itself still is
    ("楼道里堆满了纸箱和电动车，存在很大的火灾隐患，物业不管", "P3"),
    ("电梯故障停运两天，无人被困", "P3"),
    ("Tattoo studio reusing needles, my friend's arm is infected", "P3"),
    ("An armed man is outside the shop", "P1"),
    ("楼下仓库着火了", "P1"),
    ("Bus shelter on Fir Rd has no timetable and the display is blank", "P3"),
    ("There's a fire in the bin store on Fir Road", "P1"),
    ("When does my firearms licence renewal need to be in?", "P3"),
    ("杨絮满天飞，过敏的人受不了，还容易着火，能不能处理一下", "P3"),
    ("对面塑料厂烟囱冒黑烟，整个站台都是焦糊味", "P3"),
    ("我家燃气卡表显示没气了，上周刚充了三百", "P3"),
    ("楼下有人晕倒了，没气了", "P1"),
    ("家里燃气表显示屏不亮了，灶还能打着火，请安排人来看看表", "P3"),
    ("楼道里的烟感报警器半夜一直响，查看了没发现着火，物业说是误报", "P3"),
    ("楼下厨房着火了", "P1"),
    ("Cars park in the fire lane of our block every night, security won't move them", "P3"),
    ("The man downstairs smokes on his balcony every night, it comes into my bedroom", "P3"),
    ("Barbecue smoke from the street stalls fills our flat every night", "P3"),
    ("Thick smoke is pouring out of the window of the flat below", "P1"),
    ("楼上那家店天天喇叭喊跳楼价大甩卖，吵死了", "P3"),  # 跳楼价: a clearance price, not a suicide risk
    ("有人站在楼顶说要跳楼", "P1"),
    ("No fire, false alarm, just checking when the fire extinguisher expires", "P3"),  # fire denied
    ("Not a fire, just a complaint: the bus driver made everyone get off early", "P3"),
    ("楼道没有着火，就是想问灭火器过期了找谁", "P4"),  # an enquiry
    ("No, it's not the kitchen, the shed is on fire", "P1"),
    # a denial only in its own words: "no fire brigade yet" denies no fire
    ("Is there no fire brigade in this city? The warehouse has been burning for an hour", "P1"),
    ("no fire brigade yet, the warehouse has been burning for an hour", "P1"),
    ("楼道里有烟，不知道有没有着火", "P1"),
    ("The fire station on Elm Rd is too noisy with sirens at night", "P3"),  # a place
    ("夜市的摊位占道经营，油烟很大", "P3"),  # cooking fumes
    ("The knife sharpener van comes every morning at 6 blaring music", "P3"),
    ("How do I apply for the elderly care subsidy for my father?", "P4"),  # a benefit, no one in need now
])
def test_an_alarm_or_a_trigger_word_in_another_sense_is_no_p1_trigger(classifier: KeywordClassifier, text: str,
                                                                       priority: str) -> None:
    assert classify(classifier, text).priority == priority


@pytest.mark.parametrize(("text", "priority"), [
    # a trigger denied just before it is not the matter
    ("Not an emergency, nobody is hurt and nothing is on fire: the recycling bin was not emptied", "P3"),
    ("There's no gas leak, I just want to change my gas meter to a smart one", "P3"),
    ("不是火灾，也没有人受伤，就是垃圾没人收", "P3"),
    ("没有煤气泄漏，就是想问一下燃气费怎么交", "P4"),
    ("沒有煤氣洩漏，只係想問燃氣費點交", "P4"),
    ("未发现明火，也没闻到煤气味，就是楼道灯坏了", "P3"),
    # a denial ends with its clause, and a question is no denial
    ("No fire, but thick smoke is pouring out of the wall socket", "P1"),
    ("不是小事，着火了", "P1"),
    ("是不是着火了？好大的烟", "P1"),
    ("he's not breathing", "P1"),
    ("他没气了，快来", "P1"),
    ("家里没人着火了快来", "P1"),  # nobody home, and it is on fire
    ("家里没人煤气泄漏", "P1"),
    ("船沉没有人落水了", "P1"),  # the boat sank, someone fell in
    ("没有人打架，只是两家人在楼道里吵架，声音很大", "P3"),  # 没有人 denies; 没人 does not
    # a hypothetical in Chinese is no trigger; a comma ends it
    ("假如家里燃气泄漏应该怎么办", "P3"),
    ("如果再不来人，火灾就蔓延到二楼了", "P1"),
])
def test_a_trigger_denied_just_before_it_does_not_count(classifier: KeywordClassifier, text: str,
                                                        priority: str) -> None:
    decision = classify(classifier, text)
    assert decision.priority == priority, decision.explanation


@pytest.mark.parametrize("text", [
    "The wind's brought a cable down across the pavement by the bus stop",
    "Overhead line down across the footway at the school, arcing on the wet ground",
    "Caller reports a conductor down across Marlow Crescent",
])
def test_a_wire_down_is_p1_however_it_is_put(classifier: KeywordClassifier, text: str) -> None:
    assert classify(classifier, text).priority == "P1"  # WRITING.md: a wire down is P1


@pytest.mark.parametrize(("text", "p1"), [
    # WRITING.md: a missing adult with dementia is P1 at night or in the cold, else P2 (which the model weighs)
    ("My dad has dementia and he's gone missing, it's dark and freezing out there", True),
    ("我妈有老年痴呆，晚上出去散步到现在还没回来，外面在下雨", True),
    ("喂，我阿爺有認知障礙，落樓買報紙到而家都未返，已經凌晨一點幾", True),
    ("My dad has dementia and he's gone missing from the day centre this morning", False),
    ("我妈有老年痴呆，早上出去买菜，到现在还没回来", False),
    ("My mother has dementia, where can I find a night carer for her?", False),
])
def test_a_missing_adult_with_dementia_is_p1_at_night_or_in_the_cold(classifier: KeywordClassifier, text: str,
                                                                     p1: bool) -> None:
    assert (classify(classifier, text).priority == "P1") is p1


def test_vulnerable_person_raises_priority_to_p2(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "The heating in our flat is not working and my elderly mother lives with us")
    assert (decision.lead, decision.priority) == ("heating", "P2")
    assert "'elderly'" in decision.explanation


@pytest.mark.parametrize(("text", "lead", "assisting"), [
    ("Two cars crashed at the junction of Main Street and 5th Avenue, one driver is injured and bleeding",
     "police", {"ems"}),
    ("前面路口两车相撞，有人受伤流血", "police", {"ems"}),
    ("楼道里燃气味很大", "gas", {"fire"}),
    ("There's a strong smell of gas in the stairwell of our block", "gas", {"fire"}),
    ("独居老人在家晕倒", "ems", {"civil_affairs"}),
    ("十几个人在学校附近的饭店吃饭后食物中毒，上吐下泻", "ems", {"market_regulation"}),
    ("Several of us got food poisoning after dinner at the Golden Dragon restaurant, two are vomiting", "ems",
     {"market_regulation"}),
    # WRITING.md: carbon monoxide poisoning with people ill is ems + gas + fire (charcoal burnt indoors too)
    ("CO poisoning, family of four with headaches and vomiting", "ems", {"gas", "fire"}),
    ("冬天屋里烧炭取暖，一家三口头痛恶心", "ems", {"gas", "fire"}),
    # WRITING.md: an abandoned newborn is civil_affairs + police
    ("ABANDONED NEWBORN on the church steps, Mill Rd, passer-by holding the baby", "civil_affairs", {"police"}),
    ("垃圾站旁边发现一个被遗弃的婴儿，还在哭", "civil_affairs", {"police"}),
    # WRITING.md: a person threatening to jump is police + fire + ems P1
    ("Man on the roof edge of the Westgate car park, threatening to jump", "police", {"fire", "ems"}),
    ("有个女孩坐在天台边上，说要跳下去", "police", {"fire", "ems"}),
])
def test_joint_handling(classifier: KeywordClassifier, text: str, lead: str, assisting: set[str]) -> None:
    decision = classify(classifier, text)
    assert decision.lead == lead
    assert set(decision.assisting) >= assisting
    assert "joint rule" in decision.explanation
    assert not decision.needs_review


@pytest.mark.parametrize("text", [
    "massive fight outside the kebab shop, someone getting kicked and he's not moving",
    "ROBBERY W/ KNIFE, Canal St. Victim male 20s, stab wound to arm, 2 suspects",
    "两个人在门口打架，一个人被啤酒瓶把头打破了，满脸是血",
    "捷運車廂裡兩個男的打起來了，一個被打到流鼻血",
])
def test_violence_with_an_injury_however_it_is_put_is_police_with_ems(classifier: KeywordClassifier,
                                                                     text: str) -> None:
    decision = classify(classifier, text)  # WRITING.md: a casualty of a crime is police + ems
    assert (decision.lead, decision.priority) == ("police", "P1")
    assert "ems" in decision.assisting


@pytest.mark.parametrize("text", [
    "The old lady across the landing, nobody's seen her for a week, there's a smell at her door and flies",
    "WELFARE CHECK - no sign of life, post piling up 5 days",
    "隔壁独居老人好几天没见了，门口有股臭味，敲门没人应",
    "樓上阿伯好幾天沒看到了，門口有蒼蠅",
])
def test_no_sign_of_life_for_days_behind_a_door_is_police_with_civil_affairs(classifier: KeywordClassifier,
                                                                             text: str) -> None:
    decision = classify(classifier, text)  # WRITING.md: no sign of life for days behind a door
    assert decision.lead == "police" and decision.police
    assert "civil_affairs" in decision.assisting


@pytest.mark.parametrize("text", [
    "我姐姐产后一直哭，她没说想不开的话，也没伤害自己，就是状态很差，能派个医生来看看吗",  # suicide denied
    "我们在家烧炭打边炉，有两个人头晕",  # charcoal for a hotpot: carbon monoxide, not a suicide risk
])
def test_charcoal_for_cooking_or_suicide_denied_is_no_suicide_risk(classifier: KeywordClassifier, text: str) -> None:
    decision = classify(classifier, text)
    assert not decision.police and "suicide risk" not in decision.explanation, decision.explanation


@pytest.mark.parametrize("text", [
    "small crash in the car park, nobody hurt, the other driver is shouting at me",
    "TRAFFIC COLLISION - NO INJURY, PARTIES ARGUING",
    "跟一个电动车撞了一下，没人受伤，但是他非要我赔两千",
    "兩車擦撞，無人受傷，但對方態度很兇",
])
def test_a_crash_with_no_one_hurt_is_no_crash_with_injuries(classifier: KeywordClassifier, text: str) -> None:
    decision = classify(classifier, text)  # WRITING.md: no injuries but a dispute -> police P3
    assert "road crash with injuries" not in decision.explanation and decision.priority != "P1", decision.explanation


def test_crash_with_injuries_is_a_p1_police_matter(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "前面路口两车相撞，有人受伤流血")
    assert decision.police and decision.priority == "P1"


def test_police_assists_when_a_crime_touches_another_departments_matter(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "Someone stole the manhole cover on our street")
    assert decision.lead == "water"
    assert "police" in decision.assisting and decision.police


def test_mentioning_the_police_does_not_make_a_police_matter(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "I called the police last year about the dogs next door, nothing changed")
    assert not decision.police


def test_excluded_department_is_not_proposed_again(classifier: KeywordClassifier) -> None:
    text = "我们小区3号楼门口的自来水管爆了，水一直往外冒"
    decision = classify(classifier, text, exclude=frozenset({"water"}))
    assert "water" not in decision.departments
    assert "excluded: water" in decision.explanation


def test_excluded_joint_lead_hands_the_lead_to_the_next_department(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "楼道里燃气味很大", exclude=frozenset({"gas"}))
    assert decision.lead == "fire" and "gas" not in decision.departments


def test_unknown_matter_goes_to_grid_for_review(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "Hello, is anyone there? xyz")
    assert decision.departments == ("grid",)
    assert decision.needs_review and decision.confidence < 0.5
    assert not decision.police and decision.priority == "P3"


def test_heating_out_of_season_goes_to_housing(classifier: KeywordClassifier) -> None:
    text = "No heating in our building for two days, it is freezing"
    decision = classify(classifier, text, at=SUMMER)
    assert decision.lead == "housing"
    assert "heating" not in decision.departments
    assert "for heating, not routable now" in decision.explanation


def test_traditional_chinese_and_full_width_text_route_like_simplified(classifier: KeywordClassifier) -> None:
    assert classify(classifier, "我們小區門口的自來水管爆了").lead == "water"
    assert classify(classifier, "老闆拖欠我們三個月工資不發").lead == "labor"
    assert classify(classifier, "ＢＵＲＳＴ ＰＩＰＥ ON OUR STREET").lead == "water"


def test_english_inflections_match(classifier: KeywordClassifier) -> None:
    assert classify(classifier, "Burst pipes are flooding the road").lead == "water"
    assert classify(classifier, "Three people are trapped in the lift").lead == "fire"


def test_an_exact_word_beats_an_inflection_of_another_term(classifier: KeywordClassifier) -> None:
    decision = classify(classifier, "I was fired last week and my employer has not paid my wages")
    assert decision.lead == "labor"
    assert decision.priority != "P1"
    assert "fire" not in decision.departments


def test_longer_phrase_takes_a_shared_pipe_leak_to_housing(classifier: KeywordClassifier) -> None:
    assert classify(classifier, "楼道水管漏水，物业不管").lead == "housing"


def test_decision_is_deterministic_and_satisfies_the_protocol(classifier: KeywordClassifier) -> None:
    protocol: Classifier = classifier
    text = "楼下饭店后厨着火了，烟很大"
    assert protocol.classify(text, at=WINTER) == protocol.classify(text, at=WINTER)


def test_temporary_department_takes_reports_only_while_switched_on() -> None:
    def department(code: str, mode: str = "permanent", fallback: str | None = None,
                   keywords: tuple[str, ...] = ()) -> Department:
        return Department(code=code, name_zh=code, name_en=code, mode=mode,  # type: ignore[arg-type]
                          fallback=fallback, keywords_en=keywords)

    registry = Registry(departments=MappingProxyType({
        "police": department("police", keywords=("fight",)),
        "event_security": department("event_security", "temporary", "police", ("concert",)),
        "grid": department("grid"),
    }))
    classifier = KeywordClassifier(registry)
    assert classifier.classify("Crowd trouble at the concert", at=SUMMER).lead == "police"
    switched_on = classifier.classify("Crowd trouble at the concert", at=SUMMER,
                                      switched_on=frozenset({"event_security"}))
    assert switched_on.lead == "event_security"
