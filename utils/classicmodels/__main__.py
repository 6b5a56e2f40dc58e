"""Command line: seed classicmodels from the generator or from a dump.

    python -m utils.classicmodels seed --sf 1
    python -m utils.classicmodels seed --dump path/to/mysqlsampledatabase.sql
    python -m utils.classicmodels truth
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
    seed_cmd.add_argument("--seed", type=int, default=None, help="random seed (default 42)")
    seed_cmd.add_argument("--database", default=None, help="target database (default: DELAB_DB_NAME)")
    seed_cmd.add_argument("--no-progress", action="store_true", help="never show a progress bar")
    truth_cmd = commands.add_parser("truth", help="print the ground-truth figures computed in MySQL")
    truth_cmd.add_argument("--database", default=None)
    args = parser.parse_args(argv)

    from utils.classicmodels.loader import LoadError

    try:
        if args.command == "seed":
            from utils.classicmodels.loader import load_dump, seed

            if args.dump:
                report = load_dump(args.dump, database=args.database)
            else:
                from utils.config import get_settings

                sf = args.sf if args.sf is not None else get_settings().scale_factor
                report = seed(sf, args.seed, args.database, progress=False if args.no_progress else None)
            print(report)
        else:
            from utils.classicmodels.truth import ground_truth

            truth = ground_truth(database=args.database)
            print(f"order lines:   {truth.order_lines:,}")
            print(f"total revenue: {truth.total_revenue:,}")
            for country, revenue in truth.revenue_by_country.items():
                print(f"  {country:<14} {revenue:>16,}")
    except (LoadError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
