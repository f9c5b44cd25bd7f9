"""How every command-line program of the project starts (``kiosk``, ``kiosk-fleet``,
``kiosk-region``): parse, harden the process, run, and end any typed error as one
Chinese / English line with exit status 2 — never a traceback."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from kiosk.errors import BilingualError, ConfigError
from kiosk.hardening import harden_process

# argparse's usage errors, in Chinese beside its English (the rest of its message is names)
_ARGPARSE_ZH = (("the following arguments are required", "缺少必需的参数"),
                ("unrecognized arguments", "无法识别的参数"),
                ("invalid choice", "无效的选项"),
                ("expected one argument", "该选项需要一个值"),
                ("not allowed with argument", "不能与该参数同时使用"),
                ("ambiguous option", "选项有歧义"))


class BilingualArgumentParser(argparse.ArgumentParser):
    """A usage error as the programs' other errors: Chinese / English, exit status 2."""

    def error(self, message: str) -> NoReturn:
        zh = next((z for en, z in _ARGPARSE_ZH if en in message), "命令行参数有误")
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {zh} / {message}\n")


def run_program(parser: argparse.ArgumentParser, argv: Sequence[str] | None, *,
                owner_only_files: bool = True) -> int:
    """``argv`` None: this is the process's entry (console script, ``python -m``), so the
    process is hardened (no core dumps; owner-only files unless ``owner_only_files`` is
    False, for tools whose output a web server must read). A test calling with a list keeps
    its own process as it is."""
    args = parser.parse_args(argv)
    if argv is None:
        harden_process(owner_only_files=owner_only_files)
    try:
        code: int = args.func(args)
        return code
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 2
    except BilingualError as exc:
        print(f"{exc.zh} / {exc.en}", file=sys.stderr)
        return 2
