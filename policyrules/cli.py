"""The command line: ``policyrules check``, ``evaluate``, ``explain``, ``test``, ``render``, ``roster``, ``sql``,
``compile``, ``diff``, ``analyze``, ``impact`` and ``serve``.

Exit codes: 0 with an answer (or a check with no error: warnings are printed; for JSON Lines,
every line answered; for ``diff``, the two agree everywhere; for ``analyze``, no finding the policy does not accept; for ``impact``, no answer changes), 1 when some JSON Lines are not answered (each written in place as an
unanswered object, CONTRACT "Shapes") or for ``check --strict`` with a warning, 2 on bad input
that cannot be read at all, with a message that names the file:line:column or the field; never a
traceback.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import EngineUnavailableError, PolicyLoadError, PolicyRulesError, Problem
from .evaluate_cli import evaluate_command
from .loading import CatalogLibrary
from .policy import DEFAULT_ENGINE, ENGINES, PolicySet, load_files, load_policies, load_policy
from .changes_cli import add_change_commands
from .roster_cli import add_roster_commands

__all__ = ["main"]

EXIT_OK, EXIT_SOME_UNANSWERED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_WARNINGS = 1  # check --strict


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):
        # a terminal that cannot show 中文 (PYTHONIOENCODING=ascii, a legacy code page) gets
        # \u escapes rather than a UnicodeEncodeError
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="backslashreplace")
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
    except PolicyRulesError as error:  # an engine that failed (ReteError, EngineDisagreement): no answer
        print(f"policyrules: no answer is given: {type(error).__name__}: {error}", file=sys.stderr)
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
    check.add_argument("--strict", action="store_true", help="exit 1 when there is a warning")
    check.set_defaults(run=_check)

    evaluate = commands.add_parser(
        "evaluate", help="evaluate a context (JSON) or contexts (JSON Lines, one per line)"
    )
    evaluate.add_argument("context", nargs="?",
                          help="a .json file with one context, or .jsonl/.ndjson with one per line; "
                               "- (or none) for JSON Lines on standard input")
    source = evaluate.add_mutually_exclusive_group()
    source.add_argument("--policy", help="one policy file")
    source.add_argument("--policies", help="a directory of policies (default: the shipped ones)")
    evaluate.add_argument("--json", action="store_true", help="print the CONTRACT's JSON answer")
    evaluate.add_argument("--values", action="store_true",
                          help="print one compact values line per context (CONTRACT 'Shapes')")
    evaluate.add_argument("--households", action="store_true",
                          help="the input is JSON Lines of households, each answered whole (docs/contract.md 'Households')")
    evaluate.add_argument("--jsonl", action="store_true",
                          help="read the context file (or standard input) as JSON Lines")
    evaluate.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                          help="compiled (generated Python, the default), reference (the readable oracle) "
                               "or rete (durable_rules)")
    evaluate.add_argument("--workers", type=int, default=None,
                          help="processes answering a JSON Lines file (default: every core for a file of "
                               "more than 512 KB, else 1; 1 for standard input)")
    evaluate.set_defaults(run=evaluate_command)

    explain = commands.add_parser(
        "explain", help="explain a context's answer: each rule and condition, what would make it yes, what to ask"
    )
    explain.add_argument("context", help="a .json file with one context, or .jsonl with one per line; - for stdin")
    source = explain.add_mutually_exclusive_group()
    source.add_argument("--policy", help="one policy file")
    source.add_argument("--policies", help="a directory of policies (default: the shipped ones)")
    explain.add_argument("--json", action="store_true", help="print the explanation's JSON (docs/contract.md)")
    explain.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    explain.set_defaults(run=evaluate_command, explaining=True, values=False, households=False, jsonl=False,
                         workers=1)

    test = commands.add_parser("test", help="run YAML test cases (default: ./policies/cases, else the shipped ones)")
    test.add_argument("paths", nargs="*",
                      help="case files or folders (default: policies/cases of the current folder when there "
                           "is one, else the shipped cases)")
    test.add_argument("--policies", help="the policies the cases are for (default: the folder holding 'cases')")
    test.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    test.add_argument("--coverage", action="store_true",
                      help="list the rules no case exercises, and the list members, age-bound sides and group "
                           "statuses no case exercises alone (exit 1 if there is one)")
    test.set_defaults(run=_test)

    compiled = commands.add_parser("compile", help="print the Python source a policy is compiled to")
    compiled.add_argument("policy", help="a policy file (.yaml)")
    compiled.set_defaults(run=_compile)

    render = commands.add_parser(
        "render", help="write the review page of a policy (or an index and a page per policy of a folder)"
    )
    render.add_argument("path", help="a policy file (.yaml), or a folder of them")
    render.add_argument("-o", "--output", required=True,
                        help="the page to write (for a file), or the folder to write the site into (for a folder)")
    render.set_defaults(run=_render)

    add_roster_commands(commands)
    add_change_commands(commands)
    serve = commands.add_parser("serve", help="answer over HTTP (docs/http.md; the serve extra)")
    serve.add_argument("--policies", help="a directory of policies (default: the shipped ones)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="the port (0: a free one, printed first)")
    serve.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    serve.add_argument("--max-body", type=int, default=10 * 2**20, help="the largest body taken, in bytes")
    serve.add_argument("--enable-reload-endpoint", action="store_true", help="answer POST /admin/reload")
    serve.set_defaults(run=_serve)

    return parser


# ---------------------------------------------------------------- render


def _render(args: argparse.Namespace) -> int:
    try:
        from .review import render_policy, render_site
    except ModuleNotFoundError as error:
        if error.name not in ("jinja2", "markupsafe"):
            raise
        print('policyrules render needs jinja2: pip install "policyrules[review]"', file=sys.stderr)
        return EXIT_BAD_INPUT
    from .review.view import cases_for

    path, out = Path(args.path), Path(args.output)
    if not path.exists():
        raise PolicyLoadError([Problem(str(path), 1, 1, "找不到这个文件或文件夹。\nNo such file or directory.")])
    folder = path if path.is_dir() else path.parent
    policies = list(load_policies(folder)) if path.is_dir() else [load_policy(path)]
    if not policies:
        raise PolicyLoadError([Problem(str(path), 1, 1, "文件夹里没有 .yaml 文件。\nNo .yaml policy files in this directory.")])
    cases = cases_for(policies, folder)
    try:
        if path.is_dir():
            written = render_site(policies, cases, out)
        else:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(render_policy(policies[0], cases.get(policies[0].id, ())), "utf-8")
            written = [out]
    except OSError as error:
        print(f"{out}: cannot write: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for page in written:
        print(f"wrote {page}")
    return EXIT_OK


# ---------------------------------------------------------------- serve


def _serve(args: argparse.Namespace) -> int:
    try:
        from .service.serve import run
    except ImportError as error:
        print(f"policyrules serve needs the serve extra ({error.name} is missing): "
              "pip install 'policyrules[serve]'", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.workers < 1 or args.max_body < 1 or not 0 <= args.port <= 65535:
        print("--workers and --max-body must be at least 1, --port from 0 to 65535", file=sys.stderr)
        return EXIT_BAD_INPUT
    return run(args.policies, args.host, args.port, args.workers, args.max_body, args.enable_reload_endpoint)


# ---------------------------------------------------------------- roster and sql


# ---------------------------------------------------------------- test


def _test(args: argparse.Namespace) -> int:
    from .cases import coverage, find_case_files, policies_dir_for, policy_for, read_case_file, run_cases
    from .coverage import required_coverage
    from .shipped import shipped_policies_dir

    paths = [Path(p) for p in args.paths]
    if not paths:
        # The current folder's cases first: policy staff test the copy they edit, not the shipped one.
        here = Path("policies") / "cases"
        if here.is_dir():
            paths = [here]
            print(f"测试当前文件夹的用例：{here}/\ntesting the cases of this folder: {here}/")
        else:
            paths = [shipped_policies_dir() / "cases"]
            print(f"当前文件夹没有 policies/cases，测试随包附带的用例：{paths[0]}\n"
                  f"no policies/cases here: testing the shipped cases, {paths[0]}")
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
            report = required_coverage(policy, cases)
            uncovered_count += len(uncovered) + len(report.unexercised)
            rules = len(policy.model.rules)
            print(f"coverage {policy_id}: {rules - len(uncovered)} of {rules} rules exercised by {len(cases)} cases")
            for rule in uncovered:
                where = f"{rule.span}: " if rule.span else ""
                print(f"    not exercised: {where}{rule.id}")
            required = len(report.required)
            print(f"    {required - len(report.unexercised)} of {required} list members, age-bound sides and "
                  f"group statuses exercised alone; catalog entries exercised: "
                  f"{report.entries_exercised} of {report.entries_total}")
            for requirement in report.unexercised:
                print(f"    not exercised alone: {requirement.render()}")
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
    warnings = [w for policy in policies for w in policy.warnings]
    for policy in policies:
        meta = policy.model.meta
        print(f"ok  {policy.model.path}: {meta.id} {meta.document}, {len(policy.model.rules)} rules, "
              f"outcomes: {', '.join(policy.model.outcomes())}")
    for warning in warnings:
        print(warning.render())
    catalogs = [name for name in library.names() if library.get(name) is not None]
    if warnings:
        count = len(warnings)
        print(f"{len(policies)} policies, {len(catalogs)} shared catalogs, no problems, "
              f"{count} warning{'s' if count != 1 else ''}\n没有发现错误，有 {count} 条警告")
        return EXIT_WARNINGS if args.strict else EXIT_OK
    print(f"{len(policies)} policies, {len(catalogs)} shared catalogs, no problems\n没有发现问题")
    return EXIT_OK


def _library(files: Sequence[Path]) -> CatalogLibrary:
    return CatalogLibrary.beside([f.parent / "catalogs" for f in files])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
