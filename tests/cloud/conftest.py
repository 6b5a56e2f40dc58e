"""The ``local_cloud`` fixture lives in tests/conftest.py (shared with the end-to-end tests)."""
