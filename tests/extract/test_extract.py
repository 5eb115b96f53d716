"""huiqi extract: reading, patterns at their boundaries, segmentation, drafts that validate, the scorer."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from huiqi.extract.core import extract
from huiqi.extract.draft import write_draft
from huiqi.extract.numerals import cn_to_int
from huiqi.extract.patterns import find_tiers, find_values
from huiqi.extract.reading import normalise, read_policy_file
from huiqi.extract.score import score_gold
from huiqi.locations import default_policies_dir

POLICIES = default_policies_dir()

POLICY_TEXT = """关于印发《苏州市支持先进制造业发展若干措施》的通知
苏工信〔2024〕12号
各区县人民政府，市各有关部门：
现将《苏州市支持先进制造业发展若干措施》印发给你们，请认真贯彻执行。
一、支持企业做大做强
1. 对年营业收入首次达到1亿元、5亿元的制造业企业，分别给予50万元、100万元奖励。
2. 对实缴注册资本不低于1000万元的新引进企业，按实缴注册资本的5%给予奖励，最高不超过200万元。（牵头单位：市工信局；配合单位：市财政局、商务局）
二、支持技术改造
1. 对设备投资超过500万元的技术改造项目，给予一次性补助30万元。
本措施自2024年1月1日起施行，有效期3年，由市工信局负责解释。
苏州市工业和信息化局
2024年1月1日
"""


def labels(text: str) -> list[tuple[str, str]]:
    return [(v.field, v.label) for v in find_values(text) if v.field != "flag"]


def test_chinese_numerals() -> None:
    assert [cn_to_int(t) for t in ["五", "十五", "一百零五", "两万", "三千"]] == [5, 15, 105, 20000, 3000]
    assert labels("营业收入达到五百万元以上的，给予二十万元奖励") == [("threshold", ">=500万元"), ("amount", "20万元")]
    assert labels("按百分之五给予补助") == [("rate", "5%")]
    assert labels("按交易额的千分之三给予奖励") == [("rate", "0.3%")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("营业收入1000万元以上的企业给予奖励", ">=1000万元"),  # 以上 includes (民法典 第1259条)
        ("营业收入超过1000万元的企业给予奖励", ">1000万元"),  # 超过 excludes
        ("员工不满50人的企业给予奖励", "<50人"),  # 不满 excludes
        ("营业收入2000万元以下的企业给予奖励", "<=2000万元"),  # 以下 includes
        ("实缴注册资本不低于1000万元的企业给予奖励", ">=1000万元"),
        ("营业收入不超过2000万元的小微企业给予奖励", "<=2000万元"),  # a condition: no benefit word before it
    ],
)
def test_threshold_inclusiveness(text: str, expected: str) -> None:
    assert ("threshold", expected) in labels(text)


def test_ceilings_are_never_thresholds() -> None:
    assert labels("给予最高100万元奖励") == [("cap", "100万元")]
    assert labels("单个项目补助不超过300万元") == [("cap", "300万元")]
    assert labels("按投入的2%给予奖励，不超过50万元") == [("rate", "2%"), ("cap", "50万元")]
    assert labels("单个项目最高可达500万元") == [("cap", "500万元")]
    assert labels("对入围的，最高奖补2000万元") == [("cap", "2000万元")]


def test_statistics_and_budgets_are_not_rules() -> None:
    assert labels("到2025年，制造业增加值占地区生产总值比重达到35%以上")[0][0] == "other"
    assert labels("每年安排专项资金不少于30万元")[0][0] == "other"
    assert labels("评选不多于5个标杆项目")[0][0] == "other"


def test_enumerations_paired_in_order() -> None:
    text = "对社保员工数和营业收入同时达到20人和2000万元、50人和5000万元的企业，分别给予50万元、100万元奖励。"
    values = find_values(text)
    (tiers,) = find_tiers(text, values)
    assert [([w.label for w in p.when], p.amount.label) for p in tiers.pairs] == [
        ([">=20人", ">=2000万元"], "50万元"),
        ([">=50人", ">=5000万元"], "100万元"),
    ]
    text = "对获评的国家级、省级产业园区，分别给予运营主体300万元、200万元的奖励。"
    (tiers,) = find_tiers(text, find_values(text))
    assert [(p.category, p.amount.label) for p in tiers.pairs] == [("国家级", "300万元"), ("省级产业园区", "200万元")]
    text = "对国家级、省级、市级中心，分别给予300万元、200万元奖励。"  # 3 categories, 2 amounts: not guessed
    (tiers,) = find_tiers(text, find_values(text))
    assert tiers.review


def test_flags_and_durations() -> None:
    values = find_values("对首次认定的企业给予一次性奖励20万元，连续支持不超过3年，进档补差，一事一议，比照执行")
    flags = {v.label for v in values if v.field == "flag"}
    assert {"首次", "一次性", "连续", "进档补差", "一事一议", "比照"} <= flags
    assert ("duration", "3年") in [(v.field, v.label) for v in values]
    assert "连续" not in {v.label for v in find_values("城乡居民收入连续多年保持全国前列") if v.field == "flag"}


def test_segmentation_restarted_numbering_headings_and_units() -> None:
    extraction = extract(normalise(POLICY_TEXT, path="示范.txt"), doc_id="demo")
    assert extraction.is_policy
    ids = [p.id for p in extraction.provisions]
    assert ids[1:4] == ["一.1", "一.2", "二.1"]  # 1. restarts under 二、: the section goes into the id
    quotes = [p.quote for p in extraction.provisions]
    assert quotes[1].startswith("1. 对年营业收入首次达到1亿元")
    headings = [extraction.text[a:b] for a, b, reason in extraction.omitted if "章节标题" in reason]
    assert headings == ["一、支持企业做大做强", "二、支持技术改造"]
    second = extraction.provisions[2]
    assert second.lead_unit == "市工信局"
    assert second.co_units == ["市财政局", "市商务局"]  # 商务局 takes the shared prefix 市
    meta = extraction.meta
    assert meta["doc_number"] == "苏工信〔2024〕12号"
    assert meta["validity"] == "有效期3年"
    assert meta["effective_from"] == "2024-01-01"
    assert meta["issue_date"] == "2024-01-01"
    assert meta["interpreting_authority"] == ["市工信局"]
    assert "苏州市工业和信息化局" in meta["issuers"]


def test_inline_numbering_from_a_web_page_is_split() -> None:
    text = (
        "某市中小企业发展专项资金管理办法 第一章 总则 第一条(目的) 为支持中小企业创业创新，制定本办法。"
        " 第二条(定义) 专项资金是市政府设立的专项补助性资金。 第三条(使用) 对新认定的企业给予10万元奖励。\n"
    )
    extraction = extract(normalise(text), doc_id="inline")
    assert [p.id for p in extraction.provisions] == ["1", "2", "3"]
    assert "split_inline_numbering" in [s["step"] for s in extraction.received.steps]


def test_urumqi_reply_is_not_a_policy() -> None:
    extraction = extract(read_policy_file(POLICIES / "urumqi-reply-2009" / "original.txt"), doc_id="urumqi")
    assert extraction.document_kind == "reply"
    assert extraction.document_type == "建议答复"
    assert all(p.kind == "informative" and not p.rules for p in extraction.provisions)
    assert extraction.meta["doc_number"] == "乌工信〔2022〕50号"


def test_gbk_text_and_hard_wrapped_lines(tmp_path: Path) -> None:
    body = "第一条 对年营业收入达到一千万元以上的企业，给予最高五十万元奖励，用于支持企业扩大生产规模和开展技术研发活动，\n由市工信局负责组织实施。\n"
    text = "苏州市若干措施\n" + body * 4 + "- 2 -\n" + "第五条 本措施由市工信局负责解释。\n"
    path = tmp_path / "gbk.txt"
    path.write_bytes(text.encode("gbk"))
    received = read_policy_file(path)
    assert received.encoding == "gb18030"
    steps = [s["step"] for s in received.steps]
    assert "strip_page_numbers" in steps
    assert "- 2 -" not in received.text
    extraction = extract(received, doc_id="gbk")
    first = extraction.provisions[0]
    assert first.quote.endswith("由市工信局负责组织实施。")  # the wrapped line joined to its article
    assert [(v.field, v.label) for v in first.values if v.field != "flag"] == [
        ("threshold", ">=1000万元"),
        ("cap", "50万元"),
    ]


def test_docx_round_trip(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in POLICY_TEXT.splitlines():
        document.add_paragraph(line)
    path = tmp_path / "policy.docx"
    document.save(str(path))
    received = read_policy_file(path)
    assert received.format == "docx"
    extraction = extract(received, doc_id="docx")
    assert [p.id for p in extraction.provisions][1:4] == ["一.1", "一.2", "二.1"]


def test_pdf_round_trip(tmp_path: Path) -> None:
    fpdf = pytest.importorskip("fpdf")
    font = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    if not font.exists():
        pytest.skip("no CJK font to write a PDF with")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.add_font("noto", fname=str(font), collection_font_number=2)
    pdf.set_font("noto", size=11)
    for line in [
        "苏州市支持制造业若干措施",
        "第一条 对营业收入超过1000万元的企业，给予最高50万元奖励。",
        "第二条 本措施由市工信局负责解释。",
    ]:
        pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "policy.pdf"
    pdf.output(str(path))
    received = read_policy_file(path)
    assert received.format == "pdf"
    assert "第一条 对营业收入超过1000万元的企业" in received.text  # letter spacing of the text layer undone
    extraction = extract(received, doc_id="pdf")
    assert [(v.field, v.label) for v in extraction.provisions[0].values] == [
        ("threshold", ">1000万元"),
        ("cap", "50万元"),
    ]


def test_draft_folder_validates_and_its_cases_pass(tmp_path: Path) -> None:
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase

    path = tmp_path / "demo-policy.txt"
    path.write_text(POLICY_TEXT, encoding="utf-8")
    extraction = extract(read_policy_file(path), doc_id="demo-policy")
    folder = write_draft(extraction, tmp_path / "drafts", "demo-policy", policies=POLICIES)
    base = PolicyBase.load(tmp_path / "drafts", strict=False)
    assert base.errors == []
    policy = yaml.safe_load((folder / "policy.yaml").read_text(encoding="utf-8"))
    rules = {f"{p['id']}/{r['id']}": r for p in policy["provisions"] for r in p.get("rules", [])}
    assert rules["一.1/r1"]["benefit"]["form"] == "tiers"
    assert rules["一.2/r1"]["benefit"] == {
        "form": "rate",
        "base": "paid_in_capital",
        "rate": "5%",
        "ceiling": "200万元",
    }
    assert rules["二.1/r1"]["once"] is True
    assert rules["二.1/r1"]["conditions"]["all"][0]["expr"].endswith("> 500万元")
    assert all(r["note"].startswith("extract 草稿，待审核") for r in rules.values())
    explanation = yaml.safe_load((folder / "extraction.yaml").read_text(encoding="utf-8"))
    value = explanation["provisions"][2]["values"][0]
    assert {"span", "confidence", "pattern", "quote"} <= set(value)
    outcomes = run_all(Engine(base), "demo-policy")
    names = [o.name for o in outcomes]
    assert any("差一点" in n for n in names) and any("上限" in n for n in names)
    assert [o.failures for o in outcomes if not o.passed] == []


def test_cli_extract_and_score(tmp_path: Path) -> None:
    from huiqi.cli import app

    path = tmp_path / "notice.txt"
    path.write_text(POLICY_TEXT, encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(app, ["extract", str(path), "--out", str(tmp_path / "drafts")])
    assert result.exit_code == 0, result.output
    assert "草稿规则" in result.output
    result = runner.invoke(app, ["validate", "--policies", str(tmp_path / "drafts")])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["extract", str(tmp_path / "missing.txt")])
    assert result.exit_code == 1 and "找不到文件" in result.output
    (tmp_path / "empty.txt").write_text("\n", encoding="utf-8")
    result = runner.invoke(app, ["extract", str(tmp_path / "empty.txt")])
    assert result.exit_code == 1 and "没有中文文字" in result.output
    (tmp_path / "old.doc").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 64)
    result = runner.invoke(app, ["extract", str(tmp_path / "old.doc")])
    assert result.exit_code == 1 and ".docx" in result.output


def test_scorer_on_a_tiny_gold_set(tmp_path: Path) -> None:
    folder = tmp_path / "g1"
    folder.mkdir()
    (folder / "source.txt").write_text(POLICY_TEXT, encoding="utf-8")
    gold = {
        "document": {"id": "g1", "set": "dev", "kind": "policy"},
        "provisions": [
            {"start": "现将《苏州市", "kind": "meta"},
            {
                "start": "1. 对年营业收入",
                "kind": "computable",
                "thresholds": [">=1亿元", ">=5亿元"],
                "amounts": ["50万元", "100万元"],
                "tiers": 2,
            },
            {
                "start": "2. 对实缴注册资本",
                "kind": "computable",
                "thresholds": [">=1000万元"],
                "rates": ["5%"],
                "caps": ["200万元"],
            },
            # deliberately wrong gold: 超过 is exclusive, and the amount is 30万元
            {"start": "1. 对设备投资", "kind": "computable", "thresholds": [">=500万元"], "amounts": ["40万元"]},
            {"start": "本措施自2024年", "kind": "meta"},
        ],
    }
    (folder / "gold.yaml").write_text(yaml.safe_dump(gold, allow_unicode=True), encoding="utf-8")
    (score,) = score_gold(tmp_path)
    assert score.segmented_right == 5
    assert (score.fields["amounts"].right, score.fields["amounts"].gold, score.fields["amounts"].found) == (2, 3, 3)
    assert score.fields["caps"].precision == 1.0
    assert score.inclusiveness == 1  # >500万元 found where the gold says >=500万元
    assert score.inverted == 0


def test_cases_generate_for_an_existing_policy() -> None:
    from huiqi.cli import app

    result = CliRunner().invoke(app, ["cases", "--generate", "suzhou-software-cluster"])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(result.stdout.split("\n", 2)[2] if result.stdout.startswith("#") else result.stdout)
    names = [case["name"] for case in data["cases"]]
    assert any(name.startswith("1/capital 恰好达到全部门槛") for name in names)
    at = next(case for case in data["cases"] if case["name"].startswith("1/capital 恰好达到"))
    assert at["profile"]["facts"]["paid_in_capital"] == "1000万元"
    assert at["expect"] == [{"rule": "1/capital", "status": "eligible", "amount": "50万元"}]
    below = next(case for case in data["cases"] if "paid_in_capital >= 1000万元" in case["name"])
    assert below["profile"]["facts"]["paid_in_capital"] == "9999999.99元"  # one fen short
    assert below["expect"][0]["status"] == "not_eligible"


def test_publish_refuses_an_unreviewed_draft_then_records_who_approved(tmp_path: Path) -> None:
    import shutil

    from huiqi.cli import app
    from huiqi.policy.base import PolicyBase

    base = tmp_path / "policies"
    shutil.copytree(POLICIES, base)
    path = tmp_path / "demo-policy.txt"
    path.write_text(POLICY_TEXT, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["extract", str(path), "--out", str(tmp_path / "drafts")]).exit_code == 0
    draft = tmp_path / "drafts" / "demo-policy"
    args = ["publish", str(draft), "--reviewer", "张三", "--approver", "李四", "--policies", str(base)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "未审核的标记" in result.output
    for file in (draft / "policy.yaml", tmp_path / "drafts" / "_facts" / "demo-policy.yaml"):
        lines = file.read_text(encoding="utf-8").splitlines()  # the reviewer's edits: the header comment stays
        file.write_text("\n".join(line if line.startswith("#") else line.replace("extract 草稿，待审核", "已审核")
                                  for line in lines) + "\n", encoding="utf-8")  # fmt: skip
    result = runner.invoke(app, [*args[:2], "--reviewer", "张三", "--approver", "张三", "--policies", str(base)])
    assert result.exit_code == 1 and "不同的人" in result.output
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    record = yaml.safe_load((base / "demo-policy" / "PUBLISHED.yaml").read_text(encoding="utf-8"))
    assert (record["reviewed_by"], record["approved_by"]) == ("张三", "李四")
    assert "demo-policy" in PolicyBase.load(base).documents
    assert runner.invoke(app, args).exit_code == 1  # not twice


def test_every_gold_text_gives_a_draft_that_validates_and_whose_cases_pass(tmp_path: Path) -> None:
    from huiqi.cases import run_all
    from huiqi.engine.evaluate import Engine
    from huiqi.policy.base import PolicyBase

    gold = Path(__file__).parent / "gold"
    folders = sorted(p.parent for p in gold.rglob("source.txt"))
    assert len(folders) >= 19
    for folder in folders:
        extraction = extract(read_policy_file(folder / "source.txt"), doc_id=folder.name)
        write_draft(extraction, tmp_path, folder.name, policies=POLICIES)
    base = PolicyBase.load(tmp_path, strict=False)
    assert [e.message for e in base.errors] == []
    failed = [(o.name, o.failures) for o in run_all(Engine(base)) if not o.passed]
    assert failed == []
