"""What every qcity management command shares: bad arguments are one line and exit 2.

Django prints argparse's usage block on a bad argument, and a value that
argparse accepts but the code cannot use (``--days 99999999999``) ends in a
traceback. A ``QcityCommand`` reports both as one line of Chinese on stderr
with exit status 2 (``CommandError(returncode=2)`` under ``call_command``),
and the argument types below check range, length and readability while the
arguments are parsed, before the command touches the database.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models

# argparse's own messages, in the words a Chinese administrator reads.
_ARGPARSE_MESSAGES = [
    (re.compile(r"^the following arguments are required: (.*)$"), "缺少必需的参数：{0}"),
    (re.compile(r"^unrecognized arguments: (.*)$"), "无法识别的参数：{0}"),
    (
        re.compile(r"^argument (\S+): invalid choice: (.*) \(choose from (.*)\)$"),
        "参数 {0} 的取值 {1} 无效，可选：{2}",
    ),
    (re.compile(r"^argument (\S+): invalid \w+ value: (.*)$"), "参数 {0} 的取值 {1} 无效"),
    (re.compile(r"^argument (\S+): expected one argument$"), "参数 {0} 需要一个值"),
    (re.compile(r"^argument (\S+): (.*)$"), "参数 {0}：{1}"),
]


def argparse_message_in_chinese(message: str) -> str:
    message = " ".join(message.split())  # one line, whatever argparse put in
    for pattern, template in _ARGPARSE_MESSAGES:
        match = pattern.match(message)
        if match:
            return template.format(*match.groups())
    return message


class QcityCommand(BaseCommand):
    """Base class for every qcity command (a test checks that they all use it)."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)

        def error(message: str) -> NoReturn:
            line = f"{subcommand}：{argparse_message_in_chinese(message)}"
            if parser.called_from_command_line:
                sys.stderr.write(line + "\n")
                sys.exit(2)
            raise CommandError(line, returncode=2)

        parser.error = error  # type: ignore[method-assign]
        return parser


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer in [low, high], refused while parsing otherwise."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            number = None
        if number is None or not low <= number <= high:
            raise argparse.ArgumentTypeError(f"须为 {low} 到 {high} 之间的整数（收到“{value}”）")
        return number

    parse.__name__ = "int"
    return parse


def text_for(model: type[models.Model], field: str) -> Callable[[str], str]:
    """An argparse type: text that fits ``model.field`` (its max_length, no NUL)."""
    limit = model._meta.get_field(field).max_length

    def parse(value: str) -> str:
        if "\x00" in value:
            raise argparse.ArgumentTypeError("不能包含空字符（NUL）")
        if limit is not None and len(value) > limit:
            raise argparse.ArgumentTypeError(f"不能超过 {limit} 个字符（实际 {len(value)} 个）")
        return value

    parse.__name__ = "text"
    return parse


def text_file(max_bytes: int = 64 * 1024) -> Callable[[str], str]:
    """An argparse type: the UTF-8 content of a small readable file (e.g. a password file)."""

    def parse(value: str) -> str:
        path = Path(value)
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"文件不存在或不是普通文件：{value}")
        try:
            if path.stat().st_size > max_bytes:
                raise argparse.ArgumentTypeError(f"文件过大（上限 {max_bytes} 字节）：{value}")
            return path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise argparse.ArgumentTypeError(f"文件不是UTF-8文本：{value}") from None
        except OSError as exc:
            raise argparse.ArgumentTypeError(f"无法读取文件（{exc.strerror}）：{value}") from None

    parse.__name__ = "file"
    return parse
