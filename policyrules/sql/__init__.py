"""The SQL target (issue 16): each policy compiled to sqlglot expression trees and answered
on embedded DuckDB, a whole roster at a time.

- `compiler`: model -> one sqlglot expression per rule (and per outcome value), Kleene logic as
  SQL's NULL logic; `policy_sql` prints it in any dialect sqlglot knows.
- `answers`: the per-call answer of each outcome (rules, missing, not_given) from the truth of
  every condition node, exactly as the reference engine derives it.
- `roster`: reading rosters (Parquet, CSV, JSON Lines) in record batches, validating them per
  distinct value, running them on DuckDB, writing the answers.
- `spark`: the same run on Spark (the ``spark`` extra): local mode, a cluster, Spark Connect.

Needs the ``roster`` extra (duckdb, pyarrow, sqlglot, tqdm); ``import policyrules`` never imports
this package.
"""

from __future__ import annotations

__all__ = ["MISSING_EXTRA", "MISSING_SPARK"]

#: What to install when the extra is missing (the CLI prints it in one line).
MISSING_EXTRA = "rosters need the roster extra: pip install 'policyrules[roster]' (duckdb, pyarrow, sqlglot, tqdm)"
#: What to install for ``--engine spark`` (docs/roster.md, "On a Spark cluster").
MISSING_SPARK = "--engine spark needs the spark extra: pip install 'policyrules[spark]' (pyspark 4; Java 17)"
