"""Credentials and errors around kagglehub calls: one clear line, never a secret.

Credentials are only ever looked up by kagglehub itself (environment, then `kaggle.json`);
this module checks that some exist before the first call and turns the client's
exceptions (and `network`'s, for a request that failed in every try) into one-line `HubExportError`s
naming the step that failed.
"""

import contextlib
import logging
import sys

from hub_export.kaggle_models.network import RequestFailed
from hub_export.support.errors import HubExportError, first_line

WHERE = ("KAGGLE_API_TOKEN, or KAGGLE_USERNAME and KAGGLE_KEY, or kaggle.json in $KAGGLE_CONFIG_DIR "
         "(default ~/.kaggle)")


def require_credentials() -> None:
  from kagglehub.config import get_kaggle_credentials

  try:
    found = get_kaggle_credentials()
  except ValueError as e:  # a kaggle.json that is not JSON or lacks a key; the message names the file only
    raise HubExportError(f"cannot read Kaggle credentials: {first_line(e)}") from None
  if not found:
    raise HubExportError(f"no Kaggle credentials found: set {WHERE}")


def _client_logs_to_stderr() -> None:
  """kagglehub logs its progress to stdout; our stdout carries results (handles, paths)."""
  for handler in logging.getLogger("kagglehub").handlers:
    if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
      handler.stream = sys.stderr  # not setStream: it flushes the old stream, which may be closed


@contextlib.contextmanager
def kaggle_step(what: str):
  """Runs a kagglehub/kagglesdk call, turning its failures into one line about `what`."""
  import requests
  from kagglehub.exceptions import BackendError, DataCorruptionError

  _client_logs_to_stderr()
  try:
    yield
  except requests.HTTPError as e:
    status = e.response.status_code if e.response is not None else None
    if status in (401, 403):
      raise HubExportError(f"{what}: Kaggle refused the credentials (HTTP {status}); check {WHERE}") from None
    raise HubExportError(f"{what}: Kaggle answered HTTP {status}") from None
  except RequestFailed as e:
    raise HubExportError(f"{what}: {e}") from None
  except requests.ConnectionError as e:
    raise HubExportError(f"{what}: cannot reach Kaggle ({first_line(e)})") from None
  except (BackendError, DataCorruptionError) as e:
    raise HubExportError(f"{what}: {first_line(e)}") from None


@contextlib.contextmanager
def one_user_agent():
  """kagglehub's clients all send the user agent worked out once, on entering this block.

  kagglehub works it out for each client it builds (one a request) by walking the whole call stack and looking up
  each frame's module, which costs about 0.2 s a client in a process that has imported TensorFlow, and seconds under
  a deep stack; the answer does not change within one upload or download. Restored on exit.
  """
  from kagglehub import clients

  original = clients.get_user_agent
  agent = original()
  clients.get_user_agent = lambda: agent
  try:
    yield
  finally:
    clients.get_user_agent = original
