"""Document type, metadata and provisions of a policy text, segmented by the document's own numbering."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from huiqi.extract.numerals import to_number

#: Numbering styles, from the outermost a document usually uses to the innermost.
MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("chapter", re.compile(r"^\s*(第[一二三四五六七八九十百零〇]+[章节])\s*")),
    ("article", re.compile(r"^\s*(第([一二三四五六七八九十百零〇0-9]+)条)[\s\u3000]*")),
    ("cn", re.compile(r"^\s*(([一二三四五六七八九十]+)[、．.])\s*")),
    ("paren_cn", re.compile(r"^\s*([（(]([一二三四五六七八九十]+)[）)])\s*")),
    ("arabic", re.compile(r"^\s*(([0-9]{1,2})\s*[.．、])\s*")),
    ("paren_arabic", re.compile(r"^\s*([（(]([0-9]{1,2})[）)])\s*")),
    ("circled", re.compile(r"^\s*(([①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳]))\s*")),
    ("shi", re.compile(r"^\s*(([一二三四五六七八九十]+)是)")),
]
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
_ATTACHMENT = re.compile(r"^\s*附件\s*([0-9一二三四五六七八九十]*)\s*[：:]?\s*(.*)$")
_DATE = re.compile(
    r"((?:19|20)[0-9]{2}|[二〇一二三四五六七八九零]{4})\s*年\s*([0-9一二三四五六七八九十]{1,3})\s*月\s*([0-9一二三四五六七八九十]{1,3})\s*日"
)
_DOC_NUMBER = re.compile(r"[\u4e00-\u9fff]{1,12}\s*[〔\[【（(]\s*((?:19|20)[0-9]{2})\s*[〕\]】）)]\s*[0-9]+\s*号")
_ISSUER_END = re.compile(r"(人民政府|办公厅|办公室|委员会|局|厅|委|部|中心|管委会|管理委员会|政府)$")
_UNITS = re.compile(
    r"[（(]\s*(牵头单位|责任单位|牵头部门|责任部门|负责单位)\s*[：:]\s*(.+?)[）)]\s*$|[（(]([^（）()]{2,60}?)(牵头|负责)[，,、]?([^（）()]*?)(配合|参与|按职责分工负责)?[）)]\s*$"
)


@dataclass
class Line:
    start: int  # offset of the line's first non-space character
    end: int
    text: str  # stripped


@dataclass
class Block:
    """A numbered item (or an unnumbered paragraph) with its continuation lines."""

    style: str | None
    number: str | None
    value: int | None
    start: int
    end: int
    text: str
    part: int = 0
    heading_only: bool = False
    parent: Block | None = None
    children: list[Block] = field(default_factory=list)


@dataclass
class Segmented:
    provisions: list[Block]
    headings: list[Block]
    others: list[tuple[int, int, str]]  # spans left out of provisions, with the reason


def lines_of(text: str) -> list[Line]:
    out: list[Line] = []
    pos = 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            out.append(Line(pos + lead, pos + lead + len(stripped), stripped))
        pos += len(raw) + 1
    return out


def marker(line: str) -> tuple[str, str, int] | None:
    for style, pattern in MARKERS:
        m = pattern.match(line)
        if m:
            if style == "chapter":
                return style, m.group(1), 0
            raw = m.group(2)
            value = _CIRCLED.index(raw) + 1 if style == "circled" else int(to_number(raw))
            if style == "arabic" and re.match(r"^\s*[0-9]{1,2}\s*[.．][0-9]+\s*(?:%|％|‰|万|亿|元|倍|个|人)", line):
                continue  # 1.5亿元, 2.5%: a decimal number, not an item (1.2024年… is item 1)
            return style, m.group(1), value
    return None


def classify(text: str, title: str) -> tuple[str, str, float, str]:
    """(kind, 文件类型, confidence, why): kind is policy | reply | notice | news."""
    head = text[:600]
    if re.search(r"(代表建议|政协提案|提案的答复|建议的答复|现答复如下|答复如下)", head + title):
        return "reply", "建议答复", 0.95, "答复代表建议或政协提案（“现答复如下”、“建议的答复”）：其中的统计数字不是规则"
    if re.search(
        r"(记者|記者|通讯员|通訊員|日电|日電|据悉|據悉|新闻发布会|本报讯|本報訊|责编|責編|责任编辑|責任編輯|来源：.{0,20}(日报|新闻|网))",
        text,
    ):
        return "news", "通知", 0.85, "新闻稿（记者、日电、据悉等）：报道政策，不是政策原文"
    if re.search(r"关于(组织|开展|做好).{0,40}(申报|推荐|认定).{0,20}的通知", title) or re.search(
        r"关于(组织|开展|做好).{0,40}(申报|推荐).{0,10}工作的通知", head
    ):
        return "notice", "通知", 0.8, "申报/推荐工作通知：组织申报，不设立新的扶持规则"
    if re.search(r"(实施方案|工作方案|行动方案|行动计划)", title):
        return "policy", "实施方案", 0.8, "实施方案"
    return "policy", "政策措施", 0.75, "政策文件（措施、办法、意见、细则等）"


def segment(text: str, *, not_policy: bool = False) -> tuple[Segmented, dict[str, list[str]]]:
    """Provisions by the document's own numbering, headings, attachments, and the metadata lines."""
    lines = lines_of(text)
    blocks: list[Block] = []
    part = 0
    meta: dict[str, list[str]] = {"title_lines": [], "signature": [], "attachments": []}
    others: list[tuple[int, int, str]] = []
    body_started = False
    template_part = False
    for index, line in enumerate(lines):
        att = _ATTACHMENT.match(line.text)
        if att and len(line.text) <= 40:
            part += 1
            template_part = bool(re.search(r"(表|模板|申请书|承诺书|汇总|格式|清单|目录)$", att.group(2) or ""))
            meta["attachments"].append(line.text)
            others.append((line.start, line.end, "附件标记"))
            continue
        if template_part:
            others.append((line.start, line.end, "附件表格/模板（不是条款）"))
            continue
        found = marker(line.text)
        if not body_started and found is None and _is_front_matter(line.text, lines, index):
            reason = _front_reason(line.text)
            if reason == "文件标题":
                meta["title_lines"].append(line.text)
            others.append((line.start, line.end, reason))
            continue
        if found is None and _is_signature(line.text):
            others.append((line.start, line.end, "落款、日期或版记"))
            meta["signature"].append(line.text)
            continue
        body_started = True
        if (
            found is None
            and blocks
            and len(line.text) <= 20
            and not re.search(r"[。；;，,：:！？]", line.text)
            and re.search(r"[。；;]$", blocks[-1].text)
        ):  # an unnumbered heading between items (NO.2 奖补标准): not part of the item before it
            others.append((line.start, line.end, "小标题（无编号）"))
            continue
        if found is None:
            last = blocks[-1] if blocks else None
            if (
                last is not None
                and last.style is not None
                and _heading_line(last)
                and last.end == _prev_end(lines, index)
            ):  # the paragraph under a heading line is a provision of its own, in that section
                child = Block(None, None, None, line.start, line.end, line.text, part, parent=last)
                last.children.append(child)
                blocks.append(child)
                continue
            if (
                blocks
                and blocks[-1].style is not None
                and blocks[-1].end == _prev_end(lines, index)
                and not _starts_new(line.text)
            ):
                blocks[-1].end = line.end
                blocks[-1].text = text[blocks[-1].start : line.end]
                continue
            blocks.append(Block(None, None, None, line.start, line.end, line.text, part))
            continue
        style, number, value = found
        blocks.append(Block(style, number, value, line.start, line.end, line.text, part))
    _nest(blocks)
    provisions: list[Block] = []
    headings: list[Block] = []
    for block in blocks:
        if block.style == "chapter" or (block.style and _is_heading(block)):
            block.heading_only = True
            headings.append(block)
        else:
            provisions.append(block)
    return Segmented(provisions, headings, others), meta


def _prev_end(lines: list[Line], index: int) -> int:
    return lines[index - 1].end if index else -1


def _starts_new(line: str) -> bool:
    """An unnumbered paragraph that begins a new provision rather than continuing the last one."""
    return bool(
        re.match(
            r"^(本(政策|措施|办法|细则|方案|意见|文件|通知)|以上|上述|各(地|区|县|市)|执行期间|对以上答复|下一步)", line
        )
    )


def _heading_line(block: Block) -> bool:
    """A numbered line that is only a heading (一、招引培育企业主体): short, one line, no sentence."""
    body = block.text[len(block.number or "") :].strip()
    return "\n" not in block.text and len(body) <= 30 and not re.search(r"[。；;！？，,]", body)


def _is_heading(block: Block) -> bool:
    if block.style == "article":
        return False  # 第X条 is an article even when short
    body = block.text[len(block.number or "") :].strip()
    if re.search(r"[。；;！？]", body) or len(body) > 30:
        return False
    return bool(block.children) or len(body) <= 16


def _nest(blocks: list[Block]) -> None:
    """Parent of each numbered block: the nearest earlier block of a style seen before this one's."""
    order: list[str] = []
    stack: list[Block] = []
    last_part = 0
    for block in blocks:
        if block.part != last_part:
            order, stack, last_part = [], [], block.part
        if block.style is None:
            continue
        if block.style not in order:
            order.append(block.style)
        level = order.index(block.style)
        while stack and order.index(stack[-1].style or "") >= level:
            stack.pop()
        if stack:
            block.parent = stack[-1]
            stack[-1].children.append(block)
        stack.append(block)


_FRONT = re.compile(
    r"^(附件|[（(].*(公开|发布).*[）)]|.*〔[0-9]{4}〕.*号.*|签发人.*|[（(]?[A-Z]\s*类[）)]?|.{1,40}[：:]$|.*(关于|办法|措施|意见|方案|通知|政策|细则|规定|答复|建议|决定|计划|条例)[^。；]{0,30}$|[（(].{2,8}稿[）)])"
)


def _is_front_matter(line: str, lines: list[Line], index: int) -> bool:
    if re.search(r"[。；]$", line) or len(line) > 60:
        return False
    return bool(_FRONT.match(line)) or (index < 4 and len(line) <= 30)


def _front_reason(line: str) -> str:
    if re.search(r"〔[0-9]{4}〕|签发人", line):
        return "文号、签发人"
    if re.search(r"公开|[A-Z]\s*类", line):
        return "公开属性、分类标记"
    if re.search(r"[：:]$", line):
        return "主送机关或收件人"
    return "文件标题"


def _is_signature(line: str) -> bool:
    if len(line) > 40 or re.search(r"[。；，]", line):
        return False
    return bool(
        _DATE.fullmatch(line.replace(" ", ""))
        or (re.match(r"^[\u4e00-\u9fff（）()\s]{2,40}$", line) and _ISSUER_END.search(line.replace(" ", "")))
        or re.match(r"^(抄送|印发|共印|联系人|联系电话|（联系)", line)
        or (re.search(r"(印发)$", line) and _DATE.search(line))
    )


def units_of(text: str) -> tuple[str | None, list[str], str | None]:
    """Lead and co-units (牵头单位/责任单位 conventions): the first listed leads."""
    m = re.search(
        r"[（(]\s*(牵头单位|责任单位|牵头部门|责任部门|负责单位)\s*[：:]\s*((?:[^（）()]|[（(][^（）()]*[）)])+)[）)]",
        text,
    )
    if m:
        body = m.group(2)
        parts = re.split(r"[；;]\s*(?:配合单位|协同单位|参与单位)\s*[：:]", body)
        names = _split_units(parts[0])
        co = names[1:] + (_split_units(parts[1]) if len(parts) > 1 else [])
        return (names[0] if names else None), co, m.group(0)
    m = re.search(
        r"[（(]((?:[^（）()]|[（(][^（）()]*[）)]){2,80}?)牵头[，,、]?((?:[^（）()]|[（(][^（）()]*[）)])*?)(?:配合|参与|按职责分工负责)?[）)]",
        text,
    )
    if m:
        lead = _split_units(m.group(1))
        co = _split_units(m.group(2))
        return (lead[0] if lead else None), lead[1:] + co, m.group(0)
    return None, [], None


def _split_units(text: str) -> list[str]:
    names = [n.strip() for n in re.split(r"[、，,]|和(?=[市区县省])|及(?=[市区县省])", text) if n.strip()]
    out: list[str] = []
    prefix = ""
    for name in names:
        name = re.sub(r"^(各|有关|相关)?", "", name) if name.startswith(("有关", "相关")) else name
        m = re.match(r"^(市|区|县|省|自治区)", name)
        if m:
            prefix = m.group(1)
        elif prefix and not name.startswith(("各", "有关")) and len(name) <= 6:
            name = prefix + name  # 市发改委、财政局 → 市财政局 (shared prefix expanded)
        out.append(name)
    return out


def metadata(text: str, meta: dict[str, list[str]]) -> dict[str, Any]:
    """Title, 文号, issuers, date, status, validity, supersession, non-duplication, budget, interpreter."""
    title_lines = [t for t in meta["title_lines"] if not re.search(r"〔|签发人|公开|[A-Z]\s*类|[：:]$|^附件", t)]
    title = "".join(re.sub(r"\s+", "", t) for t in title_lines[:4])
    if not title:  # a notice that transmits the policy: 现将《…》印发给你们
        tm = re.search(r"(?:现将|印发)《([^》]{4,80})》", text[:800])
        title = tm.group(1) if tm else text.strip().split("\n")[0][:60]
    out: dict[str, Any] = {"title": title}
    m = _DOC_NUMBER.search(text[:1500]) or _DOC_NUMBER.search(text)
    out["doc_number"] = re.sub(r"\s+", "", m.group(0)) if m else None
    issuers: list[str] = []
    im = re.match(r"^(.{2,40}?)关于", title)
    if im:
        issuers = [im.group(1)]
    for line in meta["signature"]:
        for name in re.split(r"\s{2,}|\u3000+", line.strip()):
            clean = name.replace(" ", "")
            if _ISSUER_END.search(clean) and not _DATE.search(clean) and clean not in issuers and len(clean) >= 4:
                issuers.append(clean)
    out["issuers"] = issuers
    dates = [d for d in _DATE.finditer(text)]
    issue = None
    for line in reversed(meta["signature"]):
        dm = _DATE.search(line.replace(" ", ""))
        if dm:
            issue = _iso(dm)
            break
    out["issue_date"] = issue
    out["dates_seen"] = len(dates)
    if "征求意见稿" in text[:400] or "征求意见" in title:
        out["status"] = "征求意见稿"
    else:
        out["status"] = "现行有效"
    out["status_review"] = "征求意见稿" not in text[:400]
    out["validity"] = None
    for sm in re.finditer(
        r"[^。；\n]*(?:有效期[^。；\n]*|自[^。；\n]{0,20}(?:起|之日起)(?:施行|实施|执行))[^。；\n]*", text
    ):
        out["validity_quote"] = sm.group(0).strip()
        em = re.search(r"有效期(?:为|至)?\s*([0-9一二三四五六七八九十]+\s*年|[^，。；]*?日)", sm.group(0))
        if em:
            out["validity"] = "有效期" + em.group(1)
        fm = re.search(r"自\s*(" + _DATE.pattern + r")\s*起", sm.group(0))
        if fm:
            out["effective_from"] = _iso_text(fm.group(1))
        tm = re.search(r"(?:有效期至|至)\s*(" + _DATE.pattern + ")", sm.group(0))
        if tm:
            out["effective_to"] = _iso_text(tm.group(1))
        break
    supersedes = []
    for sm in re.finditer(r"[^。；\n]*(废止|停止执行|不再执行|同时失效)[^。；\n]*", text):
        for tm in re.finditer(r"《([^》]+)》\s*[（(]?([^（）()》《]*〔[0-9]{4}〕[0-9]+号)?", sm.group(0)):
            supersedes.append({"title": tm.group(1), "doc_number": tm.group(2)})
    out["supersedes"] = supersedes
    nd = re.search(
        r"[^。；\n]*(不得重复|不重复享受|不再重复|就高不重复|按就高原则|择高|从高|不叠加)[^。；\n]*[。；]?", text
    )
    out["non_duplication"] = (
        {"scope": "同一事项（待审核：范围以原文为准）", "quote": nd.group(0).strip()} if nd else None
    )
    bm = re.search(
        r"[^。；\n]*(均为上限|为上限|最高限额|在年度预算|预算内|资金总额|额度内|总额控制)[^。；\n]*[。；]?", text
    )
    out["budget_semantics"] = (
        {"amounts_are_ceilings": bool(re.search(r"上限|最高限额", bm.group(0))), "quote": bm.group(0).strip()}
        if bm
        else None
    )
    am = re.search(r"由([^。；\n]{2,60}?)负责解释", text)
    out["interpreting_authority"] = _split_units(re.sub(r"会同.*$", "", am.group(1))) if am else []
    out["interpreting_quote"] = am.group(0) if am else None
    return out


def _iso_text(text: str) -> str | None:
    m = _DATE.search(text)
    return _iso(m) if m else None


def _iso(m: re.Match[str]) -> str:
    year = int(to_number(m.group(1)))
    return f"{year:04d}-{int(to_number(m.group(2))):02d}-{int(to_number(m.group(3))):02d}"
