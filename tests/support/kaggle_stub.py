"""A small stand-in for the Kaggle endpoints kagglehub 1.0 calls, for tests on 127.0.0.1.

kagglehub takes no endpoint URL: with KAGGLE_API_ENVIRONMENT=LOCALHOST it calls
http://localhost/api/v1/<service>/<method> (JSON POSTs). The stub listens on a free port
of 127.0.0.1 and is given to the client as its HTTP proxy, so it receives those requests
in proxy form (absolute URLs) and answers them, blob uploads included: StartBlobUpload
hands out an upload URL on the same fake host, which the client PUTs to in the resumable
style (`Content-Range`, 308 with `Range` for a status query).

It stores what it receives (models, variation versions with their files as bytes, the
usage text), counts requests, and injects faults on demand: an HTTP status for the next
blob upload, a refusal of credentials, a connection dropped part-way through a file, or
one request held without an answer. `SilentServer` is a proxy that accepts connections
and never answers at all.
"""

import base64
import contextlib
import dataclasses
import json
import select
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

API = "/api/v1/"
UPLOAD = "/upload/"
USER, KEY = "acme", "k3y-4bc9e1f0d2-never-print"  # made up; must never show up in output or files
PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
                   "no_proxy", "NO_PROXY")


HOLD_AT_MOST = 60  # seconds a held request or a silent connection is kept open, so nothing outlives a test


def reach_only(monkeypatch, tmp_path, proxy: str) -> None:
  """An environment where kagglehub sends everything to `proxy` and reads only our key."""
  for name in PROXY_VARIABLES + ("KAGGLE_API_TOKEN",):
    monkeypatch.delenv(name, raising=False)
  monkeypatch.setenv("KAGGLE_API_ENVIRONMENT", "LOCALHOST")
  monkeypatch.setenv("http_proxy", proxy)
  monkeypatch.setenv("KAGGLE_USERNAME", USER)
  monkeypatch.setenv("KAGGLE_KEY", KEY)
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle_config"))
  monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub_cache"))


@contextlib.contextmanager
def serving_kagglehub(monkeypatch, tmp_path):
  """A fresh stub, and an environment where kagglehub reaches only it and reads only our key."""
  with KaggleStub(USER, KEY) as server:
    reach_only(monkeypatch, tmp_path, server.proxy)
    yield server


def _closed_by_peer(connection) -> bool:
  """Whether the client closed `connection` (it gave up); anything it still sends is read and ignored."""
  return not connection.recv(65536)


class SilentServer:
  """Accepts connections on 127.0.0.1 and never answers, like a proxy that hangs.

  `held` lists, for each connection the client gave up on, how long it waited. The server
  stops by itself after HOLD_AT_MOST seconds (or when its block ends), closing what is still
  open, so a client without a timeout is released at last rather than hanging forever.
  """

  def __init__(self):
    self.held = []
    self._socket = socket.create_server(("127.0.0.1", 0))
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._serve, daemon=True)

  @property
  def proxy(self) -> str:
    return f"http://127.0.0.1:{self._socket.getsockname()[1]}"

  def _serve(self):
    deadline, opened = time.monotonic() + HOLD_AT_MOST, {}  # connection -> when it was accepted
    while not self._stop.is_set() and time.monotonic() < deadline:
      for ready in select.select([self._socket, *opened], [], [], 0.1)[0]:
        if ready is self._socket:
          opened[self._socket.accept()[0]] = time.monotonic()
        elif _closed_by_peer(ready):
          self.held.append(time.monotonic() - opened.pop(ready))
          ready.close()
    for connection in opened:
      connection.close()
    self._socket.close()

  def __enter__(self):
    self._thread.start()
    return self

  def __exit__(self, *exc):
    self._stop.set()
    self._thread.join()


@dataclasses.dataclass
class Variation:
  metadata: dict
  versions: list = dataclasses.field(default_factory=list)  # [{"notes": str, "files": {path: bytes}}]


@dataclasses.dataclass
class Faults:
  blob_status: int | None = None      # answer the next blob PUT with this status
  refuse_credentials: bool = False    # answer every API call with 401
  drop_after: int | None = None       # close the connection after this many bytes of the next blob PUT
  hold: str | None = None             # never answer the next call of this API method, blob PUT ("upload")
                                      # or upload status query ("status")


class KaggleStub:
  def __init__(self, username: str, key: str):
    self.expected_auth = "Basic " + base64.b64encode(f"{username}:{key}".encode()).decode()
    self.models = {}        # (owner, slug) -> create request
    self.variations = {}    # (owner, model, framework, slug) -> Variation
    self.blobs = {}         # token -> {"name": str, "size": int, "data": bytearray}
    self.requests = []      # (method, path) of every request received
    self.user_agents = []   # the User-Agent header of every API call
    self.faults = Faults()
    self.drops = 0
    self.held = []          # seconds the client waited for each request left unanswered before it gave up
    self._stopping = threading.Event()
    self._lock = threading.Lock()
    self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
    self._server.daemon_threads = True
    # A short poll: shutdown() waits for the serving loop to look, once a test is done with the stub.
    self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

  @property
  def proxy(self) -> str:
    return f"http://127.0.0.1:{self._server.server_address[1]}"

  def __enter__(self):
    self._thread.start()
    return self

  def __exit__(self, *exc):
    self._stopping.set()
    self._server.shutdown()
    self._server.server_close()

  def held_back(self, what: str, connection) -> bool:
    """Whether this request is the one to leave unanswered; if so, it waits until the client gives up and closes
    the connection (or the stub stops, or HOLD_AT_MOST seconds pass), and the caller drops the connection."""
    with self._lock:
      if self.faults.hold != what:
        return False
      self.faults.hold = None
    start = time.monotonic()
    while not self._stopping.is_set() and time.monotonic() < start + HOLD_AT_MOST:
      if select.select([connection], [], [], 0.1)[0] and _closed_by_peer(connection):
        self.held.append(time.monotonic() - start)
        break
    return True

  def gave_up(self, count: int) -> list:
    """`held` once it has `count` entries: a client's close reaches the stub a moment after the client moves on."""
    deadline = time.monotonic() + 5
    while len(self.held) < count and time.monotonic() < deadline:
      time.sleep(0.05)
    assert len(self.held) == count, self.held
    return self.held

  # API methods: request dict in, (status, response dict) out.

  def GetModel(self, r):
    model = self.models.get((r["ownerSlug"], r["modelSlug"]))
    if model is None:
      return 404, {"code": 404, "message": "model not found"}
    return 200, {"ownerSlug": r["ownerSlug"], "slug": model["slug"], "title": model.get("title", ""),
                 "description": model.get("description", ""), "isPrivate": model.get("isPrivate", False)}

  def CreateModel(self, r):
    key = (r["ownerSlug"], r["slug"])
    if key in self.models:
      return 200, {"error": "model already exists", "errorCode": 409}
    self.models[key] = r
    return 200, {"id": len(self.models), "ref": "/".join(key), "url": f"http://localhost/models/{'/'.join(key)}"}

  def StartBlobUpload(self, r):
    token = f"blob{len(self.blobs) + 1}"
    self.blobs[token] = {"name": r["name"], "size": int(r.get("contentLength", 0)), "data": bytearray()}
    return 200, {"token": token, "createUrl": f"http://localhost{UPLOAD}{token}"}

  def _files(self, directory, prefix=""):
    files = {}
    for entry in directory.get("files", []):
      blob = self.blobs[entry["token"]]
      if len(blob["data"]) != blob["size"]:
        raise ValueError(f"blob {entry['token']} is incomplete")
      files[prefix + blob["name"]] = bytes(blob["data"])
    for sub in directory.get("directories", []):
      files.update(self._files(sub, f"{prefix}{sub['name']}/"))
    return files

  def CreateModelInstance(self, r):
    body = r["body"]
    key = (r["ownerSlug"], r["modelSlug"], body["framework"], body["instanceSlug"])
    if key[:2] not in self.models:
      return 404, {"code": 404, "message": "model not found"}
    if key in self.variations:
      return 200, {"error": "instance already exists", "errorCode": 409}
    variation = Variation(metadata={k: v for k, v in body.items() if k not in ("files", "directories")})
    variation.versions.append({"notes": "", "files": self._files(body)})
    self.variations[key] = variation
    return 200, {"id": 1, "ref": "/".join(key)}

  def CreateModelInstanceVersion(self, r):
    key = (r["ownerSlug"], r["modelSlug"], r["framework"], r["instanceSlug"])
    if key not in self.variations:
      return 404, {"code": 404, "message": "instance not found"}
    self.variations[key].versions.append({"notes": r["body"].get("versionNotes", ""),
                                          "files": self._files(r["body"])})
    return 200, {"id": 1, "ref": "/".join(key)}

  def UpdateModelInstance(self, r):
    key = (r["ownerSlug"], r["modelSlug"], r["framework"], r["instanceSlug"])
    if key not in self.variations:
      return 404, {"code": 404, "message": "instance not found"}
    for path in r.get("updateMask", "").split(","):
      field = "".join(w.capitalize() if i else w for i, w in enumerate(path.split("_")))
      self.variations[key].metadata[field] = r.get(field)
    return 200, {"id": 1, "ref": "/".join(key)}

  def _variation(self, r):
    return self.variations.get((r["ownerSlug"], r["modelSlug"], r["framework"], r["instanceSlug"]))

  def GetModelInstance(self, r):
    variation = self._variation(r)
    if variation is None:
      return 404, {"code": 404, "message": "instance not found"}
    return 200, {"slug": r["instanceSlug"], "framework": r["framework"], "versionNumber": len(variation.versions),
                 "overview": variation.metadata.get("overview", ""), "usage": variation.metadata.get("usage", "")}

  def _version_files(self, r):
    variation = self._variation(r)
    number = int(r.get("versionNumber", 0))
    if variation is None or not 1 <= number <= len(variation.versions):
      return None
    return variation.versions[number - 1]["files"]

  def ListModelInstanceVersionFiles(self, r):
    files = self._version_files(r)
    if files is None:
      return 404, {"code": 404, "message": "version not found"}
    return 200, {"files": [{"name": name, "size": len(data)} for name, data in sorted(files.items())],
                 "nextPageToken": ""}

  # Test helpers.

  def stored(self, owner, model, framework, variation, version=None) -> dict:
    versions = self.variations[(owner, model, framework, variation)].versions
    return versions[-1 if version is None else version - 1]["files"]

  def tamper(self, owner, model, framework, variation, path, data: bytes):
    """Replaces one stored file of the latest version, as a corrupted upload would leave it."""
    self.variations[(owner, model, framework, variation)].versions[-1]["files"][path] = data


def _handler(stub: KaggleStub):
  class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output clean
      pass

    def _send(self, status: int, body: bytes, content_type="application/json", headers=()):
      self.send_response(status)
      self.send_header("Content-Type", content_type)
      self.send_header("Content-Length", str(len(body)))
      for name, value in headers:
        self.send_header(name, value)
      self.end_headers()
      self.wfile.write(body)

    def _json(self, status: int, data: dict):
      self._send(status, json.dumps(data).encode())

    def _drop(self):
      """An abortive close (RST): no answer, the connection just goes."""
      self.close_connection = True
      self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
      self.connection.close()

    def do_POST(self):
      path = urlsplit(self.path).path
      with stub._lock:
        stub.requests.append(("POST", path))
        stub.user_agents.append(self.headers.get("User-Agent"))
      body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
      if not path.startswith(API):
        return self._json(404, {"code": 404, "message": "not found"})
      method = path.rsplit("/", 1)[1]
      if stub.held_back(method, self.connection):
        return self._drop()
      if stub.faults.refuse_credentials or self.headers.get("Authorization") != stub.expected_auth:
        return self._json(401, {"code": 401, "message": "Unauthenticated"})
      request = json.loads(body or b"{}")
      if method == "DownloadModelInstanceVersion":
        files = stub._version_files(request)
        if files is None or request.get("path") not in files:
          return self._json(404, {"code": 404, "message": "file not found"})
        return self._send(200, files[request["path"]], content_type="application/octet-stream")
      handler = getattr(stub, method, None)
      if handler is None or method.startswith("_"):
        return self._json(404, {"code": 404, "message": f"no method {method}"})
      with stub._lock:
        status, data = handler(request)
      self._json(status, data)

    def do_PUT(self):
      path = urlsplit(self.path).path
      with stub._lock:
        stub.requests.append(("PUT", path))
      blob = stub.blobs.get(path[len(UPLOAD):]) if path.startswith(UPLOAD) else None
      length = int(self.headers.get("Content-Length", 0))
      if blob is None:
        self.rfile.read(length)
        return self._json(404, {"code": 404, "message": "no such upload"})
      content_range = self.headers.get("Content-Range", "")
      if content_range.startswith("bytes */"):  # status query of a resumable upload
        if stub.held_back("status", self.connection):
          return self._drop()
        received = len(blob["data"])
        if received >= blob["size"]:
          return self._send(200, b"")
        headers = [("Range", f"bytes=0-{received - 1}")] if received else []
        return self._send(308, b"", headers=headers)
      start = int(content_range.split(" ")[1].split("-")[0]) if content_range else 0
      if stub.faults.hold == "upload":  # the whole file arrives, then no answer
        self.rfile.read(length)
        stub.held_back("upload", self.connection)
        return self._drop()
      if stub.faults.blob_status is not None:
        status, stub.faults.blob_status = stub.faults.blob_status, None
        self.rfile.read(length)
        return self._json(status, {"code": status, "message": "injected failure"})
      if stub.faults.drop_after is not None and length > stub.faults.drop_after:
        keep, stub.faults.drop_after = stub.faults.drop_after, None
        del blob["data"][start:]
        blob["data"] += self.rfile.read(keep)
        stub.drops += 1
        return self._drop()
      del blob["data"][start:]
      blob["data"] += self.rfile.read(length)
      if len(blob["data"]) < blob["size"]:
        return self._send(308, b"", headers=[("Range", f"bytes=0-{len(blob['data']) - 1}")])
      return self._send(200, b"")

  return Handler
