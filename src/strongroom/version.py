"""The package's version, importable by any module without importing the package's
public API (``strongroom/__init__.py`` imports bootstrap, which imports nearly all)."""

__version__ = "0.1.0"  # also in pyproject.toml
