"""The lab's source system: the classicmodels retail database.

- :mod:`~utils.classicmodels.schema` - the DDL (``schema.sql``) as data;
- :mod:`~utils.classicmodels.generator` - seeded data at any scale factor;
- :mod:`~utils.classicmodels.loader` - atomic loads of generated data or dumps;
- :mod:`~utils.classicmodels.truth` - ground-truth figures computed in MySQL.

Command line: ``python -m utils.classicmodels seed --sf 1`` or
``python -m utils.classicmodels seed --dump mysqlsampledatabase.sql``.
"""

from utils.classicmodels.generator import generate, rows_for
from utils.classicmodels.loader import (
    IncompatibleDumpError,
    LoadError,
    LoadReport,
    load_dump,
    load_tables,
    seed,
)
from utils.classicmodels.schema import TABLES
from utils.classicmodels.truth import Truth, ground_truth

__all__ = [
    "TABLES", "IncompatibleDumpError", "LoadError", "LoadReport", "Truth", "generate",
    "ground_truth", "load_dump", "load_tables", "rows_for", "seed",
]
