"""The project's one error type, so callers can tell our clear failures from bugs."""


class HubExportError(Exception):
  """A problem with the user's input or environment, explained in one line."""


def first_line(error: BaseException) -> str:
  """The telling line of a library exception's message, to quote as the cause in one line.

  That is the first line, except for errors raised while TensorFlow traces a function,
  whose message starts "in user code:" and ends with the actual error, and for a failed
  assertion inside a graph, whose message starts "Graph execution error:" and names the
  failure on its "assertion failed:" line.
  """
  lines = [line.strip() for line in (getattr(error, "message", None) or str(error)).splitlines() if line.strip()]
  if not lines:
    return type(error).__name__
  if lines[0] == "in user code:":
    return lines[-1]
  if lines[0].startswith("Graph execution error"):
    return next((line for line in lines if line.startswith("assertion failed:")), lines[-1])
  return lines[0]
