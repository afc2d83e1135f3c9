"""The pure parts of duplicate-incident detection: distance, place, text similarity."""

from __future__ import annotations

import pytest

from router.routing.duplicates import DuplicatePolicy, Place, distance_m, same_place, similarity


def test_haversine_distance_in_metres() -> None:
    assert distance_m(30.0, 104.0, 30.0, 104.0) == 0
    assert distance_m(0.0, 0.0, 1.0, 0.0) == pytest.approx(111_195, rel=1e-3)  # one degree of latitude
    assert distance_m(30.6586, 104.0648, 30.6590, 104.0650) == pytest.approx(48.5, abs=2)


def test_same_place_by_coordinates_then_grid_then_address() -> None:
    here = {"lat": 30.6586, "lon": 104.0648, "address": "18 Xingfu Road"}
    assert same_place(here, {"lat": 30.6590, "lon": 104.0650}, max_distance_m=300) == "48 m apart"
    assert same_place(here, {"lat": 30.70, "lon": 104.10}, max_distance_m=300) is None
    # coordinates on both sides decide, even when the addresses agree
    assert same_place(here, {"lat": 30.70, "lon": 104.10, "address": "18 Xingfu Road"}, max_distance_m=300) is None
    assert same_place({"grid_id": "G-1"}, {"grid_id": "G-1"}, max_distance_m=300) == "same grid cell G-1"
    assert same_place({"address": "18 Xingfu Road!"}, {"address": " 18 xingfu  road"}, max_distance_m=300) == \
        "same address"
    assert same_place({}, {}, max_distance_m=300) is None
    assert same_place({"address": ""}, {"address": ""}, max_distance_m=300) is None


def test_similarity_of_texts() -> None:
    a = "幸福路18号3号楼着火了，浓烟很大，火很大"
    assert similarity(a, a) == pytest.approx(1.0)
    assert similarity(a, "幸福路18号3号楼着火了，浓烟滚滚，火很大") > 0.6
    assert similarity(a, "垃圾堆起火冒烟") < 0.2
    assert similarity("", a) == 0.0
    assert similarity("The kitchen is on FIRE!", "the kitchen is on fire") == pytest.approx(1.0)


def test_english_reports_of_other_matters_do_not_read_alike() -> None:
    """Character bigrams of English matched a water bill with a burst main on the same street (function words and
    common letter pairs): terms are words, function words dropped, each counted once."""
    burst = "Water main burst on Xingfu Road, water gushing out of the road everywhere, cars can't pass"
    for other in ("My water bill is too high this month, please check the meter", "The water at my tap is brown",
                  "There is no water pressure in my flat this morning"):
        assert similarity(burst, other) < 0.3, other
    for again in ("burst water main xingfu rd!! road flooded",
                  "Big water leak from the road at Xingfu Road, the main must have burst"):
        assert similarity(burst, again) > 0.5, again
    assert similarity("幸福路自来水管爆了，水一直往外冒", "幸福路自來水管爆了，水一直往外冒") == pytest.approx(1.0)


def test_the_call_takers_boilerplate_does_not_dilute_two_reports_of_one_incident() -> None:
    """"来电人反映：" and "caller states" say nothing about the incident: with them the second report of a restaurant
    fire scored 0.298, under the 0.3 a duplicate needs, and opened a second fire ticket."""
    fire = "人民路22号饭店着火了，冒很大的烟"
    assert similarity("来电人反映：人民路一家饭店起火，浓烟很大", fire) >= 0.3
    assert similarity("來電人反映：人民路一家飯店起火，濃煙很大", fire) >= 0.3  # traditional reads alike
    for prefix in ["来电人反映", "来电反映", "市民反映", "来电称", "来电人称", "群众反映", "来电人"]:
        assert similarity(f"{prefix}：{fire}", fire) == pytest.approx(1.0), prefix
    assert similarity("来电了，人民路饭店着火了", "人民路饭店着火了") < 1.0  # 来电 alone (power is back) is content
    kitchen = "Kitchen fire at 5 Elm Street, lots of smoke"
    for said in ["Caller states kitchen fire at 5 Elm Street, lots of smoke",
                 "Hi, RP advises: kitchen fire at 5 Elm Street, lots of smoke",
                 "Hello, caller reported a kitchen fire at 5 Elm Street, he says lots of smoke"]:
        assert similarity(said, kitchen) == pytest.approx(1.0), said


def test_what_is_left_of_a_contraction_is_no_content_word() -> None:
    assert similarity("The hydrant isn't working and the water doesn't stop", "hydrant working, water stop") == (
        pytest.approx(1.0))
    assert similarity("we've waited, they'll come, you're late, it won't stop", "waited come late stop") == (
        pytest.approx(1.0))
    for fragment in ["isn", "doesn", "don", "didn", "won", "wasn", "weren", "aren", "hasn", "haven", "hadn",
                     "couldn", "shouldn", "wouldn", "ll", "re", "ve"]:
        assert similarity(f"pipe burst {fragment}", "pipe burst") == pytest.approx(1.0), fragment


def test_policy_needs_both_place_and_text() -> None:
    policy = DuplicatePolicy(min_similarity=0.3, max_distance_m=300)
    here = {"address": "18 Xingfu Road"}
    assert policy.match("水管爆了，水一直往外冒", here, "水管爆了，水一直往外冒", here) is not None
    assert policy.match("水管爆了，水一直往外冒", here, "停电了", here) is None
    assert policy.match("水管爆了，水一直往外冒", here, "水管爆了，水一直往外冒", {"address": "elsewhere"}) is None


def test_place_box_contains_points_within_the_distance() -> None:
    place = Place.of({"lat": 30.0, "lon": 104.0})
    box = place.box(300)
    assert box is not None and place.known
    assert box[0] < 30.0 - 0.0026 and box[1] > 30.0 + 0.0026 and box[3] - box[2] > 2 * 0.0031
    assert not Place.of({}).known and Place.of({}).box(300) is None
    assert Place.of({"address": "  "}).address_key is None


def test_the_cells_of_a_place_hold_every_point_within_the_distance() -> None:
    # 30.0095° is 0.0005° (about 55 m) south of the border between cells 3000 and 3001
    here = Place.of({"lat": 30.0095, "lon": 104.0})
    across = Place.of({"lat": 30.0105, "lon": 104.0})  # about 110 m north, in the next cell
    assert here.cell != across.cell
    assert across.cell in here.cells(300) and here.cell in across.cells(300)
    far = Place.of({"lat": 30.05, "lon": 104.0})  # about 4.5 km: not a neighbour
    assert far.cell not in here.cells(300)
    assert Place.of({"grid_id": "G-1"}).cell is None and Place.of({"grid_id": "G-1"}).cells(300) == []
