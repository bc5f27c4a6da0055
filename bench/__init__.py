"""Strongroom benchmarks: ``make bench`` (= ``.venv/bin/python -m bench``) from the repo root.

Each figure is Strongroom next to a plain baseline measured in the same run; see
bench/runner.py for the result format and the modules for what each side does.
"""
