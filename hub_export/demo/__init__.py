"""The built-in demo: a seeded full-size checkpoint taken through every command to dist/.

Run it as `python -m hub_export.demo` (see `run_demo.py`); `scripts/demo.sh` installs the
project first.
"""
