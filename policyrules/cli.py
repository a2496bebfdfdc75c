"""The command line: ``policyrules check``, ``evaluate``, ``test`` and ``compile``.

Exit codes: 0 with an answer (or a clean check), 2 on bad input, with a message that
names the file:line:column or the field; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from .determination import Determination
from .errors import ContextError, EngineUnavailableError, NoPolicyError, PolicyLoadError, Problem
from .loading import CatalogLibrary
from .policy import (
    DEFAULT_ENGINE,
    ENGINES,
    PolicySet,
    load_files,
    load_policies,
    load_policy,
)
from .vocabulary import OUTCOME_LABELS

__all__ = ["main"]

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except PolicyLoadError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    except EngineUnavailableError as error:
        print(f"the engine asked for cannot run here: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # pragma: no cover - `policyrules ... | head`
        return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="policyrules",
        description="Health-policy notices as cited, three-valued rule sets.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="check policy files or directories; list every problem")
    check.add_argument("paths", nargs="+", help="policy files (.yaml) or directories of them")
    check.set_defaults(run=_check)

    evaluate = commands.add_parser(
        "evaluate", help="evaluate a context (JSON) or contexts (JSON Lines, one per line)"
    )
    evaluate.add_argument("context", help="a .json file with one context, or .jsonl with one per line; - for stdin")
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--policy", help="one policy file")
    source.add_argument("--policies", help="a directory of policies (default: the shipped ones)")
    evaluate.add_argument("--json", action="store_true", help="print the CONTRACT's JSON answer")
    evaluate.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                          help="compiled (generated Python, the default), reference (the readable oracle) "
                               "or rete (durable_rules)")
    evaluate.set_defaults(run=_evaluate)

    compiled = commands.add_parser("compile", help="print the Python source a policy is compiled to")
    compiled.add_argument("policy", help="a policy file (.yaml)")
    compiled.set_defaults(run=_compile)

    test = commands.add_parser("test", help="run YAML test cases (default: the shipped policies' cases)")
    test.add_argument("paths", nargs="*", help="case files or folders (default: policies/cases)")
    test.add_argument("--policies", help="the policies the cases are for (default: the folder holding 'cases')")
    test.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    test.add_argument("--coverage", action="store_true",
                      help="list the rules no case exercises (and exit 1 if there is one)")
    test.set_defaults(run=_test)
    return parser


# ---------------------------------------------------------------- test


def _test(args: argparse.Namespace) -> int:
    from .cases import coverage, find_case_files, policies_dir_for, policy_for, read_case_file, run_cases
    from .shipped import shipped_policies_dir

    paths = [Path(p) for p in args.paths] or [shipped_policies_dir() / "cases"]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise PolicyLoadError([Problem(m, 1, 1, "找不到这个文件或文件夹。\nNo such file or directory.") for m in missing])
    files = find_case_files(paths)
    loaded: dict[Path, PolicySet] = {}
    total = failed = 0
    by_policy: dict[str, tuple[Any, list[Any]]] = {}
    for file in files:
        case_file = read_case_file(file)
        folder = Path(args.policies) if args.policies else policies_dir_for(file)
        if folder not in loaded:
            loaded[folder] = load_policies(folder)
        policy = policy_for(case_file, loaded[folder])
        failures = run_cases(case_file, policy, args.engine)
        total += len(case_file.cases)
        failed += len(failures)
        for failure in failures:
            print(failure.render())
        by_policy.setdefault(policy.id, (policy, []))[1].extend(case_file.cases)
    print(f"{total - failed} passed, {failed} failed")
    uncovered_count = 0
    if args.coverage:
        for policy_id, (policy, cases) in sorted(by_policy.items()):
            uncovered = coverage(policy, cases)
            uncovered_count += len(uncovered)
            rules = len(policy.model.rules)
            print(f"coverage {policy_id}: {rules - len(uncovered)} of {rules} rules exercised by {len(cases)} cases")
            for rule in uncovered:
                where = f"{rule.span}: " if rule.span else ""
                print(f"    not exercised: {where}{rule.id}")
    return 1 if failed or uncovered_count else 0


# ---------------------------------------------------------------- compile


def _compile(args: argparse.Namespace) -> int:
    if not Path(args.policy).is_file():
        raise PolicyLoadError([Problem(args.policy, 1, 1, "找不到这个文件。\nNo such file.")])
    print(load_policy(args.policy).engine("compiled").source)  # type: ignore[attr-defined]
    return EXIT_OK


# ---------------------------------------------------------------- check


def _check(args: argparse.Namespace) -> int:
    files: list[Path] = []
    problems: list[Problem] = []
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.yaml") if p.is_file())
            if not found:
                problems.append(Problem(name, 1, 1, "文件夹里没有 .yaml 文件。\nNo .yaml policy files in this directory."))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            problems.append(Problem(name, 1, 1, "找不到这个文件或文件夹。\nNo such file or directory."))
    policies = None
    library = _library(files)
    if files:
        try:
            policies = load_files(files, library)
        except PolicyLoadError as error:
            problems.extend(error.problems)
    # Shared catalogs beside the policies are checked even when no policy includes them.
    for folder in dict.fromkeys(f.parent / "catalogs" for f in files):
        for catalog in sorted(folder.glob("*.yaml")):
            library.get(catalog.stem)
    problems.extend(p for p in library.problems if p not in problems)
    if problems:
        raise PolicyLoadError(problems)
    assert policies is not None
    for policy in policies:
        meta = policy.model.meta
        print(f"ok  {policy.model.path}: {meta.id} {meta.document}, {len(policy.model.rules)} rules, "
              f"outcomes: {', '.join(policy.model.outcomes())}")
    catalogs = [name for name in library.names() if library.get(name) is not None]
    print(f"{len(policies)} policies, {len(catalogs)} shared catalogs, no problems / 没有发现问题")
    return EXIT_OK


def _library(files: Sequence[Path]) -> CatalogLibrary:
    return CatalogLibrary.beside([f.parent / "catalogs" for f in files])


# ---------------------------------------------------------------- evaluate


def _evaluate(args: argparse.Namespace) -> int:
    if args.policy:
        single = load_policy(args.policy)
        evaluate = single.evaluate
    else:
        policies: PolicySet = load_policies(args.policies)
        evaluate = policies.evaluate
    try:
        text = sys.stdin.read() if args.context == "-" else Path(args.context).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"{args.context}: cannot read the context: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    lines = args.context.endswith(".jsonl") or (args.context == "-" and _looks_like_lines(text))
    if not lines:
        context, error_text = _parse(text, args.context)
        if error_text:
            print(error_text, file=sys.stderr)
            return EXIT_BAD_INPUT
        answer, error_text = _answer(evaluate, context, args.engine)
        if error_text:
            print(f"{args.context}: {error_text}", file=sys.stderr)
            return EXIT_BAD_INPUT
        assert answer is not None
        _print(answer, args.json, sys.stdout)
        return EXIT_OK
    status = EXIT_OK
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        context, error_text = _parse(line, f"{args.context}:{number}")
        answer = None
        if not error_text:
            answer, error_text = _answer(evaluate, context, args.engine)
            if error_text:
                error_text = f"{args.context}:{number}: {error_text}"
        if error_text:
            status = EXIT_BAD_INPUT
            print(error_text, file=sys.stderr)
            if args.json:
                print(json.dumps({"line": number, "error": error_text}, ensure_ascii=False))
            continue
        assert answer is not None
        if args.json:
            print(json.dumps({"line": number} | answer.to_dict(), ensure_ascii=False))
        else:
            print(f"--- line {number}")
            _print(answer, False, sys.stdout)
    return status


def _looks_like_lines(text: str) -> bool:
    rows = [row for row in text.splitlines() if row.strip()]
    return len(rows) > 1 and all(row.lstrip().startswith("{") and row.rstrip().endswith("}") for row in rows)


def _parse(text: str, where: str) -> tuple[Any, str]:
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as error:
        return None, f"{where}:{error.lineno}:{error.colno}: not valid JSON: {error.msg}"


def _answer(evaluate: Any, context: Any, engine: str) -> tuple[Determination | None, str]:
    try:
        return evaluate(context, engine=engine), ""
    except ContextError as error:
        return None, "bad context: " + "; ".join(p.render() for p in error.problems)
    except NoPolicyError as error:
        return None, f"no policy: {error}"


def _print(answer: Determination, as_json: bool, out: TextIO) -> None:
    if as_json:
        json.dump(answer.to_dict(), out, ensure_ascii=False, indent=2)
        out.write("\n")
        return
    meta = answer.policy
    source = "encounter.date" if answer.date_given else "the evaluation day"
    out.write(f"{meta.id}  {meta.document}  {meta.title}\n")
    out.write(f"date used: {answer.date_used} ({source})\n")
    if meta.inferred:
        out.write(f"inferred, not read in the text: {'; '.join(meta.inferred)}\n")
    for name, outcome in answer.outcomes.items():
        value = outcome.value
        shown = (
            "unknown" if value is None
            else "yes" if value is True
            else "no" if value is False
            else " → ".join(value)
        )
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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
