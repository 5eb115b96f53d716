"""Readings added after the blind2 measurement (docs/extract.md "Measured"): each at its boundary, with the
reading it must not become."""

from __future__ import annotations

from pathlib import Path

import pytest

from huiqi.extract.core import extract
from huiqi.extract.patterns import find_values
from huiqi.extract.reading import normalise
from huiqi.extract.script import simplified, traditional_share


def labels(text: str) -> list[tuple[str, str]]:
    return [(v.field, v.label) for v in find_values(text) if v.field != "flag"]


def flags(text: str) -> set[str]:
    return {v.label for v in find_values(text) if v.field == "flag"}


def test_an_enumeration_after_a_ceiling_is_all_ceilings() -> None:
    assert labels("分别予以不超过150万元、100万元、50万元的奖励") == [
        ("cap", "150万元"),
        ("cap", "100万元"),
        ("cap", "50万元"),
    ]
    # a condition list stays a condition list
    assert labels("营业收入不超过2000万元、3000万元的企业给予奖励")[0] == ("threshold", "<=2000万元")


def test_ceilings_written_otherwise() -> None:
    assert labels("以上奖励最高达到100万元") == [("cap", "100万元")]  # not >=100万元
    assert labels("研发费用达到1亿元的，额外奖励70万元") == [("threshold", ">=1亿元"), ("amount", "70万元")]
    assert labels("每家企业补助金额不超过10万。") == [("cap", "10万元")]  # 万 without 元 at a clause end
    assert labels("新增就业10万人") == [("other", "100000人")]  # 万人 is a count, not money


def test_an_amount_range_is_a_ceiling_not_two_thresholds() -> None:
    assert labels("对首次获批的国家级高企，给予30-50万元奖励") == [("other", "30万元"), ("cap", "50万元")]
    assert labels("营业收入在5000万元(含)—1亿元之间的企业给予奖励")[:2] == [
        ("threshold", ">=5000万元"),
        ("threshold", "<=1亿元"),
    ]


def test_inclusive_marks_and_non_overlapping_tiers() -> None:
    text = "按其销售收入小于5000万元(含)、5000万元至2亿元(含)、2亿元以上三个档次，分别给予30万元、40万元、50万元奖励。"
    thresholds = [label for field, label in labels(text) if field == "threshold"]
    assert thresholds == ["<=5000万元", ">5000万元", "<=2亿元", ">2亿元"]
    assert ("threshold", "<5000万元") in labels("销售收入小于5000万元的企业给予奖励")  # no (含): strict
    assert ("threshold", ">=2亿元") in labels("销售收入2亿元以上的企业给予奖励")  # 以上 alone includes


def test_rates_that_are_not_thresholds_and_splits_that_are_not_rates() -> None:
    assert labels("由市县财政按不超过代偿额的10%给予风险补贴") == [("rate", "10%")]
    assert labels("按照1:0.1的比例给予配套奖励，最高奖励不超过10万元") == [("rate", "10%"), ("cap", "10万元")]
    assert labels("市财政和区财政按照各50%比例给予30-50万元奖励")[0] == ("other", "50%")
    assert ("threshold", ">=50%") in labels("担保业务占比不低于50%的机构，按余额的1‰给予补助")
    assert ("rate", "0.1%") in labels("担保业务占比不低于50%的机构，按余额的1‰给予补助")
    assert labels("占全市工业比重的30%")[0][0] == "other"  # a statistic stays one


def test_conditions_in_years_ages_and_ranks() -> None:
    assert ("threshold", "<=5年") in labels("毕业5年内统招本科生购房给予一次性补贴1万元")
    assert ("duration", "3年") in labels("给予补助，3年内有效")  # after a benefit: still a duration
    assert ("threshold", "<=45周岁") in labels("45周岁以下正高级职称人员给予补贴5万元")
    assert ("threshold", "<=3位") in labels("发放额在机构中排名前3位的，给予奖励100万元")
    assert ("duration", "5年") in labels("对人才团队，全周期5年最高给予1000万元综合支持")
    assert labels("给予最高不超过30万元的一次性奖励") == [("cap", "30万元")]  # 一次 of 一次性 is not a count


def test_benefit_written_as_can_receive() -> None:
    assert labels("博士研究生可获得15万元和10万元的一次性安家补贴") == [("amount", "15万元"), ("amount", "10万元")]


def test_matching_and_top_up_flags() -> None:
    assert "比照" in flags("市财政给予与省同等额度的资金支持")
    assert "比照" in flags("对认定的企业给予同比例奖励")
    assert "进档补差" in flags("入选示范工厂时，按差额进行奖励")
    assert "比照" not in flags("同比增长20%")


def test_traditional_script_is_read_and_quoted_as_received(tmp_path: Path) -> None:
    text = "東莞市\n認定獎勵\n對獲國家級專精特新“小巨人”認定的企業,一次性給予50萬元的現金獎勵。\n"
    assert len(simplified(text)) == len(text) and traditional_share(text) > 0.2
    assert traditional_share("对企业给予50万元奖励") == 0
    extraction = extract(normalise(text, path="t.txt"))
    (provision,) = [p for p in extraction.provisions if p.kind == "computable"]
    assert provision.quote.startswith("對獲國家級")  # the text as received, not the simplified reading
    (amount,) = [v for v in provision.values if v.field == "amount"]
    assert (amount.label, amount.text) == ("50万元", "50萬元")
    assert extraction.text[amount.span[0] : amount.span[1]] == "50萬元"


@pytest.mark.parametrize("heading", ["鼓勵技術創新", "二、规上奖励"])
def test_short_headings_between_paragraphs_are_not_a_hard_wrap(heading: str) -> None:
    text = "\n".join(
        [
            "佛山市",
            "資金扶持",
            "對2023-2025年佛山市行政區域內新認定的專精特新企業一次性給予獎勵。",
            heading,
            "對已建研發準備金制度的企業給予補助",
            "降低企業融資成本",
            "對專精特新企業給予貸款貼息補貼,最高補貼貸款利息的50%",
        ]
    )
    received = normalise(text, path="t.txt")
    assert "join_hard_wrapped_lines" not in [s["step"] for s in received.steps]


def test_tiers_of_ranges_and_conditions_that_are_not_tiers() -> None:
    from huiqi.extract.patterns import find_tiers

    text = "按其销售收入小于5000万元(含)、5000万元至2亿元(含)、2亿元以上三个档次，分别给予30万元、40万元、50万元奖励"
    (tiers,) = find_tiers(text, find_values(text))
    assert [([w.label for w in p.when], p.amount.label) for p in tiers.pairs] == [
        (["<=5000万元"], "30万元"),
        ([">5000万元", "<=2亿元"], "40万元"),
        ([">2亿元"], "50万元"),
    ]
    # two conditions of one rule in different clauses: the categories before 分别 are the tiers
    text = "签订不少于3年劳动合同的统招博士、硕士研究生，在企业工作1年以上的，也可分别获得一次性安家补贴15万元和10万元"
    (tiers,) = find_tiers(text, find_values(text))
    assert [(p.category, p.when, p.amount.label) for p in tiers.pairs] == [
        ("统招博士", [], "15万元"),
        ("硕士研究生", [], "10万元"),
    ]
    # a note in brackets is not an item of the list
    text = "对新获批省级标杆企业、省级示范工厂(含工业互联网标杆工厂、5G工厂)、省级示范车间的企业，分别予以不超过150万元、100万元、50万元的奖励"
    (tiers,) = find_tiers(text, find_values(text))
    assert [p.amount.label for p in tiers.pairs] == ["150万元", "100万元", "50万元"]
    assert tiers.pairs[1].category == "省级示范工厂"
