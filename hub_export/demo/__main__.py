"""`python -m hub_export.demo` runs the demo (see run_demo.py)."""

from hub_export.demo.run_demo import main

main()
