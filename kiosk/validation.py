"""Load a TOML or YAML file into a pydantic model with messages a person can act on.

Each problem names the file and line, the dotted key path and what is wrong; an unknown key
comes with the nearest valid key. YAML lines come from the parser's node marks; tomllib
keeps none, so TOML lines are found by scanning the text for the table and the key.

The file comes from outside, so it is read within bounds (a regular file of at most
MAX_TEXT_BYTES, ending with a line break: one without was cut off) and parsed within bounds
(nesting depth, YAML aliases: kiosk.safe_yaml).
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from drivers.fileio import FileRefused, read_bounded, shown
from kiosk.errors import ConfigError
from kiosk.safe_yaml import MAX_DEPTH, MAX_NODES, YamlRefused, parse_yaml

M = TypeVar("M", bound=BaseModel)
Loc = tuple[int | str, ...]

MAX_TEXT_BYTES = 2 << 20   # 20 times the shipped catalogue (95 KB); PyYAML parses 0.2–1 MB/s
MAX_PROBLEMS = 50          # a file with thousands of faults: the first ones say enough
TOO_DEEP = f"嵌套超过 {MAX_DEPTH} 层 / nested deeper than {MAX_DEPTH} levels"


def load_model(path: Path, model: type[M], *, skip_loc: tuple[str, ...] = (),
               check: Callable[[M], list[dict[str, Any]]] | None = None) -> M:
    """Parse ``path`` (.toml or .yaml) and validate it as ``model``, or raise ConfigError.

    ``skip_loc`` names pydantic discriminator tags that appear in error locations but not
    in the file (so they are dropped before looking up lines). ``check`` finds what the
    schema alone cannot (e.g. device options typed by a registry); it returns problems in
    pydantic's error shape, with ``known`` listing the valid keys for an unknown one.
    """
    text = _read(path)
    data, lines = _parse(path, text)
    try:
        value = model.model_validate(data)
        errors: list[Any] = check(value) if check else []
    except ValidationError as exc:
        errors = list(exc.errors())
    if errors:
        problems = [_describe(path, err, model, lines, text, skip_loc)
                    for err in errors[:MAX_PROBLEMS]]
        if len(errors) > MAX_PROBLEMS:
            more = len(errors) - MAX_PROBLEMS
            problems.append(f"…还有 {more} 处问题 / … and {more} more problems")
        raise ConfigError(shown(path), problems)
    return value


def _read(path: Path) -> str:
    try:
        data = read_bounded(path, MAX_TEXT_BYTES)
    except FileRefused as exc:
        raise ConfigError(shown(path), [f"{exc.zh} / {exc.en}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _refused(path, f"不是 UTF-8 文本 / not UTF-8 text: {exc}") from None
    if text and not text.endswith("\n"):
        # Every editor and our own writers end a text file with a line break; a file without
        # one was most likely cut off (a copy or a write interrupted), and the cut line may
        # still parse (`idle_timeout_s = 12` from 120), with defaults for all that follows.
        raise _refused(path, "文件不完整：最后一行没有换行符，可能被截断 / the file is "
                             "incomplete: its last line has no line break, it was probably cut off")
    return text


def _parse(path: Path, text: str) -> tuple[Any, dict[Loc, int]]:
    if path.suffix == ".toml":
        return _parse_toml(path, text), {}
    try:
        data, node = parse_yaml(text)
    except YamlRefused as exc:
        raise ConfigError(shown(path), [f"{shown(path)}:{exc.line}: {exc.zh} / {exc.en}"]
                          ) from None
    except yaml.YAMLError as exc:
        raise _refused(path, f"YAML 语法错误 / YAML syntax error: {exc}") from None
    lines: dict[Loc, int] = {}
    if node is not None:
        _yaml_lines(node, (), lines)
    return data, lines


def _parse_toml(path: Path, text: str) -> Any:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refused(path, f"TOML 语法错误 / TOML syntax error: {exc}") from None
    except RecursionError:        # nested arrays or inline tables, parsed recursively
        raise _refused(path, TOO_DEEP) from None
    problem = _shape_problem(data)
    if problem:
        raise _refused(path, problem)
    return data


def _shape_problem(data: Any) -> str:
    """Refuse data nested deeper than MAX_DEPTH or of more than MAX_NODES values (the same
    bounds as YAML's); iterative, so any depth is measured safely."""
    stack, nodes = [(data, 1)], 0
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if depth > MAX_DEPTH:
            return TOO_DEEP
        if nodes > MAX_NODES:
            return f"超过 {MAX_NODES:,} 个值 / more than {MAX_NODES:,} values"
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list):
            stack.extend((child, depth + 1) for child in value)
    return ""


def _refused(path: Path, problem: str) -> ConfigError:
    return ConfigError(shown(path), [f"{shown(path)}: {problem}"])


def _yaml_lines(node: yaml.Node, loc: Loc, out: dict[Loc, int]) -> None:
    out[loc] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*loc, key.value)
            _yaml_lines(value, child, out)
            out[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _yaml_lines(item, (*loc, i), out)


def _describe(path: Path, err: Any, model: type[BaseModel], lines: dict[Loc, int],
              text: str, skip: tuple[str, ...]) -> str:
    loc: Loc = tuple(p for p in err["loc"] if p not in skip)
    where = _dotted(loc) or "(top level)"
    line = _line_for(loc, lines, text)
    prefix = f"{shown(path)}:{line}: " if line else f"{shown(path)}: "
    if err["type"] == "extra_forbidden":
        key = str(loc[-1])
        known = err.get("known") or sorted(_fields_at(model, loc[:-1]))
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        hint = f"；是否应为 / did you mean `{near[0]}`?" if near else ""
        return f"{prefix}{where}: 未知的键 / unknown key `{key}`{hint}"
    if err["type"] == "literal_error" and loc and loc[-1] == "schema_version":
        return (f"{prefix}schema_version: 不支持的版本 / unsupported version "
                f"{err.get('input')!r}; {err['msg']}")
    return f"{prefix}{where}: {err['msg']} (输入 / got {_short(err.get('input'))})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_for(loc: Loc, lines: dict[Loc, int], text: str) -> int | None:
    if lines:
        for end in range(len(loc), -1, -1):
            if loc[:end] in lines:
                return lines[loc[:end]]
        return None
    return _toml_line(loc, text)


def _toml_line(loc: Loc, text: str) -> int | None:
    """Best effort: the line of ``key =`` inside ``[table]`` for a loc of plain keys; a key
    inside an inline table (``options = { hots = ... }``) is found on the line of its table."""
    names = [str(p) for p in loc if isinstance(p, str)]
    for end in range(len(names), 0, -1):
        line = _toml_key_line(names[:end], text)
        if line is not None:
            return line
    return None


def _toml_key_line(names: list[str], text: str) -> int | None:
    table, key = names[:-1], names[-1]
    current: list[str] = []
    fallback = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        header = re.match(r"^\[+([^\]]+)\]+", line)
        if header:
            current = [p.strip().strip('"') for p in header.group(1).split(".")]
            if current == names:
                fallback = number
            continue
        if current == table and re.match(rf'^"?{re.escape(key)}"?\s*=', line):
            return number
    return fallback


def _fields_at(model: type[BaseModel], loc: Loc) -> set[str]:
    """Valid keys of the (possibly nested) model at ``loc``."""
    candidates: list[Any] = [model]
    for part in loc:
        nxt: list[Any] = []
        for cand in candidates:
            if isinstance(part, int) or typing.get_origin(cand) is dict:
                nxt.extend(_unwrap(cand, element=True))
            elif isinstance(cand, type) and issubclass(cand, BaseModel):
                field = cand.model_fields.get(part)
                if field is not None:
                    nxt.extend(_unwrap(field.annotation, element=False))
        candidates = nxt
    keys: set[str] = set()
    for cand in candidates:
        if isinstance(cand, type) and issubclass(cand, BaseModel):
            keys.update(cand.model_fields)
    return keys


def _unwrap(tp: Any, *, element: bool) -> list[Any]:
    """Model types reachable from an annotation (through Optional, Union, Annotated, tuple)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0], element=element)
    if origin in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(tp) for m in _unwrap(arg, element=element)]
    if element and origin in (tuple, list):
        return [m for arg in typing.get_args(tp) if arg is not Ellipsis
                for m in _unwrap(arg, element=False)]
    if element and origin is dict:
        return _unwrap(typing.get_args(tp)[1], element=False)
    return [tp]   # a model, a scalar, or a container whose index comes next in loc
