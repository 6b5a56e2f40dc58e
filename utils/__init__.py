"""delab: the shared package behind the Introduction to Data Engineering notebooks."""

__version__ = "0.1.0"
