"""Bytes of a user's file, then its text in whatever encoding Chinese software writes.

Accepted: UTF-8 (with or without the byte-order mark Excel and Notepad add), UTF-16 with a byte-order mark
(Excel's "Unicode text"), and GBK / GB18030 (what Excel and Notepad write on Chinese Windows). GBK is a
subset of GB18030, so both decode as GB18030. Anything not UTF-8 is recognised with charset-normalizer
and only accepted when it is one of these; a binary file (a workbook, a PDF) is named as such.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from charset_normalizer import from_bytes

from huiqi.errors import HuiqiError, InputFileError

_CJK = re.compile(r"[\u3400-\u9fff]")
_SAMPLE = 256 * 1024
# Encodings charset-normalizer may name for Chinese text that GB18030 decodes exactly.
_GB_FAMILY = {"gb18030", "gbk", "gb2312", "cp936", "hz"}
_BINARY_SIGNATURES = {
    b"PK\x03\x04": "这是一个压缩包或 Office 文件（.xlsx/.docx）",
    b"\xd0\xcf\x11\xe0": "这是一个旧版 Office 文件（.xls/.doc）",
    b"%PDF": "这是一个 PDF 文件",
}


def read_bytes(path: Path, *, what: str = "文件", error: type[HuiqiError] = InputFileError) -> bytes:
    """The content of ``path``; a missing file, a directory or an unreadable file is an ``error``."""
    if not path.exists():
        raise error(f"找不到文件 {path}（{what}）：请检查路径和文件名")
    if path.is_dir():
        raise error(f"这是一个目录，不是{what}：请给出目录中的文件", where=str(path))
    try:
        return path.read_bytes()
    except PermissionError:
        raise error(f"没有读取权限：无法打开{what} {path}", where=str(path)) from None
    except OSError as exc:
        raise error(f"无法读取{what}（{exc.strerror or exc}）", where=str(path)) from None


def decode_text(data: bytes, *, where: str, what: str = "文件", error: type[HuiqiError] = InputFileError) -> str:
    """Text of ``data``: UTF-8 (±BOM), UTF-16 with BOM, GBK or GB18030; anything else is an ``error``.

    >>> decode_text("苏州市".encode("gbk"), where="x.csv")
    '苏州市'
    >>> decode_text(b"\\xef\\xbb\\xbfregion", where="x.csv")
    'region'
    """
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data[len(codecs.BOM_UTF8) :], "utf-8", where, what, error)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", where, what, error)
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise error(f"{kind}，不是文本{what}：请检查是否选错了文件（应为 YAML、JSON 或 CSV 等文本）", where=where)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        raise error(f"这是二进制文件，不是文本{what}：请检查是否选错了文件", where=where)
    best = from_bytes(data[:_SAMPLE]).best()  # a sample: the whole of a large registry takes seconds
    name = (best.encoding if best is not None else "").replace("_", "").lower()
    if name in _GB_FAMILY or _looks_like_gb(data):
        return _strict(data, "gb18030", where, what, error)
    raise error(
        f"无法识别{what}的编码（可能是{best.encoding if best is not None else '二进制内容'}）："
        "请另存为 UTF-8 或 GBK 编码的文本",
        where=where,
    )


def read_text(path: Path, *, what: str = "文件", error: type[HuiqiError] = InputFileError) -> str:
    """Read and decode a text file, whatever accepted encoding it was saved in."""
    return decode_text(read_bytes(path, what=what, error=error), where=str(path), what=what, error=error)


def _looks_like_gb(data: bytes) -> bool:
    """Whether ``data`` decodes as GB18030 into text with Chinese characters (short files fool detectors)."""
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return bool(_CJK.search(text))


def _strict(data: bytes, encoding: str, where: str, what: str, error: type[HuiqiError]) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        label = {"utf-8": "UTF-8", "utf-16": "UTF-16", "gb18030": "GBK/GB18030"}[encoding]
        raise error(
            f"第{line}行含无法按 {label} 解码的字节（第{exc.start + 1}个字节）：文件可能混用了编码或已损坏，"
            "请用文本编辑器另存为 UTF-8",
            where=f"{where}:{line}",
        ) from None


def prepare_output_dir(path: Path, *, error: type[HuiqiError] = InputFileError) -> Path:
    """Create the output folder ``path`` (and its parents); a file in the way or no permission is an ``error``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise error("输出位置已有同名文件，不是目录：请换一个输出目录", where=str(path)) from None
    except PermissionError:
        raise error("没有写入权限：无法创建输出目录", where=str(path)) from None
    except OSError as exc:
        raise error(f"无法创建输出目录（{exc.strerror or exc}）", where=str(path)) from None
    return path
