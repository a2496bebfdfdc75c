"""Reading a YAML file safely into positioned nodes, with messages for policy staff.

This layer knows YAML, not policies: it decodes the bytes (UTF-8 only, and says so
for a BOM or a GBK file), spots what Chinese input methods slip into a file (full-
width colons and commas, tabs), refuses anything that could run code or blow up
(tags, anchors and aliases), and composes PyYAML nodes, which keep line and column.
`policyrules.loading.nodes` reads those nodes and `policy_file` turns them into the model.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..errors import Problem

__all__ = ["ReadResult", "not_utf8", "read_yaml"]

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq",
}

MAX_BYTES = 2 * 1024 * 1024
MAX_NODES = 200_000

# A key typed with a full-width colon: `id：beita` or `- clause：三(一)2`.
_FULLWIDTH_KEY = re.compile(r"^(\s*(?:-\s+)?)([A-Za-z_][A-Za-z0-9_.]*)\s*：")
# A flow list `[a，b]` with a full-width comma.
_FULLWIDTH_COMMA_IN_FLOW = re.compile(r"\[[^\]#]*，[^\]#]*\]")


#: libyaml's parser where PyYAML has it (ten times faster); composing only builds nodes, it
#: never constructs Python objects, so no tag can run code with either.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _AliasFound(Exception):
    def __init__(self, mark: Any) -> None:
        super().__init__()
        self.mark = mark


class ReadResult:
    """The root node of a document (None when the file failed or is empty) and its lines."""

    def __init__(self, path: str, lines: list[str], root: Node | None, problems: list[Problem]):
        self.path = path
        self.lines = lines
        self.root = root
        self.problems = problems

    def problem(self, line: int, column: int, message: str, suggestion: str = "") -> Problem:
        """A Problem at 1-based ``line``/``column`` of this file, with its source line."""
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return Problem(self.path, line, column, message, suggestion, source)

    def at(self, node: Node, message: str, suggestion: str = "") -> Problem:
        """A Problem at ``node``'s position."""
        mark = node.start_mark
        return self.problem(mark.line + 1, mark.column + 1, message, suggestion)


def read_yaml(path: str, data: bytes) -> ReadResult:
    """Decode, check and compose ``data`` (the bytes of the file at ``path``)."""
    result = ReadResult(path, [], None, [])
    text = _decode(result, data)
    if text is None:
        return result
    result.lines = text.splitlines()
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in result.lines
    ):
        result.problems.append(
            result.problem(
                1, 1, "文件是空的。\nThe file is empty.", "Write the policy into it, or delete it."
            )
        )
        return result
    _scan_lines(result)
    if result.problems:
        return result
    try:
        if "&" in text or "*" in text:  # perhaps an anchor or alias: find it with the events
            for event in yaml.parse(text, Loader=_FastLoader):
                if isinstance(event, AliasEvent) and event.start_mark is not None:
                    raise _AliasFound(event.start_mark)
        loader = _FastLoader(text)
        try:
            root = loader.get_single_node()
        finally:
            loader.dispose()
    except _AliasFound as found:
        result.problems.append(
            result.problem(
                found.mark.line + 1,
                found.mark.column + 1,
                "这里用了 YAML 锚点/别名（& 或 *），政策文件不允许。\n"
                "YAML anchors and aliases (& and *) are not allowed in policy files.",
                "Write the value out in full where it is needed.",
            )
        )
        return result
    except yaml.MarkedYAMLError as error:
        result.problems.append(_syntax_problem(result, error))
        return result
    if root is None:
        result.problems.append(result.problem(1, 1, "文件是空的。\nThe file is empty."))
        return result
    _check_nodes(result, root)
    if not result.problems:
        result.root = root
    return result


def _decode(result: ReadResult, data: bytes) -> str | None:
    if len(data) > MAX_BYTES:
        result.problems.append(
            result.problem(
                1,
                1,
                f"文件太大（{len(data)} 字节）。\nThe file is too large ({len(data)} bytes; "
                f"the limit is {MAX_BYTES}).",
            )
        )
        return None
    if data.startswith(b"\xef\xbb\xbf"):
        result.problems.append(
            result.problem(
                1,
                1,
                "文件开头有字节顺序标记（BOM）。\nThe file starts with a byte-order mark (BOM).",
                "Save it as 'UTF-8' (not 'UTF-8 with BOM' / 'UTF-8 带签名').",
            )
        )
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        message, suggestion = not_utf8(data)
        result.problems.append(Problem(result.path, line, column, message, suggestion, ""))
        return None


def not_utf8(data: bytes) -> tuple[str, str]:
    """What to say of ``data`` that is not UTF-8: the message (Chinese, then English, on two
    lines: "looks like GBK" when it decodes as GB18030) and the suggestion. Every reader of text
    files (policies, case files, JSON contexts) says it with these words."""
    try:
        data.decode("gb18030")
        looks_gbk = True
    except UnicodeDecodeError:
        looks_gbk = False
    if looks_gbk:
        message = (
            "文件不是 UTF-8 编码，看起来是 GBK/GB2312（简体中文 Windows 的默认编码）。\n"
            "The file is not UTF-8: it looks saved as GBK/GB2312."
        )
    else:
        message = "文件不是 UTF-8 编码。\nThe file is not valid UTF-8 text."
    return message, ("Open it in your editor and save it again with the encoding 'UTF-8' "
                     "(Notepad, '记事本': '另存为 → 编码 → UTF-8').")


def _scan_lines(result: ReadResult) -> None:
    """Problems YAML would report confusingly or not at all: tabs, full-width punctuation."""
    for number, line in enumerate(result.lines, start=1):
        indent = len(line) - len(line.lstrip(" \t"))
        if "\t" in line[:indent]:
            result.problems.append(
                result.problem(
                    number,
                    line.index("\t") + 1,
                    "行首用了制表符（Tab）缩进，YAML 只认空格。\n"
                    "This line is indented with a tab; YAML indents with spaces only.",
                    "Replace the tab with spaces (two per level).",
                )
            )
            continue
        if "：" not in line and "，" not in line:  # both patterns below need one of them
            continue
        code = _strip_comment(line)
        match = _FULLWIDTH_KEY.match(code)
        if match:
            result.problems.append(
                result.problem(
                    number,
                    code.index("：") + 1,
                    f"'{match.group(2)}' 后面是全角冒号“：”，应为半角冒号“:”加一个空格。\n"
                    f"A full-width colon '：' follows '{match.group(2)}'; YAML needs an ASCII "
                    "colon ':' and a space.",
                    f"Write '{match.group(2)}: ' (switch the input method to English punctuation).",
                )
            )
            continue
        flow = _FULLWIDTH_COMMA_IN_FLOW.search(code)
        if flow:
            result.problems.append(
                result.problem(
                    number,
                    code.index("，", flow.start()) + 1,
                    "方括号列表里用了全角逗号“，”，应为半角逗号“,”。\n"
                    "A full-width comma '，' separates the items of this [list]; YAML needs ','.",
                    "Replace '，' with ', ' (or write each item on its own line after '- ').",
                )
            )


def _strip_comment(line: str) -> str:
    """The line without a trailing comment (quotes respected well enough for a scan)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


#: The common PyYAML complaints: (words of PyYAML's problem, what it means in Chinese, the fix).
_SYNTAX: tuple[tuple[str, str, str], ...] = (
    ("mapping values are not allowed", "这里不能再出现“键: 值”：这一行的值里有“: ”，或上一行缺了引号",
     "A value that contains ': ' must be quoted: put the whole value in double quotes (\"...\")."),
    ("could not find expected ':'", "找不到键后面的冒号 ':'",
     "Each line of a mapping needs 'key: value'; check this line and the one above for a missing ':' "
     "or an unclosed quote."),
    ("found character '\\t'", "有制表符（Tab），YAML 只能用空格缩进",
     "Replace tabs with spaces."),
    ("did not find expected '-' indicator", "列表项的缩进不一致：这里应该是以 '-' 开头的一项",
     "Start every item of a list with '-' in the same column as the items above it."),
    ("did not find expected key", "缩进不一致：这里应该是一个与上面的键对齐的键",
     "Indent this line like the keys of its mapping above (same column), or check for an unclosed "
     "quote or bracket above."),
    ("bad indentation", "缩进不一致：这一行缩进得比它所属的映射多或少",
     "Check the indentation: items of one list or mapping start in the same column."),
    ("expected <block end>", "缩进不一致：这一行不属于上面的任何列表或映射",
     "Check the indentation: items of one list or mapping start in the same column."),
    ("expected ',' or ']'", "方括号列表 [...] 里缺少逗号 ',' 或右括号 ']'",
     "Separate the items of a [...] list with ', ' and close it with ']' on the same item."),
    ("expected ',' or '}'", "花括号映射 {...} 里缺少逗号 ',' 或右括号 '}'",
     "Separate the pairs of a {...} mapping with ', ' and close it with '}'."),
    ("found unexpected end of stream", "文件在引号或括号闭合之前就结束了",
     "Close the quote or bracket that the line above opens."),
    ("found unknown escape character", "双引号里的反斜杠 '\\' 不是合法的转义",
     "Write the text in single quotes ('...'), or double the backslash ('\\\\')."),
    ("that cannot start any token", "这个字符不能放在值的开头（如 @、`、%）",
     "Put the value in double quotes (\"...\")."),
    ("expected alphabetic or numeric character", "值以 '*' 或 '&' 开头，YAML 把它当成了别名或锚点",
     "Put the value in double quotes (\"...\")."),
)


def _syntax_problem(result: ReadResult, error: yaml.MarkedYAMLError) -> Problem:
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark else 1
    column = mark.column + 1 if mark else 1
    what = error.problem or "syntax error"
    started = ""
    if error.context and error.context_mark and error.problem_mark:
        start = error.context_mark
        if start.line != error.problem_mark.line:
            what += f" ({error.context} that starts at line {start.line + 1}, column {start.column + 1})"
            started = f"（从第 {start.line + 1} 行第 {start.column + 1} 列开始）"
    chinese, hint = "", ""
    for words, meaning, fix in _SYNTAX:
        if words in what:
            chinese, hint = meaning, fix
            break
    head = f"YAML 格式错误：{chinese}{started}。" if chinese else f"YAML 格式错误{started}。"
    return result.problem(
        line,
        column,
        f"{head}\nYAML syntax error: {what}.",
        hint or "Compare this line with the examples in docs/policy-format.md.",
    )


def _check_nodes(result: ReadResult, root: Node) -> None:
    """Refuse explicit tags; bound the size of the tree."""
    count = 0
    stack = [root]
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            result.problems.append(
                result.at(root, "文件内容过多。\nThe file has too many entries to be a policy.")
            )
            return
        if node.tag not in _STANDARD_TAGS:
            result.problems.append(
                result.at(
                    node,
                    f"不允许使用 YAML 标签 {node.tag!r}。\n"
                    f"The YAML tag {node.tag!r} is not allowed in policy files.",
                    "Remove the '!...' tag; write plain values only.",
                )
            )
            continue
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif not isinstance(node, ScalarNode):  # pragma: no cover - PyYAML has no other kind
            result.problems.append(result.at(node, "unexpected YAML node"))
