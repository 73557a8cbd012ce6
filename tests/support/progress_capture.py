"""The progress reports a run logs off a terminal, captured with every update reported."""

import contextlib
import logging
import re

import pytest

# "DESC: DONE/TOTAL UNITs (P%), RATE UNIT/s (or s/UNIT when slower), ETA MM:SS"; the first report, before a
# rate is known, has "?" in their place.
REPORT = re.compile(r"^(?P<desc>.+): (?P<done>\d+)/(?P<total>\d+) \w+ \(\d+%\), +(?P<rate>\d+\.\d+(\w+/s|s/\w+)), "
                    r"ETA (?P<eta>\d\d:\d\d)$")


@contextlib.contextmanager
def every_update_reported():
  """Yields the list that the hub_export log lines of the block are appended to; no interval between reports."""
  from hub_export.support import progress

  lines = []
  handler = logging.Handler(logging.INFO)
  handler.emit = lambda record: lines.append(record.getMessage())
  logger = logging.getLogger("hub_export")
  level = logger.level
  with pytest.MonkeyPatch.context() as patch:
    patch.setattr(progress, "STDERR_IS_TERMINAL", False)
    patch.setattr(progress, "LOG_INTERVAL_S", 0.0)
    logger.setLevel(logging.INFO)  # (not setattr: the logger caches what its level lets through)
    logger.addHandler(handler)
    try:
      yield lines
    finally:
      logger.removeHandler(handler)
      logger.setLevel(level)


def reports(lines) -> dict:
  """desc -> the (done, total) of each report with a rate and an ETA, in order."""
  found = {}
  for match in filter(None, map(REPORT.match, lines)):
    found.setdefault(match["desc"], []).append((int(match["done"]), int(match["total"])))
  return found
