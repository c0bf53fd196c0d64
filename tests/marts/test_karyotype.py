"""The ISCN parser on hand-written karyotypes with their published categories.

Expected IPSS-R categories follow Schanz et al., JCO 2012 (table 3) and Greenberg et al., Blood 2012;
IPSS 1997 groups follow Greenberg et al., Blood 1997; monosomal karyotype follows Breems et al., JCO 2008.
"""

import pytest

from harmony_pipeline.karyotype import parse_karyotype, parse_many

# karyotype, IPSS-R category, number of abnormalities, complex, monosomal, IPSS 1997 group
TABLE = [
    ("46,XY[20]", "good", 0, False, False, "good"),
    ("46,XX", "good", 0, False, False, "good"),
    ("45,X,-Y[20]", "very good", 1, False, False, "good"),
    ("46,XY,del(11)(q14q23)[15]/46,XY[5]", "very good", 1, False, False, "intermediate"),
    ("46,XY,del(5)(q13q33)[20]", "good", 1, False, False, "good"),
    ("46,XX,del(5q)[12]", "good", 1, False, False, "good"),
    ("46,XX,del(12)(p12p13)[20]", "good", 1, False, False, "intermediate"),
    ("46,XY,del(20)(q11.2q13.1)[10]/46,XY[10]", "good", 1, False, False, "good"),
    ("47,XX,+8,del(5)(q13q33)[20]", "good", 2, False, False, "intermediate"),
    ("46,XY,del(7)(q22q36)[20]", "intermediate", 1, False, False, "poor"),
    ("47,XY,+8[20]", "intermediate", 1, False, False, "intermediate"),
    ("47,XX,+19[8]/46,XX[12]", "intermediate", 1, False, False, "intermediate"),
    ("46,XY,i(17)(q10)[20]", "intermediate", 1, False, False, "intermediate"),
    ("47,XY,+8,del(20)(q11q13)[20]", "intermediate", 2, False, False, "intermediate"),
    ("45,XY,-7[20]", "poor", 1, False, False, "poor"),
    ("46,XX,inv(3)(q21q26)[20]", "poor", 1, False, False, "intermediate"),
    ("46,XY,t(3;3)(q21;q26)[20]", "poor", 1, False, False, "intermediate"),
    ("46,XY,del(3)(q21)[20]", "poor", 1, False, False, "intermediate"),
    ("46,XY,t(3;21)(q26;q22)[20]", "poor", 1, False, False, "intermediate"),
    ("45,XX,-7,t(3;3)(q21;q26)[15]/46,XX[5]", "poor", 2, False, True, "poor"),
    ("46,XY,del(5)(q13q33),del(7)(q22q36)[20]", "poor", 2, False, False, "poor"),
    ("47,XY,+8,del(5)(q13q33),del(20)(q11q13)[20]", "poor", 3, True, False, "poor"),
    ("44,XY,-5,-7,del(17)(p11)[20]", "poor", 3, True, True, "poor"),
    ("45,XX,del(5)(q13q33),-7,+8,-18[20]", "very poor", 4, True, True, "poor"),
    ("43,XY,del(5)(q13q33),-7,-12,-17,+mar[20]", "very poor", 5, True, True, "poor"),
    # related clones: the stemline abnormality counts once
    ("46,XY,del(5)(q13q33)[10]/47,idem,+8[8]/46,XY[2]", "good", 2, False, False, "intermediate"),
    # constitutional trisomy 21 is not an acquired abnormality
    ("47,XY,+21c[20]", "good", 0, False, False, "good"),
]


@pytest.mark.parametrize(("text", "category", "count", "is_complex", "monosomal", "ipss"), TABLE)
def test_published_categories(text, category, count, is_complex, monosomal, ipss):
    k = parse_karyotype(text)
    assert k.parsed
    assert k.ipssr_category == category
    assert k.n_abnormalities == count
    assert k.complex is is_complex
    assert k.monosomal is monosomal
    assert k.ipss_karyotype == ipss
    assert (
        k.ipssr_points == {"very good": 0, "good": 1, "intermediate": 2, "poor": 3, "very poor": 4}[category]
    )


def test_examples_from_the_issue_list_their_abnormalities():
    assert parse_karyotype("46,XY,del(5)(q13q33)[20]").abnormalities == ["del(5q)"]
    k = parse_karyotype("45,XX,-7,t(3;3)(q21;q26)[15]/46,XX[5]")
    assert k.abnormalities == ["-7", "t(3;3)(q21;q26)"]
    assert k.minus7 and k.inv3_t33 and not k.mecom_rearranged


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("46,XY,t(8;21)(q22;q22)[20]", "t_8_21"),
        ("46,XX,inv(16)(p13.1q22)[20]", "inv16"),
        ("46,XX,t(16;16)(p13.1;q22)[20]", "inv16"),
        ("46,XY,t(15;17)(q24;q21)[20]", "t_15_17"),
        ("46,XY,t(9;11)(p21.3;q23.3)[20]", "t_9_11"),
        ("46,XY,t(6;9)(p23;q34.1)[20]", "t_6_9"),
        ("46,XY,t(11;19)(q23.3;p13.1)[20]", "kmt2a_rearranged"),
        ("46,XY,t(9;22)(q34.1;q11.2)[20]", "t_9_22"),
        ("46,XY,t(8;16)(p11.2;p13.3)[20]", "t_8_16"),
        ("46,XY,t(3;21)(q26.2;q22)[20]", "mecom_rearranged"),
        ("45,XY,-5[20]", "minus5_del5q"),
        ("46,XY,del(17)(p11.2)[20]", "abn17p"),
        ("45,XY,-17[20]", "abn17p"),
    ],
)
def test_eln_flags(text, flag):
    k = parse_karyotype(text)
    assert getattr(k, flag) is True
    others = {"t_8_21", "inv16", "t_15_17", "t_9_11", "t_6_9", "kmt2a_rearranged", "t_9_22", "t_8_16"} - {
        flag
    }
    assert not any(getattr(k, f) for f in others)


def test_t9_11_is_not_counted_as_other_kmt2a_rearrangement():
    assert parse_karyotype("46,XY,t(9;11)(p21.3;q23.3)[20]").kmt2a_rearranged is False


def test_eln_complex_excludes_hyperdiploid_trisomies_only():
    hyperdiploid = parse_karyotype("50,XY,+4,+6,+10,+17[20]")
    assert hyperdiploid.complex and not hyperdiploid.eln_complex
    assert parse_karyotype("47,XY,+8,del(5)(q13q33),-7[20]").eln_complex


@pytest.mark.parametrize("text", [None, "", "not done", "failed", "46,XY,foo(1)[20]", "nuc ish(ABL1,BCR)x3"])
def test_unreadable_strings_are_not_categorised(text):
    k = parse_karyotype(text)
    assert not k.parsed
    assert k.ipssr_category is None and k.ipssr_points is None and k.ipss_karyotype is None


def test_parse_many_parses_each_distinct_string_once():
    rows = parse_many(["46,XY[20]", "46,XY[20]", "45,XY,-7[20]"])
    assert [r["text"] for r in rows] == ["46,XY[20]", "45,XY,-7[20]"]
    assert rows[1]["abnormalities"] == "-7"
