"""The commands about a change of the rules: ``policyrules diff``, ``analyze`` and ``impact``
(docs/diff.md), added to the parser by `policyrules.cli`. Exit codes as there: 0 no change (no
finding), 1 changes (findings), 2 bad input."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .errors import PolicyLoadError, Problem
from .policy import Policy, load_policies, load_policy
from .space import SpaceTooLarge

__all__ = ["add_change_commands"]

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_change_commands(commands: Any) -> None:
    """Add ``diff``, ``analyze`` and ``impact`` to the subparsers ``commands``."""
    diff = commands.add_parser(
        "diff", help="every class of contexts whose answer changes between two versions of a policy (docs/diff.md)")
    diff.add_argument("old", help="the policy as it was (.yaml); with --against, the policy file as it is now")
    diff.add_argument("new", nargs="?", help="the policy as it is to be (.yaml)")
    diff.add_argument("--against", metavar="REV",
                      help="compare the file as it was at git revision REV (OLD) with the file as it is (NEW)")
    diff.add_argument("--json", action="store_true", help="print the diff's JSON (docs/diff.md)")
    diff.add_argument("--cases", metavar="DIR", help="write the witnesses as YAML test cases for NEW into DIR")
    diff.set_defaults(run=_diff)

    analyze = commands.add_parser(
        "analyze", help="rules that never fire or are redundant, gaps, silent groups, holes between periods")
    analyze.add_argument("path", help="a policy file (.yaml), or a folder of them")
    analyze.add_argument("--json", action="store_true", help="print the findings as JSON")
    analyze.set_defaults(run=_analyze)

    impact = commands.add_parser(
        "impact", help="two versions of a policy over a roster (DuckDB): transitions per outcome, changed rows")
    impact.add_argument("old", help="the policy as it was (.yaml)")
    impact.add_argument("new", help="the policy as it is to be (.yaml), evaluated as if in force where OLD is")
    impact.add_argument("roster", help="the roster: .parquet, .csv or .jsonl (docs/roster.md)")
    impact.add_argument("-o", "--output", help="write the changed answers here: .parquet, .csv or .jsonl")
    impact.add_argument("--report", metavar="HTML",
                        help="write a self-contained page drawing the transitions and the diff's classes (needs jinja2)")
    impact.set_defaults(run=_impact)



# ---------------------------------------------------------------- diff


def _diff(args: argparse.Namespace) -> int:
    from .diff import cases_yaml, diff_policies

    if (args.against is None) == (args.new is None):
        print("policyrules diff: give OLD and NEW, or one POLICY and --against REV", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.against is not None:
        new = load_policy(args.old)
        old = _at_revision(Path(args.old), args.against)
        if old is None:
            return EXIT_BAD_INPUT
    else:
        old, new = load_policy(args.old), load_policy(args.new)
    try:
        result = diff_policies(old, new)
    except SpaceTooLarge as error:
        print(f"policyrules diff: too many classes to enumerate: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.cases and not result.equal:
        folder = Path(args.cases)
        target = folder / f"diff_{new.id}.yaml"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(cases_yaml(result), "utf-8")
        except OSError as error:
            print(f"{target}: cannot write: {error.strerror or error}", file=sys.stderr)
            return EXIT_BAD_INPUT
        print(f"wrote {target}", file=sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(result.render())
    return EXIT_OK if result.equal else 1


def _analyze(args: argparse.Namespace) -> int:
    from .analyze import analyze_policies, render

    path = Path(args.path)
    if not path.exists():
        raise PolicyLoadError([Problem(str(path), 1, 1, "找不到这个文件或文件夹。\nNo such file or directory.")])
    policies = list(load_policies(path)) if path.is_dir() else [load_policy(path)]
    if not policies:
        raise PolicyLoadError([Problem(str(path), 1, 1, "文件夹里没有 .yaml 文件。\nNo .yaml policy files in this directory.")])
    try:
        findings = analyze_policies(policies)
    except SpaceTooLarge as error:
        print(f"policyrules analyze: too many classes to enumerate: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.json:
        print(json.dumps({"findings": [f.to_dict() for f in findings]}, ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(render(findings))
    return 1 if any(not f.accepted for f in findings) else EXIT_OK


def _at_revision(path: Path, revision: str) -> Policy | None:
    """The policy file as it was at git ``revision``, loaded next to the file's own catalogs
    and sources (None, said on stderr, when git cannot give it)."""
    import subprocess
    import tempfile

    folder = path.resolve().parent
    try:
        top = subprocess.run(["git", "-C", str(folder), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=True).stdout.strip()
        relative = path.resolve().relative_to(Path(top).resolve()).as_posix()
        text = subprocess.run(["git", "-C", top, "show", f"{revision}:{relative}"], capture_output=True,
                              check=True).stdout
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        said = (error.stderr.decode("utf-8", "replace") if isinstance(error.stderr, bytes) else error.stderr).strip() \
            if isinstance(error, subprocess.CalledProcessError) else str(error)
        print(f"{path}: cannot read it at revision {revision}: {said}", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix="policyrules-diff-") as temporary:
        here = Path(temporary)
        for shared in ("catalogs", "sources"):
            if (folder / shared).is_dir():
                (here / shared).symlink_to(folder / shared)
        (here / path.name).write_bytes(text)
        return load_policy(here / path.name)


def _impact(args: argparse.Namespace) -> int:
    try:
        from .impact import roster_impact, write_changed
        from .sql.run import run_roster  # noqa: F401  (the roster extra is there)
    except ImportError:
        from .sql import MISSING_EXTRA

        print(MISSING_EXTRA, file=sys.stderr)
        return EXIT_BAD_INPUT
    from .errors import RosterError

    out = Path(args.output) if args.output else None
    if out is not None and out.suffix.lower() not in (".parquet", ".csv", ".jsonl"):
        print(f"{out}: the changed rows are written as .parquet, .csv or .jsonl", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = Path(args.report) if args.report else None
    if report is not None:
        try:
            import jinja2  # noqa: F401
        except ImportError:
            print("--report needs jinja2: pip install 'policyrules[review]'", file=sys.stderr)
            return EXIT_BAD_INPUT
    roster = Path(args.roster)
    if not roster.is_file():
        print(f"{roster}: no such roster file", file=sys.stderr)
        return EXIT_BAD_INPUT
    old, new = load_policy(args.old), load_policy(args.new)
    bar = _progress_bar(roster)
    try:
        result = roster_impact(old, new, roster, progress=None if bar is None else bar.update)
    except RosterError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if bar is not None:
            bar.close()
    if out is not None:
        try:
            write_changed(result, out)
        except OSError as error:
            print(f"{out}: cannot write: {error.strerror or error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    if report is not None:
        from .review.impact_page import render_impact

        try:
            report.write_text(render_impact(result), "utf-8")
        except OSError as error:
            print(f"{report}: cannot write: {error.strerror or error}", file=sys.stderr)
            return EXIT_BAD_INPUT
    sys.stdout.write(result.render())
    return 1 if result.changed.num_rows else EXIT_OK




def _progress_bar(roster: Path) -> Any:
    """A tqdm bar on stderr when it is a terminal (as `policyrules roster` has), else None; its
    total is the row count of a Parquet roster (read from the footer), unknown otherwise."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    total = None
    if roster.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            total = pq.ParquetFile(roster).metadata.num_rows
        except (OSError, ValueError):
            total = None  # the roster's reading names the problem
    return tqdm(total=total, unit=" rows", unit_scale=True, file=sys.stderr, desc=roster.name)
