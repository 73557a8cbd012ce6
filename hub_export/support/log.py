"""The package's one logger, and the timing line of a long step."""

import contextlib
import logging
import sys
import time

LOG = logging.getLogger("hub_export")
# Read at import, before cli.run() routes descriptor 2 through its filter, which is a pipe.
STDERR_IS_TERMINAL = sys.stderr is not None and sys.stderr.isatty()


@contextlib.contextmanager
def step(name: str):
  """Logs how long a long step (restore, trace, save, verify, package) took."""
  start = time.perf_counter()
  LOG.info("%s ...", name)
  yield
  LOG.info("%s done in %.1f s", name, time.perf_counter() - start)
