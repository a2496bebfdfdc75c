"""``policyrules evaluate`` and ``explain``: one context (JSON), or JSON Lines answered in place.

A JSON Lines stream is answered by a `LineWriter`: standard input one line at a time (each answer
out as its line comes in), a file in chunks, in this process (``--workers 1``) or on several: the
parent reads the file in blocks cut at newlines (`policyrules.jsonlines.read_chunks`), each of N
worker processes (fork on Linux, inheriting the policies; else spawn, the policies pickled)
answers a chunk with the same `LineWriter` to one string of bytes, and the chunks are written in
input order, at most ``2 N + 1`` in flight: by each worker in its turn, straight to standard
output's file descriptor, where it is forked and the output is bytes (no copy through the
parent), else by the parent. A worker killed mid-run (the out-of-memory killer) stops the run
with exit 2 and a message naming the first line whose answer may be missing (`WorkerStopped`).
The output, the messages on standard error and the exit code are the same bytes every way
(tests/test_json_lines.py holds them to it).
"""

from __future__ import annotations

import argparse
import codecs
import io
import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import IO, Any, TextIO

import attrs

from . import serialise
from .determination import Determination
from .errors import ContextError, ContextProblem, JsonInputError, NoPolicyError
from .explain import Explanation
from .households import HouseholdDetermination
from .jsonlines import (
    CHUNK_BYTES,
    MAX_LINE_BYTES,
    Line,
    chunk_lines,
    errors_of,
    line_of,
    loads_strict,
    read_chunks,
    read_id,
    read_lines,
    unanswered,
    values_line,
)
from .policy import Policy, PolicySet, load_policies, load_policy
from .space import SpaceTooLarge
from .vocabulary import OUTCOME_LABELS

__all__ = ["LineWriter", "default_workers", "evaluate_command"]

EXIT_OK, EXIT_SOME_UNANSWERED, EXIT_BAD_INPUT = 0, 1, 2

#: What a line gets: a person's answer, a household's, or an explanation.
Answer = Determination | HouseholdDetermination | Explanation
#: What stops an input from being answered (a NoPolicyError is read as a problem of the whole context).
Failure = ContextError | JsonInputError


def evaluate_command(args: argparse.Namespace) -> int:
    """``policyrules evaluate`` (and ``explain``, with ``args.explaining``)."""
    answering: Policy | PolicySet = load_policy(args.policy) if args.policy else load_policies(args.policies)
    explaining = getattr(args, "explaining", False)
    evaluate: Callable[..., Answer] = (
        answering.explain if explaining
        else answering.evaluate_household if args.households else answering.evaluate)
    name = args.context or "-"
    if args.json and args.values:
        print("--json and --values are two forms of the answer: choose one", file=sys.stderr)
        return EXIT_BAD_INPUT
    workers = getattr(args, "workers", 1)
    if workers is not None and workers < 1:
        print("--workers must be at least 1", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.households or args.jsonl or name == "-" or name.endswith((".jsonl", ".ndjson")):
        mode = "explain" if explaining else "household" if args.households else "evaluate"
        return _evaluate_lines(args, name, answering, mode, workers)
    try:
        data = Path(name).read_bytes()
    except OSError as error:
        print(f"{name}: cannot read the context: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        context = loads_strict(data)
    except JsonInputError as error:
        print(f"{name}:{error.line}:{error.column}: {error.message}"
              + (f"\n    {error.suggestion}" if error.suggestion else ""), file=sys.stderr)
        return EXIT_BAD_INPUT
    answer, failure = answer_of(evaluate, context, args.engine)
    if failure is not None:
        print(f"{name}:" + describe(failure), file=sys.stderr)
        return EXIT_BAD_INPUT
    assert isinstance(answer, (Determination, Explanation))  # households are read as JSON Lines
    if args.values and isinstance(answer, Determination):
        sys.stdout.write(json.dumps(values_line(None, answer), ensure_ascii=_ascii_only(sys.stdout),
                                    separators=(",", ":")) + "\n")
    else:
        print_answer(answer, args.json, sys.stdout)
    return EXIT_OK


def default_workers(name: str, stream: IO[bytes], mode: str) -> int:
    """The processes a JSON Lines input is answered on by default: every core for a file of more
    than two chunks, else (standard input, a small file, a pipe, explanations) one."""
    if name == "-" or mode == "explain":
        return 1
    try:
        size = os.fstat(stream.fileno()).st_size
    except (OSError, AttributeError, io.UnsupportedOperation):
        return 1
    if size <= 2 * CHUNK_BYTES:
        return 1
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else (os.cpu_count() or 1)


def _evaluate_lines(args: argparse.Namespace, name: str, answering: Policy | PolicySet, mode: str,
                    workers: int | None) -> int:
    """JSON Lines, streamed: every line answered in place, or its unanswered object."""
    try:
        stream = sys.stdin.buffer if name == "-" else open(name, "rb")  # noqa: SIM115 - closed below
    except OSError as error:
        print(f"{name}: cannot read the contexts: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    fast = not _ascii_only(sys.stdout)  # a terminal that shows every character takes the bytes as they are
    # answers written as bytes (a person's, not a household's or an explanation, which go as text)
    plain = (args.values or args.json) and mode == "evaluate"
    raw = _utf8_bytes(sys.stdout) if plain else None
    writer = LineWriter(name, answering, mode, args.engine, args.json, args.values, raw is not None, fast)
    out: Callable[[Any], Any] = raw.write if raw is not None else sys.stdout.write
    answered = failed = 0
    try:
        if workers is None:
            workers = default_workers(name, stream, mode)
        if workers == 1 and name == "-":  # line by line: each answer out as its line comes in
            for line in read_lines(stream):
                piece, message = writer.line(line)
                if message is None:
                    answered += 1
                else:
                    failed += 1
                    print(message, file=sys.stderr)
                out(piece)
        elif workers == 1:
            for first, data in read_chunks(stream):
                piece, messages, good, bad = writer.chunk(first, data)
                answered, failed = answered + good, failed + bad
                if messages:
                    sys.stderr.write(messages)
                out(piece)
        else:
            answered, failed = _in_chunks(writer, stream, workers, out)
    except WorkerStopped as stopped:
        print(f"{name}: a worker process stopped abruptly (killed, or out of memory?) while answering "
              f"the lines from {stopped.first} on: the answers of the lines before {stopped.first} are "
              "written, in order; from it on some or all are missing. Run again, with fewer --workers "
              "if memory is short", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"{name}: cannot read the contexts: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if stream is not sys.stdin.buffer:
            stream.close()
    if not answered and not failed:
        print(f"{name}: no contexts (the input is empty)", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_SOME_UNANSWERED if failed else EXIT_OK


# ---------------------------------------------------------------- one line, one chunk


@attrs.frozen
class LineWriter:
    """How the lines of one stream are answered and written: `line` for one, `chunk` for a chunk
    of `read_chunks` (what a worker process runs). ``raw``: the output is UTF-8 bytes (else text,
    written through standard output's encoding); ``fast``: standard output shows every character."""

    name: str
    answering: Policy | PolicySet
    mode: str  # "evaluate", "household" or "explain"
    engine: str
    json: bool
    values: bool
    raw: bool
    fast: bool

    def line(self, line: Line) -> tuple[Any, str | None]:
        """What line ``line`` writes (bytes when ``raw``, else text) and, when it is not answered,
        its message for standard error (else None)."""
        if line.error is not None:
            return self.written(line, None, line.error)
        return self.written(line, *answer_of(self.evaluate, line.value, self.engine))

    @property
    def evaluate(self) -> Callable[..., Answer]:
        answering = self.answering
        return (answering.explain if self.mode == "explain"
                else answering.evaluate_household if self.mode == "household" else answering.evaluate)

    def written(self, line: Line, answer: Answer | None, failure: Failure | None) -> tuple[Any, str | None]:
        """What line ``line`` writes given its answer or what stopped it (`line`)."""
        number = line.number
        if answer is None:
            assert failure is not None
            message = f"{self.name}:{number}:" + describe(failure)
            if self.json or self.values:
                record = _household_id(line.value) if self.mode == "household" else read_id(line.value)
                return self._json(unanswered(number, record, errors_of(failure))), message
            return f"--- line {number}: not answered (its errors are on standard error)\n", message
        if isinstance(answer, HouseholdDetermination):
            return self._household(number, answer), None
        if isinstance(answer, Determination) and (self.values or self.json) and self.fast:
            # each shared outcome serialised once (policyrules.serialise), orjson where installed
            data = (serialise.values_json(answer, number, answer.id) if self.values
                    else serialise.answer_json(answer, {"line": number}))
            return (data + b"\n", None) if self.raw else (data.decode("utf-8") + "\n", None)
        if self.values and isinstance(answer, Determination):
            return self._json(values_line(number, answer)), None
        if self.json:
            return self._json({"line": number} | answer.to_dict()), None
        record = answer.id if isinstance(answer, Determination) else answer.determination.id
        text = io.StringIO()
        text.write(f"--- line {number}" + ("" if record is None else f" (id {record})") + "\n")
        print_answer(answer, False, text)
        return text.getvalue(), None

    def chunk(self, first: int, data: bytes) -> tuple[Any, str, int, int]:
        """What the lines of a chunk of `read_chunks` write (one bytes or text), their messages for
        standard error, and how many were answered and not."""
        if self.raw and self.mode == "evaluate" and self.fast:
            return self._hot_chunk(first, data)
        pieces: list[Any] = []
        messages: list[str] = []
        answered = 0
        for line in chunk_lines(first, data):
            piece, message = self.line(line)
            pieces.append(piece)
            if message is None:
                answered += 1
            else:
                messages.append(message + "\n")
        out: Any = b"".join(pieces) if self.raw else "".join(pieces)
        return out, "".join(messages), answered, len(messages)

    def _hot_chunk(self, first: int, data: bytes) -> tuple[bytes, str, int, int]:
        """`chunk` for a person's answers or values lines written as bytes: a line that holds one
        object (``{`` to ``}``, a ``\\r`` aside, not too long: what `line_of` would parse) read,
        answered and written on the spot, each answer's pieces joined once with the chunk's;
        every other line, and every line not answered, as `line` writes it."""
        pieces: list[bytes] = []
        add, extend = pieces.append, pieces.extend
        messages: list[str] = []
        evaluate, engine = self.answering.evaluate, self.engine
        loads, answer_parts, values_json = loads_strict, serialise.answer_parts, serialise.values_json
        values = self.values
        parts = data.split(b"\n")
        if data.endswith(b"\n"):
            parts.pop()
        answered = 0
        for number, raw in enumerate(parts, first):
            if len(raw) <= MAX_LINE_BYTES:
                text = raw[:-1] if raw[-1:] == b"\r" else raw
                if text[:1] == b"{" and text[-1:] == b"}":
                    try:
                        answer = evaluate(loads(text), engine=engine)
                    except (JsonInputError, ContextError, NoPolicyError):
                        pass  # written below, as `line` writes it
                    else:
                        answered += 1
                        if values:
                            add(values_json(answer, number, answer.id))
                        else:
                            extend(answer_parts(answer, number))
                        add(b"\n")
                        continue
            line = line_of(number, raw)
            if line is None:
                continue
            piece, message = self.line(line)
            add(piece)
            if message is None:
                answered += 1
            else:
                messages.append(message + "\n")
        return b"".join(pieces), "".join(messages), answered, len(messages)

    def _json(self, row: dict[str, Any]) -> Any:
        if self.raw:
            return json.dumps(row, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        return json.dumps(row, ensure_ascii=not self.fast, separators=(",", ":")) + "\n"

    def _household(self, number: int, answer: HouseholdDetermination) -> str:
        """One household's line: its answer (``--json``), its values (``--values``) or text."""
        if self.json:
            return str(self._json({"line": number} | answer.to_dict()))
        if self.values:
            head: dict[str, Any] = {"line": number} | ({} if answer.id is None else {"id": answer.id})
            return str(self._json(head | {
                "household": {"values": {n: o.to_dict()["value"] for n, o in answer.outcomes.items()}},
                "members": [{k: v for k, v in values_line(None, m).items() if k != "line"}
                            for m in answer.members],
            }))
        text = io.StringIO()
        text.write(f"--- line {number}: household" + ("" if answer.id is None else f" {answer.id}") + "\n")
        for name, outcome in answer.outcomes.items():
            shown = _SHOWN[outcome.value] if not isinstance(outcome.value, tuple) else " → ".join(outcome.value)
            text.write(f"{name} ({OUTCOME_LABELS.get(name, '')}): {shown}\n")
        for member in answer.members:
            text.write("\n--- member" + ("" if member.id is None else f" {member.id}") + "\n")
            print_answer(member, False, text)
        return text.getvalue()


# ---------------------------------------------------------------- several processes

_WRITER: LineWriter | None = None
#: With fork, workers write their chunks to standard output themselves, in turn: (the file
#: descriptor, the number of the chunk whose turn it is, the condition guarding it).
_DIRECT: tuple[int, Any, Any] | None = None


def _start(writer: LineWriter, direct: tuple[int, Any, Any] | None) -> None:
    global _WRITER, _DIRECT
    _WRITER, _DIRECT = writer, direct


def _chunk(item: tuple[int, int, bytes]) -> tuple[Any, str, int, int]:
    """A chunk answered: its output (or, written in turn by this worker, None), messages, counts."""
    assert _WRITER is not None
    index, first, data = item
    out, messages, answered, failed = _WRITER.chunk(first, data)
    if _DIRECT is None:
        return out, messages, answered, failed
    fd, turn, condition = _DIRECT
    with condition:
        condition.wait_for(lambda: turn.value == index)
    view = memoryview(out)
    while view:
        view = view[os.write(fd, view):]
    with condition:
        turn.value = index + 1
        condition.notify_all()
    return None, messages, answered, failed


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
        return None


class WorkerStopped(Exception):
    """A worker process stopped abruptly (killed by a signal, out of memory): the chunks before
    line ``first`` were written, in order; from it on, nothing is, or a part of one chunk."""

    def __init__(self, first: int) -> None:
        super().__init__(first)
        self.first = first


def _in_chunks(writer: LineWriter, stream: IO[bytes], workers: int, out: Callable[[Any], Any]) -> tuple[int, int]:
    """The stream answered chunk by chunk on ``workers`` processes, written in input order: by
    the workers themselves, each in its turn, where they are forked and the output is bytes to
    a file descriptor (no copy through the parent), else by the parent. `WorkerStopped` when a
    worker dies: `concurrent.futures` then fails every chunk in flight and stops the other
    workers (`multiprocessing.Pool` would wait for the dead one's chunk for ever)."""
    sys.stdout.flush()  # nothing buffered is copied into a forked worker (it flushes on exit)
    sys.stderr.flush()
    fork = sys.platform.startswith("linux")
    context = multiprocessing.get_context("fork" if fork else "spawn")
    fd = _fileno(sys.stdout.buffer) if fork and writer.raw else None
    direct = None if fd is None else (fd, context.Value("q", 0, lock=False), context.Condition())
    answered = failed = 0
    pending: deque[tuple[int, Future[tuple[Any, str, int, int]]]] = deque()

    def write_next() -> None:
        nonlocal answered, failed
        first, future = pending.popleft()
        try:
            piece, messages, good, bad = future.result()
        except BrokenProcessPool:
            raise WorkerStopped(first) from None
        answered += good
        failed += bad
        if messages:
            sys.stderr.write(messages)
        if piece is not None:
            out(piece)

    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(writer, direct)) as pool:
        try:
            for index, (first, data) in enumerate(read_chunks(stream)):
                pending.append((first, pool.submit(_chunk, (index, first, data))))
                if len(pending) > 2 * workers:
                    write_next()
            while pending:
                write_next()
        except BrokenProcessPool:  # a submit after the pool broke: the first chunk not written
            raise WorkerStopped(pending[0][0] if pending else first) from None
        # (on any other error the chunks in flight are finished, in their turns, before the pool
        # closes: cancelling one would leave those after it waiting for its turn)
    return answered, failed


# ---------------------------------------------------------------- shared with one context


def answer_of(evaluate: Any, context: Any, engine: str) -> tuple[Answer | None, Failure | None]:
    """The answer to ``context``, or what stopped it."""
    try:
        return evaluate(context, engine=engine), None
    except ContextError as error:
        return None, error
    except NoPolicyError as error:
        return None, ContextError([ContextProblem("(context)", f"no policy: {error}")])
    except SpaceTooLarge as error:
        return None, ContextError([ContextProblem("(context)", f"cannot explain exactly: {error}")])


def describe(failure: Failure) -> str:
    """What went wrong, to follow ``file:line:`` (a JSON error adds its column)."""
    if isinstance(failure, JsonInputError):
        return f"{failure.column}: {failure.message}" + (f" ({failure.suggestion})" if failure.suggestion else "")
    problems = failure.problems
    if len(problems) == 1 and problems[0].field == "(context)" and problems[0].message.startswith("no policy"):
        return " " + problems[0].message
    return " bad context: " + "; ".join(p.render() for p in problems)


def _household_id(value: Any) -> str | int | None:
    household = value.get("household") if isinstance(value, dict) else None
    return read_id(household) if isinstance(household, dict) else None


def _utf8_bytes(out: TextIO) -> Any:
    """The byte stream under ``out`` when it writes UTF-8 (flushed first, so what was written as
    text stays before), else None."""
    buffer = getattr(out, "buffer", None)
    try:
        utf8 = codecs.lookup(getattr(out, "encoding", None) or "").name == "utf-8"
    except LookupError:  # pragma: no cover - an encoding Python does not know
        utf8 = False
    if buffer is None or not utf8:
        return None
    out.flush()
    return buffer


#: Encodings that can write every character: JSON goes out as written; elsewhere \uXXXX escapes.
_FULL_UNICODE = frozenset({"utf-8", "utf-16", "utf-32", "gb18030"})


def _ascii_only(out: TextIO) -> bool:
    try:
        return codecs.lookup(getattr(out, "encoding", None) or "utf-8").name not in _FULL_UNICODE
    except LookupError:  # pragma: no cover - an encoding Python does not know
        return True


_SHOWN = {True: "yes / 是", False: "no / 否", None: "unknown / 未知"}


def print_answer(answer: Determination | Explanation, as_json: bool, out: TextIO) -> None:
    """An answer or explanation as text, or as indented JSON (escaped where ``out`` cannot show
    every character)."""
    if as_json:
        json.dump(answer.to_dict(), out, ensure_ascii=_ascii_only(out), indent=2)
        out.write("\n")
        return
    if isinstance(answer, Explanation):
        out.write(answer.render())
        return
    meta = answer.policy
    source = "encounter.date" if answer.date_given else "the evaluation day"
    out.write(f"{meta.id}  {meta.document}  {meta.title}\n")
    out.write(f"date used: {answer.date_used} ({source})\n")
    if answer.id is not None:
        out.write(f"id: {answer.id}\n")
    if meta.inferred:
        out.write(f"inferred, not read in the text: {'; '.join(meta.inferred)}\n")
    for name, outcome in answer.outcomes.items():
        value = outcome.value
        shown = " → ".join(value) if isinstance(value, tuple) else _SHOWN[value]
        if outcome.target_ratio is not None:
            shown += f" (target ratio {outcome.target_ratio:.0%})"
        out.write(f"\n{name} ({OUTCOME_LABELS.get(name, '')}): {shown}\n")
        if outcome.rules:
            out.write(f"  rules: {', '.join(outcome.rules)}\n")
        for citation in outcome.citations:
            out.write(f"    {citation.document} {citation.clause}: “{citation.quote}”\n")
        if outcome.missing:
            out.write(f"  missing: {', '.join(outcome.missing)}\n")
        for gap in outcome.not_given:
            out.write(f"  not given: {gap}\n")
