"""The commands of rosters and SQL: ``policyrules roster`` (on DuckDB or Spark, docs/roster.md) and
``policyrules sql``, added to the parser by `policyrules.cli`. The roster extras (duckdb, pyarrow,
sqlglot; pyspark for Spark) are imported only when a command runs: without them the command says
in one line what to install. Exit codes as the JSON Lines path: 0 every row answered, 1 some
skipped, 2 bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .policy import load_policies, load_policy

__all__ = ["add_roster_commands"]

EXIT_OK, EXIT_BAD_INPUT = 0, 2


def add_roster_commands(commands: Any) -> None:
    """Add ``roster`` and ``sql`` to the subparsers ``commands``."""
    roster = commands.add_parser(
        "roster", help="answer a whole roster (.parquet, .csv, .jsonl) on embedded DuckDB (docs/roster.md)")
    roster.add_argument("roster", nargs="?", help="the roster: .parquet, .csv (one column per dotted field) or .jsonl")
    roster.add_argument("-o", "--output", help="the answers: .parquet, .csv or .jsonl (Spark: a folder ending in /)")
    roster.add_argument("--policies", help="a directory of policies (default: the shipped ones)")
    roster.add_argument("--values", action="store_true", help="only the values, not rules, missing, not_given")
    roster.add_argument("--households", help="a household table (household.id, household.statuses) joined to the "
                                             "roster's members by household.id (docs/roster.md)")
    roster.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="where the SQL runs: embedded DuckDB (default) or Spark (the spark extra; docs/roster.md)")
    roster.add_argument("--spark-master", metavar="URL",
                        help="with --engine spark: the cluster's master (default local[*]; SPARK_REMOTE for Spark Connect)")
    roster.add_argument("--out-table", metavar="NAME", help="with --engine spark: save the answers as this catalog table")
    roster.add_argument("--table", metavar="NAME", help="with --engine spark: read the roster from this catalog table")
    roster.set_defaults(run=_roster)

    sql = commands.add_parser("sql", help="print a policy compiled to SQL")
    sql.add_argument("policy", help="one policy file (.yaml)")
    sql.add_argument("--dialect", default="duckdb", help="any dialect sqlglot knows (default: duckdb; spark, ...)")
    sql.set_defaults(run=_sql)


def _roster(args: argparse.Namespace) -> int:
    try:
        from .sql.run import run_roster
    except ImportError:
        from .sql import MISSING_EXTRA

        print(MISSING_EXTRA, file=sys.stderr)
        return EXIT_BAD_INPUT
    from .errors import RosterError

    policies = load_policies(args.policies)
    households = Path(args.households) if args.households else None
    if (args.spark_master or args.out_table or args.table) and args.engine != "spark":
        print("--spark-master, --table and --out-table are for --engine spark", file=sys.stderr)
        return EXIT_BAD_INPUT
    if (args.output is None) == (args.out_table is None) or (args.roster is None) == (args.table is None):
        print("give the roster one place (ROSTER or --table) and the answers one (-o OUT or --out-table)",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.engine == "spark":
            try:
                from .sql.spark import run_spark_roster
            except ImportError:
                from .sql import MISSING_SPARK

                print(MISSING_SPARK, file=sys.stderr)
                return EXIT_BAD_INPUT
            summary = run_spark_roster(policies, Path(args.roster) if args.roster else None, args.output,
                                       values=args.values, households=households, master=args.spark_master,
                                       out_table=args.out_table, table=args.table)
        else:
            summary = run_roster(policies, Path(args.roster), Path(args.output), values=args.values,
                                 households=households)
    except RosterError as error:
        print(str(error), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(summary.render())
    return 1 if summary.skipped else EXIT_OK


def _sql(args: argparse.Namespace) -> int:
    try:
        from sqlglot.dialects import Dialect

        from .sql.compiler import policy_sql
    except ImportError:
        from .sql import MISSING_EXTRA

        print(MISSING_EXTRA, file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        Dialect.get_or_raise(args.dialect)
    except ValueError as error:
        print(f"--dialect: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(policy_sql(load_policy(args.policy).model, args.dialect))
    return EXIT_OK
