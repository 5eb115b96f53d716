"""Reading the files users bring: profiles, spreadsheets, plans — whatever encoding Excel or Notepad wrote.

Everything here turns a bad file into a Chinese message naming the file (and line and column where there
is one), never a traceback: a directory given as a file, an unreadable or binary file, an encoding that is
not UTF-8 (with or without BOM), UTF-16, GBK or GB18030, malformed YAML, JSON or CSV.
"""

from __future__ import annotations

from huiqi.userfiles.structured import load_json_text, load_structured_file, load_yaml_text
from huiqi.userfiles.text import decode_text, prepare_output_dir, read_bytes, read_text

__all__ = [
    "decode_text",
    "load_json_text",
    "load_structured_file",
    "load_yaml_text",
    "prepare_output_dir",
    "read_bytes",
    "read_text",
]
