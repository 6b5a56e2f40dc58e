"""Command line: seed classicmodels from the generator or from a dump; roll a load back.

    python -m utils.classicmodels seed --sf 1
    python -m utils.classicmodels seed --dump path/to/mysqlsampledatabase.sql [--force]
    python -m utils.classicmodels rollback
    python -m utils.classicmodels truth

Every load keeps the data it replaces as ``<db>_previous``; ``rollback`` swaps it back
(run it again to undo the rollback). Failures end in one line saying what to do.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the command, print what happened; return an exit code."""
    parser = argparse.ArgumentParser(prog="python -m utils.classicmodels", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    seed_cmd = commands.add_parser("seed", help="replace the classicmodels data (atomically)")
    source = seed_cmd.add_mutually_exclusive_group()
    source.add_argument("--sf", type=float, default=None,
                        help="scale factor of generated data (default: DELAB_SF, else 1)")
    source.add_argument("--dump", help="a classicmodels-compatible MySQL dump file to load instead")
    seed_cmd.add_argument("--force", action="store_true",
                          help="load a dump that looks cut short or breaks integrity anyway")
    seed_cmd.add_argument("--seed", type=int, default=None, help="random seed (default 42)")
    seed_cmd.add_argument("--database", default=None, help="target database (default: DELAB_DB_NAME)")
    seed_cmd.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    rollback_cmd = commands.add_parser("rollback", help="put back the data the last load replaced")
    rollback_cmd.add_argument("--database", default=None)
    truth_cmd = commands.add_parser("truth", help="print the ground-truth figures computed in MySQL")
    truth_cmd.add_argument("--database", default=None)
    args = parser.parse_args(argv)

    import pymysql

    from utils.classicmodels.loader import LoadError
    from utils.services.mariadb import MariaDBError

    try:
        if args.command == "seed":
            from utils.classicmodels.loader import load_dump, seed

            if args.dump:
                report = load_dump(args.dump, database=args.database, force=args.force)
            else:
                from utils.config import get_settings

                sf = args.sf if args.sf is not None else get_settings().scale_factor
                report = seed(sf, args.seed, args.database, progress=False if args.no_progress else None)
            print(report)
        elif args.command == "rollback":
            from utils.classicmodels.loader import rollback

            print(rollback(database=args.database))
        else:
            from utils.classicmodels.truth import ground_truth

            truth = ground_truth(database=args.database)
            print(f"order lines:   {truth.order_lines:,}")
            print(f"total revenue: {truth.total_revenue:,}")
            for country, revenue in truth.revenue_by_country.items():
                print(f"  {country:<14} {revenue:>16,}")
    except (LoadError, MariaDBError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except pymysql.MySQLError as exc:  # outside a load (truth): still one line, no traceback
        print(f"error: MariaDB: {exc.args[-1] if exc.args else exc}. `make status` shows whether it "
              "runs; `make up` starts it.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted. A load replaces the live tables only in its last step, atomically "
              "(the replaced data is kept for `rollback`); `truth` shows what is there.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
