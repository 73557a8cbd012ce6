"""The project's one error type, so callers can tell our clear failures from bugs."""


class HubExportError(Exception):
  """A problem with the user's input or environment, explained in one line."""
