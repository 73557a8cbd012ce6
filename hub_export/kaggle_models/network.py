"""Time limits, progress and bounded retries for every HTTP request the Kaggle clients send.

kagglesdk sends its requests with no timeout at all and kagglehub's blob upload waits up to
600 s a try, and neither takes a setting, so behind a proxy that never answers they hang.
Both send through `requests`' HTTPAdapter; inside `limited()` its `send` (in memory only,
restored on exit) waits at most `timeout` seconds to connect and `timeout` seconds between
bytes of the answer, logs while it waits, and sends a request that got no answer again up to
`retries` times (a file upload is resumed by kagglehub instead; a create call that may have
reached Kaggle is sent once). When the tries run out it raises `RequestFailed`, which the
clients' own retry loops (they catch requests' exceptions only) let through to
`session.kaggle_step`.
"""

import argparse
import collections
import contextlib
import dataclasses
import threading
import time
from urllib.parse import urlsplit

from hub_export.support.errors import first_line
from hub_export.support.log import LOG

PROGRESS_EVERY = 10.0  # seconds between "waiting" lines (more often when the timeout is short)
MAX_BACKOFF = 30  # seconds between tries, at most


@dataclasses.dataclass(frozen=True)
class Limits:
  timeout: float = 60.0
  retries: int = 2


class RequestFailed(Exception):
  """A request that failed in each of its tries; the message names the host, the call and the limit."""


def _seconds(text: str) -> float:
  try:
    value = float(text)
  except ValueError:
    value = 0.0
  if not 0 < value < float("inf"):
    raise argparse.ArgumentTypeError(f"{text!r}: expected a positive number of seconds")
  return value


def _count(text: str) -> int:
  if not text.isdigit():
    raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number, 0 or more")
  return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
  parser.add_argument("--network_timeout", type=_seconds, default=Limits.timeout, metavar="SECONDS",
                      help=f"Kaggle requests: how long to wait to connect and for each part of an answer "
                           f"(default {Limits.timeout:g})")
  parser.add_argument("--network_retries", type=_count, default=Limits.retries, metavar="N",
                      help=f"Kaggle requests: how often to send one again that got no answer "
                           f"(default {Limits.retries})")


def from_args(args) -> Limits:
  return Limits(timeout=args.network_timeout, retries=args.network_retries)


def _capped(timeout, limit: float) -> tuple:
  """(connect, read) seconds: the caller's own limits where they are shorter, else `limit`."""
  pair = timeout if isinstance(timeout, tuple) else (timeout, timeout)
  return tuple(limit if part is None else min(part, limit) for part in pair)


def _streamed(request) -> bool:
  """A body read from a file (a blob upload): it cannot be sent again as is; kagglehub resumes it itself."""
  return request.body is not None and not isinstance(request.body, (bytes, str))


def _creates(request) -> bool:
  """Kaggle's create calls (POST .../CreateModel, ...): sent twice, they might create twice."""
  return urlsplit(request.url).path.rsplit("/", 1)[-1].startswith("Create")


def _where(request) -> tuple:
  """The host, and the method and path; not the query, which may carry an upload token."""
  parts = urlsplit(request.url)
  return parts.hostname, f"{request.method} {parts.path}"


def _failure(request, error, timeout: tuple) -> str:
  import requests

  host, call = _where(request)
  if isinstance(error, requests.Timeout):
    waited = timeout[0] if isinstance(error, requests.ConnectTimeout) else timeout[1]
    return f"no answer from {host} within {waited:g} s to {call}"
  return f"cannot reach {host} for {call}: {first_line(error)}"


@contextlib.contextmanager
def _reporting_wait(request, limit: float):
  """Logs now and then while a request waits, so that a slow or silent server never means a silent hang."""
  done = threading.Event()
  every = min(PROGRESS_EVERY, limit / 2)

  def report():
    waited = every
    while not done.wait(every) and waited < limit:
      LOG.info("waiting for %s to answer %s: %g s so far (gives up after %g s)", *_where(request), waited, limit)
      waited += every

  threading.Thread(target=report, name="network-wait", daemon=True).start()
  try:
    yield
  finally:
    done.set()


def _tries(count: int) -> str:
  return f"{count} {'try' if count == 1 else 'tries'}"


@contextlib.contextmanager
def limited(limits: Limits):
  """Every request sent through `requests` in this block keeps to `limits` (see the module's docstring)."""
  import requests
  from requests.adapters import HTTPAdapter

  original = HTTPAdapter.send
  upload_failures = collections.Counter()  # per upload URL: kagglehub sends a file again itself, resuming it

  def send(adapter, request, stream=False, timeout=None, **kwargs):
    timeout = _capped(timeout, limits.timeout)
    if _streamed(request):  # a file being uploaded: its own progress bar shows it moving
      try:
        return original(adapter, request, stream=stream, timeout=timeout, **kwargs)
      except (requests.ConnectionError, requests.Timeout) as e:
        upload_failures[request.url] += 1
        if upload_failures[request.url] > limits.retries:
          raise RequestFailed(f"{_failure(request, e, timeout)} ({_tries(upload_failures[request.url])})") from None
        raise
    attempt = 1
    while True:
      try:
        with _reporting_wait(request, timeout[1]):
          return original(adapter, request, stream=stream, timeout=timeout, **kwargs)
      except (requests.ConnectionError, requests.Timeout) as e:
        failure = _failure(request, e, timeout)
        if _creates(request) and not isinstance(e, requests.ConnectTimeout):
          raise RequestFailed(f"{failure} (sent only once: it may have taken effect)") from None
        if attempt > limits.retries:
          raise RequestFailed(f"{failure} ({_tries(attempt)})") from None
        backoff = min(2 ** (attempt - 1), MAX_BACKOFF)
        LOG.info("%s (try %d of %d); trying again in %d s", failure, attempt, 1 + limits.retries, backoff)
        time.sleep(backoff)
        attempt += 1

  HTTPAdapter.send = send
  try:
    yield
  finally:
    HTTPAdapter.send = original
