"""The command-line framework's own words in Chinese: help headings, "Usage", the help option, and every
usage error ("Invalid value for '--format'", "Missing argument", "No such command", "Try … for help").

Typer (0.29) ships its own copy of Click whose messages are plain f-strings, not gettext calls, so a message
catalogue cannot reach them. Instead, through the hooks Typer offers:

- ``typer.rich_utils``'s module constants (panel titles, "[default: …]", "Try … for help") are set in Chinese;
- ``ChineseGroup`` (the ``cls`` of every ``typer.Typer`` of huiqi) gives each command a ``ChineseContext``,
  whose help formatter writes "用法：" and whose help option says "显示本帮助并退出。";
- the root group turns each usage error into a ``ChineseUsageError`` from its structured fields (the
  parameter, the option name, the suggestions), translating the inner message of Click's and pydantic's
  checks; messages huiqi raises itself are already Chinese and pass through;
- the help panels wrap Chinese text instead of cutting it with "…" (Rich breaks lines only at spaces, so a
  run of Chinese wider than the column was one over-long "word", cropped by the table's ellipsis: help
  texts now fold), the command list shows each command's first sentence, and the value labels are Chinese
  (``<path>`` → 路径; none for a flag, which takes no value).

tests/test_cli_zh.py checks the output through the CliRunner and a real process.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any

from typer import rich_utils
from typer._click.exceptions import (
    BadParameter,
    MissingParameter,
    NoArgsIsHelpError,
    NoSuchOption,
    UsageError,
)
from typer._click.formatting import HelpFormatter
from typer.core import TyperGroup
from typer.models import Context

HELP_OPTION_HELP = "显示本帮助并退出。"

rich_utils.ARGUMENTS_PANEL_TITLE = "参数"
rich_utils.OPTIONS_PANEL_TITLE = "选项"
rich_utils.COMMANDS_PANEL_TITLE = "命令"
rich_utils.ERRORS_PANEL_TITLE = "错误"
rich_utils.ABORTED_TEXT = "已中止。"
rich_utils.RICH_HELP = "运行 [blue]'{command_path} {help_option}'[/] 查看帮助。"
rich_utils.DEFAULT_STRING = "[默认：{}]"
rich_utils.ENVVAR_STRING = "[环境变量：{}]"
rich_utils.REQUIRED_LONG_STRING = "[必填]"
rich_utils.DEPRECATED_STRING = "（已弃用）"

_make_rich_text = rich_utils._make_rich_text


def _folding_text(**kwargs: Any) -> Any:
    """Typer's help text, folded at the column's edge where no space allows a break (Chinese has none)."""
    text = _make_rich_text(**kwargs)
    if hasattr(text, "overflow"):  # a rich Text (markdown help would be a Markdown, which wraps by itself)
        text.overflow = "fold"
    return text


rich_utils._make_rich_text = _folding_text  # the help panels look it up in the module when they render

#: The value a parameter takes, as the help shows it (Typer's ``<str>``, ``<list[str]>``, ``<int range>``).
VALUE_LABELS = {"path": "路径", "file": "路径", "dir": "目录", "directory": "目录", "str": "文本", "text": "文本",
                "int": "整数", "int range": "整数", "float": "数", "float range": "数", "datetime": "日期",
                "uuid": "UUID"}  # fmt: skip


def value_label(typer_label: str | None, *, flag: bool) -> str | None:
    """The Chinese label of a parameter's value from Typer's (``"<list[int]>"`` → ``"整数"``); choices stay as
    they are (``"<table|json>"`` → ``"table|json"``); a flag takes no value and has none.

    >>> value_label("<list[str]>", flag=False), value_label("<table|json>", flag=False)
    ('文本', 'table|json')
    >>> value_label("<bool>", flag=True) is None
    True
    """
    if flag or typer_label is None:
        return None
    label = typer_label.strip("<>")
    suffix = "..." if label.endswith("...") else ""
    label = label.removesuffix("...").strip("<>")
    if label.startswith("list[") and label.endswith("]"):
        label = label[5:-1]
    if label == "bool":
        return None
    return VALUE_LABELS.get(label, label) + suffix


def _chinese_labels(param: Any) -> None:
    """Make the help show ``param``'s value label in Chinese (:func:`value_label`); once per parameter."""
    if "display_type_rich" in vars(param) or not hasattr(param, "display_type_rich"):
        return
    english: Callable[[Any], str | None] = param.display_type_rich

    def display_type_rich(ctx: Any) -> str | None:
        return value_label(english(ctx), flag=bool(getattr(param, "is_flag", False)))

    param.display_type_rich = display_type_rich


def first_sentence(help_text: str) -> str:
    r"""The first sentence of a command's help (up to the first 。 of its first paragraph), on one line: what
    the list of commands shows.

    >>> first_sentence("列出 huiqi\nexamples 的路径、\n完整路径。例：huiqi examples\n\n更多说明。")
    '列出 huiqi examples 的路径、完整路径。'
    """
    paragraph = inspect.cleandoc(help_text).split("\n\n")[0].strip()
    lines = paragraph.splitlines() or [""]
    joined = lines[0]
    for line in lines[1:]:  # a line break between Chinese characters is no space
        joined += ("" if joined[-1:] > "\x7f" or line[:1] > "\x7f" else " ") + line
    end = joined.find("。")
    return joined[: end + 1] if end >= 0 else joined


class ChineseFormatter(HelpFormatter):
    """Click's help formatter with a Chinese usage prefix."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, "用法：" if prefix is None else prefix)


class ChineseContext(Context):
    """A context whose formatter and help option speak Chinese."""

    formatter_class = ChineseFormatter

    def __init__(self, command: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(command, *args, **kwargs)
        option = command.get_help_option(self)
        if option is not None:
            option.help = HELP_OPTION_HELP
            _chinese_labels(option)


class ChineseUsageError(UsageError):
    """A usage error already worded in Chinese (shown by Typer like any other)."""

    def __init__(self, message: str, original: UsageError) -> None:
        super().__init__(message, original.ctx)
        self.exit_code = original.exit_code

    def format_message(self) -> str:
        return self.message


# The inner messages of Click's, Typer's and pydantic's own checks.
_MESSAGES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Value error, (.*)$", re.S), r"\1"),
    (re.compile(r"^(.*) is not one of (.*)\.$", re.S), r"\1 不是可选的值：\2。"),
    (re.compile(r"^Input should be a valid integer.*$", re.S), "应为整数"),
    (re.compile(r"^Input should be a valid number.*$", re.S), "应为数字"),
    (re.compile(r"^Input should be a valid boolean.*$", re.S), "应为 true 或 false"),
    (re.compile(r"^Input should be greater than or equal to (.*)$", re.S), r"应不小于 \1"),
    (re.compile(r"^Input should be less than or equal to (.*)$", re.S), r"应不大于 \1"),
    (re.compile(r"^Input should be greater than (.*)$", re.S), r"应大于 \1"),
    (re.compile(r"^Input should be less than (.*)$", re.S), r"应小于 \1"),
    (re.compile(r"^Value (.*) is not a valid (.*)\.$", re.S), r"\1 不是有效的 \2"),
    (re.compile(r"^(?:File|Directory|Path) (.*) does not exist\.$", re.S), r"找不到 \1"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is a file\.$", re.S), r"\1 是文件，应为目录"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is a directory\.$", re.S), r"\1 是目录，应为文件"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is not readable\.$", re.S), r"\1 不可读"),
    (re.compile(r"^(?:File|Directory|Path) (.*) is not writable\.$", re.S), r"\1 不可写"),
    (re.compile(r"^No such command (.*?)\.(?: Did you mean (.*)\?)?$", re.S), r"没有命令 \1。"),
    (re.compile(r"^Missing command\.$"), "缺少命令。"),
    (re.compile(r"^Got unexpected extra argument(?:\(s\)|s)? \((.*)\)$", re.S), r"多余的参数：\1"),
    (re.compile(r"^Option (.*) requires an argument\.$", re.S), r"选项 \1 需要一个值。"),
    (re.compile(r"^Option (.*) requires (\d+) arguments\.$", re.S), r"选项 \1 需要 \2 个值。"),
    (re.compile(r"^Option (.*) does not take a value\.$", re.S), r"选项 \1 不接受值。"),
    (re.compile(r"^Choose from:\s*(.*)$", re.S), r"可选：\1"),
]


def translate(message: str) -> str:
    """One of the framework's messages in Chinese (a message it does not know is returned as it is)."""
    for pattern, replacement in _MESSAGES:
        if pattern.match(message):
            message = pattern.sub(replacement, message)
    return message


def _hint(exc: BadParameter) -> str | None:
    if exc.param_hint is not None:
        hint: str | Sequence[str] = exc.param_hint
    elif exc.param is not None:
        hint = exc.param.get_error_hint()
    else:
        return None
    return hint if isinstance(hint, str) else " / ".join(repr(h) for h in hint)


def chinese_message(exc: UsageError) -> str:
    """The Chinese text of a usage error, built from its fields rather than from its English sentence."""
    if isinstance(exc, MissingParameter):
        kind = exc.param_type or (exc.param.param_type_name if exc.param is not None else "parameter")
        text = f"缺少{'选项' if kind == 'option' else '参数'} {_hint(exc) or ''}".rstrip() + "。"
        extra = exc.param.get_missing_message(ctx=exc.ctx) if exc.param is not None else None
        return text + (translate(extra).replace("\n\t", " ").replace(",", "、") if extra else "")
    if isinstance(exc, NoSuchOption):
        text = f"没有选项 {exc.option_name}。"
        if exc.possibilities:
            text += f"是否应为 {'、'.join(sorted(exc.possibilities))}？"
        return text
    if isinstance(exc, BadParameter):
        hint = _hint(exc)
        inner = translate(exc.message)
        return f"{hint} 的值无效：{inner}" if hint else f"值无效：{inner}"
    text = translate(exc.message)
    suggestions = re.search(r"Did you mean (.*)\?$", exc.message)
    if suggestions:
        text += f"是否应为 {suggestions.group(1).replace(', ', '、')}？"
    return text


def _localise(command: Any) -> None:
    command.context_class = ChineseContext
    if command.short_help is None and command.help:
        command.short_help = first_sentence(command.help)
    for param in command.params:
        _chinese_labels(param)
    if command.options_metavar == "[OPTIONS]":
        command.options_metavar = "[选项]"
    if getattr(command, "subcommand_metavar", None) == "COMMAND [ARGS]...":
        command.subcommand_metavar = "命令 [参数]..."
    for sub in (getattr(command, "commands", None) or {}).values():
        _localise(sub)


class ChineseGroup(TyperGroup):
    """A Typer group whose commands, help and usage errors are in Chinese (see the module's docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _localise(self)

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except UsageError as exc:
            raise _chinese(exc) from None

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            raise _chinese(exc) from None


def _chinese(exc: UsageError) -> UsageError:
    if isinstance(exc, ChineseUsageError | NoArgsIsHelpError):
        return exc
    return ChineseUsageError(chinese_message(exc), exc)
