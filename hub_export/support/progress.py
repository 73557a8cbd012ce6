"""Progress of long work: a tqdm bar on a terminal, otherwise a log line every LOG_INTERVAL_S seconds.

Either way a report says what is done of the total, the rate and the time left, so a run whose
output goes to a file or a job scheduler's log is not silent for minutes. Off a terminal, work
done within LOG_INTERVAL_S logs nothing.
"""

import sys

from tqdm import tqdm

from hub_export.support.log import LOG, STDERR_IS_TERMINAL

LOG_INTERVAL_S = 30.0  # between two log lines when stderr is not a terminal
_LOG_LINE = "{desc}: {n_fmt}/{total_fmt} {unit}s ({percentage:.0f}%), {rate_fmt}, ETA {remaining}"


class _LogLines:
  """A file for tqdm that logs each of its reports as one line."""

  def write(self, text: str) -> None:
    line = text.strip()
    if line:
      LOG.info("%s", line)

  def flush(self) -> None:
    pass


def progress(total: int, desc: str, unit: str = "step", initial: int = 0) -> tqdm:
  """A counter of `total` units (`update(n)` as they are done, `close()` at the end) that reports itself."""
  if STDERR_IS_TERMINAL:
    return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=sys.stderr, dynamic_ncols=True)
  return tqdm(total=total, desc=desc, unit=unit, initial=initial, file=_LogLines(), bar_format=_LOG_LINE,
              delay=LOG_INTERVAL_S, mininterval=LOG_INTERVAL_S, maxinterval=max(LOG_INTERVAL_S, 1.0))
