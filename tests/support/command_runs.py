"""A command's `main` run in the test's process, as a user runs the command: its exit status and last stderr line."""

import pytest


def run_main(capsys, main, *args) -> tuple:
  """(exit status, the last line written to stderr, or "") of `main([str(a) for a in args])`."""
  with pytest.raises(SystemExit) as exit_info:
    main([str(a) for a in args])
  err = capsys.readouterr().err.strip().splitlines()
  return exit_info.value.code, err[-1] if err else ""
