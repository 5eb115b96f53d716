"""A policy text from a file (.txt in UTF-8 or GBK, .docx, PDF with a text layer), normalised for reading.

Each normalisation step that changed something is recorded (name and how many lines it touched), so a
reviewer sees what happened between the file as received and ``source.txt``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from huiqi.errors import HuiqiError
from huiqi.userfiles.text import decode_text, read_bytes


class ExtractError(HuiqiError):
    """A file that cannot be read as a policy text."""


@dataclass
class Received:
    """The text as received (decoded) and as normalised, with the steps applied."""

    path: str
    format: str  # txt | docx | pdf
    encoding: str | None
    raw: str
    text: str
    steps: list[dict[str, object]] = field(default_factory=list)


def read_policy_file(path: Path) -> Received:
    """Read and normalise a policy file; the format is recognised from its first bytes, not its name."""
    data = read_bytes(path, what="政策文件", error=ExtractError)
    if data.startswith(b"%PDF"):
        raw, fmt, encoding = _pdf_text(data, str(path)), "pdf", None
    elif data.startswith(b"PK\x03\x04"):
        raw, fmt, encoding = _docx_text(data, str(path)), "docx", None
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ExtractError("这是旧版 Word 文件（.doc）：请另存为 .docx 或纯文本后再提取", where=str(path))
    else:
        raw = decode_text(data, where=str(path), what="政策文本", error=ExtractError)
        fmt = "txt"
        try:
            data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            encoding = "gb18030"
    if not re.search(r"[\u4e00-\u9fff]", raw):
        raise ExtractError("文件中没有中文文字：请给出政策原文（.txt、.docx 或带文字层的 PDF）", where=str(path))
    return normalise(raw, path=str(path), fmt=fmt, encoding=encoding)


def _docx_text(data: bytes, where: str) -> str:
    try:
        import docx
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ExtractError("读取 .docx 需要 python-docx：pip install python-docx", where=where) from None
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # a zip that is not a Word document
        raise ExtractError(f"无法作为 Word 文档（.docx）读取：{exc}", where=where) from None
    lines = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:  # tables (tier tables, attachments) after the body, row by row
        for row in table.rows:
            lines.append("\t".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def _pdf_text(data: bytes, where: str) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - a dependency of the project
        raise ExtractError("读取 PDF 需要 pypdf：pip install pypdf", where=where) from None
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except Exception as exc:
        raise ExtractError(f"无法读取 PDF：{exc}", where=where) from None
    text = "\n".join(page.rstrip("\n") for page in pages)
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise ExtractError("PDF 没有可提取的文字层（可能是扫描件）：请先做文字识别（OCR）或提供文本", where=where)
    return text


_BOOKMARK = re.compile(r"\[bookmark: [^\]]*\]")
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*[0-9]{1,4}\s*[-—–－]|第\s*[0-9]{1,4}\s*页(?:\s*[,，/]?\s*共\s*[0-9]{1,4}\s*页)?"
    r"|[0-9]{1,4}\s*/\s*[0-9]{1,4}|[0-9]{1,3}|Page\s+[0-9]+(?:\s+of\s+[0-9]+)?)\s*$",
    re.IGNORECASE,
)
#: The start of a numbered item: a wrapped line never continues into one.
NUMBERED_START = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百零〇0-9]+[条章节]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)]"
    r"|[0-9]{1,2}[.．、](?![0-9])|[（(][0-9]{1,2}[）)]|[①-⑳]|[一二三四五六七八九十]+是|附件)"
)
_PARAGRAPH_END = re.compile(r"[。！？；：;:!?][”’」』）)]*$")


def _width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def normalise(raw: str, *, path: str = "", fmt: str = "txt", encoding: str | None = None) -> Received:
    """Apply the normalisation steps that change something, recording each."""
    received = Received(path=path, format=fmt, encoding=encoding, raw=raw, text=raw)
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if text != raw:
        received.steps.append({"step": "unify_line_breaks", "note": "统一换行符为 \\n"})
    text2 = _BOOKMARK.sub("", text)
    if text2 != text:
        received.steps.append({"step": "strip_word_bookmarks", "note": "删除 Word 书签标记"})
    text = text2
    if "\x00" in text:
        text = text.replace("\x00", "")
        received.steps.append({"step": "strip_nul", "note": "删除 PDF 文字层中的空字符（\\x00）"})
    spaced = _collapse_letter_spacing(text)
    if spaced != text:
        received.steps.append({"step": "collapse_letter_spacing", "note": _SPACING_NOTE})
        text = spaced
    lines = [line.rstrip() for line in text.split("\n")]
    if lines != text.split("\n"):
        received.steps.append({"step": "strip_trailing_whitespace", "note": "删除行尾空格"})
    kept = [line for line in lines if not _PAGE_NUMBER.match(line) or not line.strip()]
    if len(kept) != len(lines):
        received.steps.append(
            {
                "step": "strip_page_numbers",
                "lines": len(lines) - len(kept),
                "note": "删除页码行（如 “- 3 -”、“第3页 共9页”）",
            }
        )
    lines = kept
    counts = Counter(line.strip() for line in lines if line.strip())
    repeated = {
        line
        for line, n in counts.items()
        if n >= 3 and _width(line) <= 60 and not NUMBERED_START.match(line) and not _PARAGRAPH_END.search(line)
    }
    if repeated:
        before = len(lines)
        lines = [line for line in lines if line.strip() not in repeated]
        received.steps.append(
            {
                "step": "strip_running_headers",
                "lines": before - len(lines),
                "removed": sorted(repeated),
                "note": "删除每页重复的页眉页脚",
            }
        )
    split = _split_inline_numbering(lines)
    if split != lines:
        received.steps.append({"step": "split_inline_numbering", "lines": len(split) - len(lines), "note": _SPLIT_NOTE})
        lines = split
    joined = _join_wrapped(lines)
    if joined is not None:
        received.steps.append(
            {"step": "join_hard_wrapped_lines", "lines": len(lines) - len(joined), "note": _JOIN_NOTE}
        )
        lines = joined
    squeezed: list[str] = []
    for line in lines:
        if line.strip() or (squeezed and squeezed[-1].strip()):
            squeezed.append(line)
    while squeezed and not squeezed[-1].strip():
        squeezed.pop()
    if len(squeezed) != len(lines):
        received.steps.append({"step": "squeeze_blank_lines", "note": "连续空行合并为一行，删除首尾空行"})
    received.text = "\n".join(squeezed) + "\n"
    return received


_JOIN_NOTE = (
    "把排版折行接回段落：行未以句末标点（。！？；：）结束、且宽度接近全文常见行宽时，与下一非空行相接（不插入空格）；"
    "下一行以编号（一、（一）1. 第X条 …）开头时不相接"
)


_SPACING_NOTE = "PDF 文字层逐字加了空格（“第 一 条”）：删去字间的单个空格，多个空格（原有的空格）并为一个"
_CJK_SPACED = re.compile(r"[\u4e00-\u9fff] (?=[\u4e00-\u9fff0-9])")


def _collapse_letter_spacing(text: str) -> str:
    """Undo the letter spacing some PDF text layers give (第 一 条): only when most CJK characters have it."""
    cjk = len(re.findall(r"[\u4e00-\u9fff]", text))
    if not cjk or len(_CJK_SPACED.findall(text)) < 0.3 * cjk:
        return text
    out = []
    for line in text.split("\n"):
        line = re.sub(r"(?<=\S) (?=\S)", "", line)
        out.append(re.sub(r" {2,}", " ", line))
    return "\n".join(out)


_SPLIT_NOTE = "网页复制丢失了换行：在句末标点或空格之后的编号（第X条、第X章、一、（一））前换行，删去编号前的空格"
_INLINE_MARK = (
    r"(?:第[一二三四五六七八九十百零〇]+[条章节]|[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[）)])"
)
_INLINE = re.compile(rf"(?<=[。；：:!?！？])[ \t]*(?={_INLINE_MARK})|[ \t]+(?={_INLINE_MARK})")


def _split_inline_numbering(lines: list[str]) -> list[str]:
    """Long lines holding several numbered items (text copied from a web page) split before each number."""
    out: list[str] = []
    for line in lines:
        strong = re.search(rf"[。；：:!?！？]\s*{_INLINE_MARK}", line)
        if len(line) > 80 and (strong or len(re.findall(_INLINE_MARK, line)) >= 2):
            out.extend(part for part in _INLINE.sub("\n", line).split("\n"))
        else:
            out.append(line)
    return out


def _join_wrapped(lines: list[str]) -> list[str] | None:
    """Lines joined into paragraphs when the text is hard-wrapped, else None (nothing to do)."""
    widths = sorted(_width(line.strip()) for line in lines if line.strip())
    if len(widths) < 6:
        return None
    # A hard-wrapped text has many lines broken mid-sentence at nearly the same width, the widest lines of the
    # text; a web page's short headings between long paragraphs are not a wrap (the median line is a heading).
    wrap = widths[(len(widths) * 9) // 10]
    long_open = sum(
        1 for line in lines if line.strip() and _width(line.strip()) >= 0.8 * wrap and not _PARAGRAPH_END.search(line)
    )
    if wrap > 120 or long_open < max(3, len(widths) // 4):
        return None
    out: list[str] = []
    open_paragraph = False
    for line in lines:
        if not line.strip():
            if not open_paragraph:
                out.append(line)
            continue
        if open_paragraph and not NUMBERED_START.match(line):
            out[-1] += line.strip()
        else:
            out.append(line)
        stripped = out[-1].strip()
        open_paragraph = not (_PARAGRAPH_END.search(stripped) or _width(line.strip()) < 0.8 * wrap)
    return out
