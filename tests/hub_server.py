"""A local stand-in for the Hugging Face Hub HTTP API, for upload/download tests.

It implements exactly the endpoints ``huggingface_hub`` 2.4 calls for ``create_repo``,
``create_branch``, ``upload_folder`` (preupload, README YAML validation, the git-LFS
batch + basic transfer + verify, and the ndjson commit), ``repo_info``/``model_info``,
``list_repo_tree``, ``/api/agent-harnesses`` (fetched by huggingface_hub's user-agent code)
and downloads (``snapshot_download``/``hf_hub_download``: HEAD/GET
``/{repo}/resolve/{rev}/{path}`` with ``X-Repo-Commit``, ``ETag``/``X-Linked-Etag``,
``X-Linked-Size`` and ``Content-Length``). Repos live in memory.

Xet storage is never offered: no ``X-Xet-*`` header is sent and the tree listing has no
``xetHash``, so downloads take the plain HTTP path. Uploads take the LFS path only when the
client has Xet disabled (``huggingface_hub.constants.HF_HUB_DISABLE_XET``): with ``hf_xet``
installed, huggingface_hub 2.4 sends every non-"regular" file through Xet whatever the server
says. For that default client path, ``FakeHub(regular_only=True)`` answers "regular" for every
file in preupload, so everything travels base64-inline in the commit.

The ``fake_hub`` fixture (see ``tests/test_hub.py``) points huggingface_hub at it and installs
an HTTP client whose request hook refuses any host but the fake one.

``echo_authorization=True`` makes it a careless server that repeats the request's
``Authorization`` header everywhere huggingface_hub copies text from a response into an
exception or a log line: the error message header and body, the request id, a
``WWW-Authenticate`` challenge and an ``X-HF-Warning`` on every response (errors or not).
``reject_lfs_objects=True`` answers the LFS batch call with 200 and a per-object error (which
huggingface_hub raises as a plain ``ValueError``, not an HTTP error). Tests use both to check
that a token never reaches an exception chain, a log or the command line's output.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

LFS_BATCH = ["info", "lfs", "objects", "batch"]
LFS_SUFFIXES = (".h5", ".keras", ".safetensors", ".bin", ".npz", ".ckpt", ".pb", ".zip")


def git_blob_sha1(data: bytes) -> str:
    """The git object id of a blob, as the Hub reports it for regular files."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class StoredFile:
    data: bytes
    lfs: bool

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def oid(self) -> str:
        """The oid preupload/tree report: sha256 for LFS files, git blob sha1 otherwise."""
        return self.sha256 if self.lfs else git_blob_sha1(self.data)


@dataclass
class Commit:
    oid: str
    message: str
    description: str
    files: dict[str, StoredFile]
    parent: str | None


@dataclass
class Repo:
    repo_id: str
    private: bool
    owner: str
    branches: dict[str, list[Commit]] = field(default_factory=dict)

    def head(self, rev: str) -> Commit | None:
        if rev in self.branches:
            return self.branches[rev][-1] if self.branches[rev] else None
        for commits in self.branches.values():
            for commit in commits:
                if commit.oid == rev:
                    return commit
        return None


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    @property
    def authorization(self) -> str | None:
        return self.headers.get("authorization")


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, extra=None):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra or {}


class FakeHub:
    """In-memory Hub. ``tokens`` maps a token to the user it authenticates.

    Attributes:
        requests: Every request received, in order (method, path, query, headers).
        errors: ``(status, method, path, message)`` of every error response sent.
        echoed: Every error message that quoted an Authorization header (echo mode).
        fail: ``{(method, path_prefix): (status, message)}`` forced error responses.
        lfs_threshold: Files at least this large go to LFS (besides binary files and
            ``LFS_SUFFIXES``); the real Hub uses 10 MB.
        regular_only: Answer "regular" for every file in preupload (see module docstring).
        echo_authorization: Repeat the request's Authorization header in every error
            response (message header and body, request id, WWW-Authenticate) and in an
            ``X-HF-Warning`` header of every response (see module docstring).
        reject_lfs_objects: Refuse every object in the LFS batch call with a per-object
            error (its message echoes the Authorization header with ``echo_authorization``).
    """

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        *,
        orgs: dict[str, set[str]] | None = None,
        lfs_threshold: int = 10 * 1024 * 1024,
        regular_only: bool = False,
        echo_authorization: bool = False,
        reject_lfs_objects: bool = False,
    ):
        self.tokens = dict(tokens if tokens is not None else {"hf_test_secret_token": "me"})
        self.orgs = orgs or {}
        self.lfs_threshold = lfs_threshold
        self.regular_only = regular_only
        self.echo_authorization = echo_authorization
        self.reject_lfs_objects = reject_lfs_objects
        self.repos: dict[str, Repo] = {}
        self.lfs_store: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self.errors: list[tuple[int, str, str, str]] = []
        self.echoed: list[str] = []
        self.fail: dict[tuple[str, str], tuple[int, str]] = {}
        self._lock = threading.RLock()
        self._counter = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the server first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            fake_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ----------------------------------------------------------------- test helpers

    def files(self, repo_id: str, rev: str = "main") -> dict[str, bytes]:
        """The files of ``repo_id`` at ``rev`` (branch or commit id), path -> bytes."""
        commit = self.repos[repo_id].head(rev)
        return {} if commit is None else {p: f.data for p, f in commit.files.items()}

    def commits(self, repo_id: str, branch: str = "main") -> list[Commit]:
        return list(self.repos[repo_id].branches.get(branch, []))

    def lfs_paths(self, repo_id: str, rev: str = "main") -> set[str]:
        commit = self.repos[repo_id].head(rev)
        return {p for p, f in commit.files.items() if f.lfs} if commit else set()

    def create(self, repo_id: str, *, private: bool = False, files: dict[str, bytes] | None = None):
        """Create a repo directly (no HTTP), optionally with a first commit of ``files``."""
        owner = repo_id.split("/")[0]
        repo = self.repos[repo_id] = Repo(repo_id, private, owner, {"main": []})
        if files:
            stored = {p: StoredFile(d, self._is_lfs(p, d)) for p, d in files.items()}
            repo.branches["main"].append(self._new_commit("initial", "", stored, None))
        return repo

    # ----------------------------------------------------------------- internals

    def _echo(self, headers: dict[str, str]) -> str:
        """`` (you sent Authorization: ...)`` in echo mode, else an empty string."""
        if not self.echo_authorization:
            return ""
        echo = f" (you sent Authorization: {headers.get('authorization', '<none>')})"
        self.echoed.append(echo)
        return echo

    def _user(self, headers: dict[str, str]) -> str | None:
        auth = headers.get("authorization", "")
        if not auth:
            return None
        token = auth.removeprefix("Bearer ").strip()
        if token not in self.tokens:
            raise HubError(401, "Invalid credentials in Authorization header")
        return self.tokens[token]

    def _can_write(self, user: str | None, namespace: str) -> bool:
        return user is not None and (user == namespace or user in self.orgs.get(namespace, set()))

    def _require_write(self, headers: dict[str, str], namespace: str) -> str:
        user = self._user(headers)
        if user is None:
            raise HubError(401, "You must be authenticated to access this resource")
        if not self._can_write(user, namespace):
            raise HubError(403, f"You don't have the rights to write in the namespace {namespace}")
        return user

    def _readable_repo(self, headers: dict[str, str], repo_id: str) -> Repo:
        repo = self.repos.get(repo_id)
        user = self._user(headers)
        if repo is None or (repo.private and not self._can_write(user, repo.owner)):
            raise HubError(401, "Repository not found", "RepoNotFound")
        return repo

    def _commit_for(self, repo: Repo, rev: str) -> Commit:
        if rev not in repo.branches and repo.head(rev) is None:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        commit = repo.head(rev)
        if commit is None:  # an empty repo: the Hub has an initial commit with .gitattributes
            raise HubError(404, f"Revision {rev} has no commit yet", "RevisionNotFound")
        return commit

    def _is_lfs(self, path: str, data_or_sample: bytes, size: int | None = None) -> bool:
        size = len(data_or_sample) if size is None else size
        if self.regular_only or size == 0:
            return False
        return (
            size >= self.lfs_threshold
            or path.endswith(LFS_SUFFIXES)
            or b"\0" in data_or_sample[:512]
        )

    def _new_commit(self, message, description, files, parent) -> Commit:
        seed = (
            f"{parent}{message}{next(self._counter)}{sorted((p, f.oid) for p, f in files.items())}"
        )
        return Commit(hashlib.sha1(seed.encode()).hexdigest(), message, description, files, parent)

    def _repo_info(self, repo: Repo, commit: Commit | None) -> dict[str, Any]:
        files = commit.files if commit else {}
        return {
            "_id": hashlib.md5(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.owner,
            "sha": commit.oid if commit else None,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "lastModified": "2024-01-01T00:00:00.000Z",
            "createdAt": "2024-01-01T00:00:00.000Z",
            "siblings": [{"rfilename": path} for path in sorted(files)],
        }

    def _tree(self, commit: Commit, prefix: str, recursive: bool) -> list[dict[str, Any]]:
        prefix = prefix.strip("/")
        entries: dict[str, dict[str, Any]] = {}
        for path, stored in sorted(commit.files.items()):
            if prefix and not path.startswith(prefix + "/"):
                continue
            rel = path[len(prefix) + 1 :] if prefix else path
            parts = rel.split("/")
            # Directories on the way down.
            for depth in range(1, len(parts)):
                if not recursive and depth > 1:
                    break
                folder = "/".join(([prefix] if prefix else []) + parts[:depth])
                entries.setdefault(
                    folder,
                    {
                        "type": "directory",
                        "path": folder,
                        "oid": git_blob_sha1(folder.encode()),
                        "size": 0,
                    },
                )
            if not recursive and len(parts) > 1:
                continue
            entry: dict[str, Any] = {
                "type": "file",
                "path": path,
                "size": len(stored.data),
                "oid": git_blob_sha1(stored.data),
            }
            if stored.lfs:
                entry["lfs"] = {"oid": stored.sha256, "size": len(stored.data), "pointerSize": 134}
            entries[path] = entry
        return list(entries.values())

    # ----------------------------------------------------------------- routing

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes):
        """Return ``(status, headers, body)`` for one request."""
        split = urlsplit(raw_path)
        path, query = unquote(split.path), parse_qs(split.query)
        with self._lock:
            self.requests.append(Request(method, path, query, headers))
            for (fail_method, prefix), (status, message) in self.fail.items():
                if method == fail_method and path.startswith(prefix):
                    raise HubError(status, message)
        return self._route(method, path, query, headers, body)

    def _route(self, method, path, query, headers, body):
        parts = path.strip("/").split("/")
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo(headers, json.loads(body or b"{}"))
        if method == "GET" and path == "/api/agent-harnesses":  # huggingface_hub's agent telemetry
            return _json(200, {"standardEnvVars": [], "harnesses": {}})
        if method == "POST" and path == "/api/validate-yaml":
            return _json(200, {"errors": [], "warnings": []})
        if parts[:1] == ["_lfs"] and len(parts) >= 2:
            return self._lfs_object(method, parts[1:], body)
        if len(parts) >= 3 and parts[0] == "api" and parts[1] == "models":
            repo_id = "/".join(parts[2:4])
            rest = parts[4:]
            if not rest and method == "GET":
                return self._model_info(headers, repo_id, "main")
            if rest[:1] == ["revision"] and method == "GET":
                return self._model_info(headers, repo_id, "/".join(rest[1:]))
            if rest[:1] == ["tree"] and method == "GET":
                return self._list_tree(headers, repo_id, rest[1], "/".join(rest[2:]), query)
            if rest[:1] == ["preupload"] and method == "POST":
                return self._preupload(headers, repo_id, "/".join(rest[1:]), json.loads(body))
            if rest[:1] == ["commit"] and method == "POST":
                return self._commit(headers, repo_id, "/".join(rest[1:]), body)
            if rest[:1] == ["branch"] and method == "POST":
                return self._create_branch(headers, repo_id, "/".join(rest[1:]), body)
        if len(parts) == 6 and parts[1].endswith(".git") and parts[2:] == LFS_BATCH:
            repo_id = f"{parts[0]}/{parts[1].removesuffix('.git')}"
            return self._lfs_batch(headers, repo_id, json.loads(body))
        if len(parts) >= 5 and parts[2] == "resolve" and method in ("GET", "HEAD"):
            return self._resolve(
                method, headers, "/".join(parts[:2]), parts[3], "/".join(parts[4:])
            )
        raise HubError(404, f"no route for {method} {path} in the fake Hub")

    # ----------------------------------------------------------------- endpoints

    def _create_repo(self, headers, payload):
        name, namespace = payload.get("name"), payload.get("organization")
        if payload.get("type", "model") != "model":
            raise HubError(400, "the fake Hub only hosts model repos")
        user = self._user(headers)
        if user is None:
            raise HubError(401, "You must be authenticated to create a repo")
        namespace = namespace or user
        repo_id = f"{namespace}/{name}"
        if not self._can_write(user, namespace):
            raise HubError(403, f"You don't have the rights to create a model under {namespace}")
        with self._lock:
            if repo_id in self.repos:
                return _json(
                    409,
                    {
                        "error": "You already created this model repo",
                        "url": f"{self.url}/{repo_id}",
                    },
                )
            self.repos[repo_id] = Repo(
                repo_id, payload.get("visibility") == "private", namespace, {"main": []}
            )
        return _json(200, {"url": f"{self.url}/{repo_id}", "name": repo_id, "id": repo_id})

    def _create_branch(self, headers, repo_id, branch, body):
        repo = self._readable_repo(headers, repo_id)
        self._require_write(headers, repo.owner)
        with self._lock:
            if branch in repo.branches:
                raise HubError(409, f"Reference already exists: refs/heads/{branch}")
            start = repo.head("main")
            repo.branches[branch] = [start] if start else []
        return _json(200, {})

    def _model_info(self, headers, repo_id, rev):
        repo = self._readable_repo(headers, repo_id)
        commit = self._commit_for(repo, rev)
        return _json(200, self._repo_info(repo, commit))

    def _list_tree(self, headers, repo_id, rev, prefix, query):
        repo = self._readable_repo(headers, repo_id)
        commit = self._commit_for(repo, rev)
        recursive = query.get("recursive", ["False"])[0].lower() == "true"
        return _json(200, self._tree(commit, prefix, recursive))

    def _preupload(self, headers, repo_id, rev, payload):
        repo = self._readable_repo(headers, repo_id)
        self._require_write(headers, repo.owner)
        if rev not in repo.branches:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        head = repo.head(rev)
        answer = []
        for item in payload["files"]:
            sample = base64.b64decode(item["sample"])
            existing = head.files.get(item["path"]) if head else None
            answer.append(
                {
                    "path": item["path"],
                    "uploadMode": "lfs"
                    if self._is_lfs(item["path"], sample, item["size"])
                    else "regular",
                    "shouldIgnore": False,
                    "oid": existing.oid if existing else None,
                }
            )
        return _json(200, {"files": answer, "commitOid": head.oid if head else None})

    def _lfs_batch(self, headers, repo_id, payload):
        repo = self._readable_repo(headers, repo_id)
        self._require_write(headers, repo.owner)
        if payload.get("operation") != "upload":
            raise HubError(400, "the fake Hub only supports LFS uploads in the batch API")
        objects = []
        for obj in payload["objects"]:
            entry = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            if self.reject_lfs_objects:
                message = "LFS storage quota exceeded" + self._echo(headers)
                entry["error"] = {"code": 422, "message": message}
                objects.append(entry)
                continue
            if obj["oid"] not in self.lfs_store:
                entry["actions"] = {
                    "upload": {"href": f"{self.url}/_lfs/{obj['oid']}", "header": {}},
                    "verify": {"href": f"{self.url}/_lfs/{obj['oid']}/verify", "header": {}},
                }
            objects.append(entry)
        return _json(
            200,
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
            content_type="application/vnd.git-lfs+json",
        )

    def _lfs_object(self, method, parts, body):
        oid = parts[0]
        if method == "PUT" and len(parts) == 1:  # the "S3" upload: no auth, like a signed URL
            if hashlib.sha256(body).hexdigest() != oid:
                raise HubError(400, "uploaded content does not match its sha256 oid")
            with self._lock:
                self.lfs_store[oid] = body
            return 200, {"ETag": f'"{hashlib.md5(body).hexdigest()}"'}, b""
        if method == "POST" and parts[1:] == ["verify"]:
            if oid not in self.lfs_store:
                raise HubError(404, f"LFS object {oid} was never uploaded")
            return _json(200, {"success": True})
        raise HubError(405, f"{method} not allowed on LFS objects")

    def _commit(self, headers, repo_id, rev, body):
        repo = self._readable_repo(headers, repo_id)
        self._require_write(headers, repo.owner)
        if rev not in repo.branches:
            raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound")
        lines = [json.loads(line) for line in body.splitlines() if line.strip()]
        header = lines[0]
        if header.get("key") != "header":
            raise HubError(400, "the commit payload must start with a header line")
        with self._lock:
            parent = repo.head(rev)
            if header["value"].get("parentCommit") not in (None, parent and parent.oid):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(parent.files) if parent else {}
            for line in lines[1:]:
                key, value = line["key"], line["value"]
                if key == "file":
                    if value.get("encoding") != "base64":
                        raise HubError(400, "regular files must be base64-encoded")
                    files[value["path"]] = StoredFile(base64.b64decode(value["content"]), False)
                elif key == "lfsFile":
                    data = self.lfs_store.get(value["oid"])
                    if data is None or len(data) != value.get("size", len(data)):
                        raise HubError(
                            400, f"LFS object {value['oid']} of {value['path']} was never uploaded"
                        )
                    files[value["path"]] = StoredFile(data, True)
                elif key == "deletedFile":
                    if files.pop(value["path"], None) is None:
                        raise HubError(404, "A file with this name doesn't exist", "EntryNotFound")
                elif key == "deletedFolder":
                    folder = value["path"].rstrip("/") + "/"
                    files = {p: f for p, f in files.items() if not p.startswith(folder)}
                else:
                    raise HubError(400, f"unknown commit operation {key!r}")
            commit = self._new_commit(
                header["value"]["summary"],
                header["value"].get("description", ""),
                files,
                parent.oid if parent else None,
            )
            repo.branches[rev].append(commit)
        return _json(
            200,
            {
                "commitUrl": f"{self.url}/{repo_id}/commit/{commit.oid}",
                "commitOid": commit.oid,
                "success": True,
                "pullRequestUrl": None,
            },
        )

    def _resolve(self, method, headers, repo_id, rev, filename):
        repo = self._readable_repo(headers, repo_id)
        commit = self._commit_for(repo, unquote(rev))
        stored = commit.files.get(filename)
        if stored is None:
            raise HubError(404, "Entry not found", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        out = {
            "X-Repo-Commit": commit.oid,
            "ETag": f'"{git_blob_sha1(stored.data)}"',
            "Content-Type": "application/octet-stream",
            "Accept-Ranges": "bytes",
        }
        if stored.lfs:
            out["X-Linked-Etag"] = f'"{stored.sha256}"'
            out["X-Linked-Size"] = str(len(stored.data))
        data = stored.data
        range_header = headers.get("range")
        if range_header and method == "GET":
            start = int(range_header.removeprefix("bytes=").split("-")[0])
            out["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
            return 206, out, data[start:]
        return 200, out, data


class _Handler(BaseHTTPRequestHandler):
    fake_hub: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - keep test output quiet
        pass

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = self._body()
        try:
            status, out_headers, data = self.fake_hub.handle(self.command, self.path, headers, body)
        except HubError as err:
            self.fake_hub.errors.append((err.status, self.command, self.path, err.message))
            status = err.status
            message = err.message + self.fake_hub._echo(headers)
            out_headers = {"X-Error-Message": message, **err.extra}
            if err.code:
                out_headers["X-Error-Code"] = err.code
            payload: dict[str, Any] = {"error": message}
            if self.fake_hub.echo_authorization:
                auth = headers.get("authorization", "<none>")
                out_headers["X-Request-Id"] = f"req {auth}"
                out_headers["WWW-Authenticate"] = f'Bearer error="invalid_token" token="{auth}"'
                payload["received_headers"] = headers
            data = json.dumps(payload).encode()
            out_headers["Content-Type"] = "application/json"
        except Exception as err:  # noqa: BLE001 - a bug in the fake must show up as a 500
            status, out_headers = 500, {"Content-Type": "text/plain"}
            data = f"fake Hub crashed: {type(err).__name__}: {err}".encode()
            self.fake_hub.errors.append((500, self.command, self.path, data.decode()))
        if self.fake_hub.echo_authorization:  # huggingface_hub logs these as warnings
            topic = f"echo-{uuid.uuid4().hex}"  # it warns once per topic and process
            out_headers["X-HF-Warning"] = f"{topic}; server saw {headers.get('authorization')}"
        self.send_response(status)
        for key, value in out_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _dispatch


def _json(status: int, payload: Any, content_type: str = "application/json"):
    return status, {"Content-Type": content_type}, json.dumps(payload).encode()
