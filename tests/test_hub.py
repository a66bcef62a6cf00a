"""push_to_hub against a local fake of the Hub's HTTP API (tests/hub_server.py); no internet."""

from __future__ import annotations

import socket
import time
import traceback
from pathlib import Path

import numpy as np
import pytest
from hub_server import FakeHub

from tfx_textzoo.hub import HubError, push_to_hub

TOKEN = "hf_test_secret_token"  # what FakeHub() accepts, for user "me"


@pytest.fixture
def fake_hub(monkeypatch, tmp_path):
    """A FakeHub that huggingface_hub talks to, with the network otherwise closed.

    huggingface_hub reads HF_ENDPOINT, HF_HUB_OFFLINE, HF_HUB_DISABLE_XET and the token path
    into ``huggingface_hub.constants`` at import time, so the constants are patched (HfApi,
    snapshot_download and hf_hub_download read them at call time). HF_ENDPOINT is set too
    for any subprocess. Xet is disabled so that uploads take the plain LFS path (the default,
    Xet-enabled path is tested separately). Every request goes through a client whose hook
    refuses any host but 127.0.0.1.
    """
    from huggingface_hub import constants
    from huggingface_hub.utils import _http

    for var in (
        "TEXTZOO_OFFLINE",
        "HF_HUB_OFFLINE",
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_OIDC_RESOURCE",
    ):
        monkeypatch.delenv(var, raising=False)
    hub = FakeHub({TOKEN: "me"}, orgs={"team": {"me"}}).start()
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(
        constants,
        "HUGGINGFACE_CO_URL_TEMPLATE",
        hub.url + "/{repo_id}/resolve/{revision}/{filename}",
    )
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "hf_token_absent"))
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent_harnesses.json"))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf_hub_cache"))

    blocked: list[str] = []
    previous_factory = _http._GLOBAL_CLIENT_FACTORY

    def guard(request):
        if request.url.host != "127.0.0.1":
            blocked.append(str(request.url))
            raise RuntimeError(f"test tried to reach {request.url.host}")

    def guarded_client():
        client = previous_factory()
        hooks = client.event_hooks
        client.event_hooks = {**hooks, "request": [guard, *hooks.get("request", [])]}
        return client

    _http.set_client_factory(guarded_client)
    hub.blocked = blocked
    try:
        yield hub
    finally:
        _http.set_client_factory(previous_factory)
        hub.stop()
    assert not blocked, f"requests left the machine: {blocked}"
    unexpected = [e for e in hub.errors if e[0] >= 500 or "no route" in e[3]]
    assert not unexpected, f"the fake Hub lacks an endpoint or crashed: {unexpected}"


def make_saved_dir(root: Path, *, weights_size: int = 200_000, seed: int = 0) -> Path:
    """A directory shaped like save_pretrained's output: text files + binary weights."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    (root / "README.md").write_text(
        "---\nlibrary_name: keras-hub\ntags:\n- text-classification\n---\n# tiny\n", "utf-8"
    )
    (root / "config.json").write_text('{"registered_name": "keras_hub>BertBackbone"}\n', "utf-8")
    (root / "textzoo.json").write_text('{"name": "bert-tiny", "labels": ["a", "b"]}\n', "utf-8")
    (root / "model.weights.h5").write_bytes(b"\x89HDF\r\n\x1a\n" + rng.bytes(weights_size))
    (root / "assets" / "tokenizer").mkdir(parents=True)
    (root / "assets" / "tokenizer" / "vocabulary.txt").write_text("[PAD]\n[UNK]\nthe\n", "utf-8")
    (root / "empty.txt").write_bytes(b"")
    return root


def local_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def paths_seen(hub: FakeHub) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in hub.requests]


def test_push_directory_stores_identical_files_with_lfs(fake_hub, tmp_path):
    saved = make_saved_dir(tmp_path / "saved")
    url = push_to_hub(saved, "me/tiny", token=TOKEN)

    commits = fake_hub.commits("me/tiny")
    assert len(commits) == 1
    assert url == f"{fake_hub.url}/me/tiny/commit/{commits[0].oid}"
    assert fake_hub.files("me/tiny") == local_files(saved)  # every file, byte for byte
    assert fake_hub.lfs_paths("me/tiny") == {"model.weights.h5"}
    assert commits[0].message == "Upload saved with tfx_textzoo"
    assert fake_hub.repos["me/tiny"].private is False
    seen = paths_seen(fake_hub)
    for expected in [
        ("POST", "/api/repos/create"),
        ("POST", "/api/validate-yaml"),
        ("POST", "/api/models/me/tiny/preupload/main"),
        ("POST", "/me/tiny.git/info/lfs/objects/batch"),
        ("PUT", f"/_lfs/{commits[0].files['model.weights.h5'].sha256}"),
        ("POST", "/api/models/me/tiny/commit/main"),
    ]:
        assert expected in seen, f"{expected} not requested; saw {seen}"
    # Everything but the LFS storage PUT (a signed URL on the real Hub) and huggingface_hub's
    # agent-registry fetch carries the token.
    authed = [r for r in fake_hub.requests if not r.path.startswith(("/_lfs/", "/api/agent-"))]
    assert authed and all(r.authorization == f"Bearer {TOKEN}" for r in authed)


def test_pushed_directory_downloads_identically(fake_hub, tmp_path, monkeypatch):
    from tfx_textzoo import weights

    saved = make_saved_dir(tmp_path / "saved")
    push_to_hub(saved, "me/tiny", token=TOKEN, private=True)
    monkeypatch.setenv("HF_TOKEN", TOKEN)  # private repo: the download needs the token too
    local = Path(weights._hf_snapshot("hf://me/tiny", ["*"]))
    assert local.is_relative_to(weights.cache_dir() / "hf")
    assert local_files(local) == local_files(saved)
    assert (
        "HEAD",
        "/me/tiny/resolve/" + fake_hub.commits("me/tiny")[0].oid + "/model.weights.h5",
    ) in (paths_seen(fake_hub))


def test_model_round_trip_through_the_hub(fake_hub, tmp_path):
    from helpers import LABELS, TEXTS, tiny_model
    from huggingface_hub import ModelCard

    import tfx_textzoo as textzoo
    from tfx_textzoo.evaluation import predict_proba

    names = ["world", "sports", "business", "tech"]
    model = tiny_model("bert-tiny", labels=names)
    report = textzoo.evaluate(model, (TEXTS, LABELS))
    url = push_to_hub(model, "me/tiny", report=report, token=TOKEN, license="mit")

    commit = fake_hub.commits("me/tiny")[-1]
    assert url == f"{fake_hub.url}/me/tiny/commit/{commit.oid}"
    stored = fake_hub.files("me/tiny")
    assert {"textzoo.json", "README.md", "config.json", "model.weights.h5"} <= set(stored)
    assert "model.weights.h5" in fake_hub.lfs_paths("me/tiny")

    card = ModelCard.load("me/tiny")  # downloaded from the fake Hub
    assert card.data.library_name == "keras-hub" and card.data.license == "mit"
    assert card.data.eval_results and card.data.eval_results[0].metric_type == "accuracy"
    assert 'textzoo.load("hf://me/tiny")' in card.text

    before = len(fake_hub.requests)
    loaded = textzoo.load("hf://me/tiny")  # fresh TEXTZOO_HOME cache (conftest)
    fetched = {r.path for r in fake_hub.requests[before:] if r.method in ("HEAD", "GET")}
    assert f"/me/tiny/resolve/{commit.oid}/model.weights.h5" in fetched
    assert loaded.labels == names
    np.testing.assert_array_equal(predict_proba(loaded, TEXTS), predict_proba(model, TEXTS))


def test_multi_label_model_round_trip_keeps_its_task(fake_hub, tmp_path):
    import json

    from helpers import TEXTS
    from huggingface_hub import ModelCard

    import tfx_textzoo as textzoo

    tags = ["politics", "sports", "money"]
    tiny = dict(weights=None, num_layers=1, hidden_dim=16, num_heads=2, intermediate_dim=32)
    model = textzoo.load("bert-tiny", labels=tags, multi_label=True, sequence_length=16, **tiny)
    model.task = model.task.replace(thresholds=(0.25, 0.5, 0.75), text_pair=True)
    push_to_hub(model, "me/tagger", token=TOKEN)

    stored = json.loads(fake_hub.files("me/tagger")["textzoo.json"])
    assert stored["task"] == model.task.to_config()
    card = ModelCard.load("me/tagger")
    assert card.data.pipeline_tag == "text-classification"
    assert "multi-label-classification" in card.data.tags
    assert "| money | 0.75 |" in card.text and 'textzoo.load("hf://me/tagger")' in card.text

    loaded = textzoo.load("hf://me/tagger", multi_label=True)
    assert loaded.task == model.task and loaded.task.thresholds == (0.25, 0.5, 0.75)
    assert loaded.labels == tags
    second = [text[::-1] for text in TEXTS]

    def probabilities(m):  # keras-hub reads a lone 2-tuple as (x, y): pass y=None
        return np.asarray(m(m.preprocessor((TEXTS, second), None), training=False))

    np.testing.assert_array_equal(probabilities(loaded), probabilities(model))


def test_saved_model_directory_round_trip(fake_hub, tmp_path):
    from helpers import TEXTS, tiny_model

    import tfx_textzoo as textzoo
    from tfx_textzoo.evaluation import predict_proba

    model = tiny_model("scratch-tiny", num_classes=2)
    saved = textzoo.saving.save_pretrained(model, tmp_path / "saved")
    push_to_hub(saved, "team/scratch", token=TOKEN)
    assert fake_hub.files("team/scratch") == local_files(saved)
    loaded = textzoo.load("hf://team/scratch")
    np.testing.assert_array_equal(predict_proba(loaded, TEXTS), predict_proba(model, TEXTS))


def test_private_flag_and_push_twice(fake_hub, tmp_path):
    saved = make_saved_dir(tmp_path / "saved")
    first = push_to_hub(saved, "me/tiny", token=TOKEN, private=True, commit_message="v1")
    assert fake_hub.repos["me/tiny"].private is True

    (saved / "textzoo.json").write_text('{"name": "bert-tiny", "labels": ["x", "y"]}\n', "utf-8")
    second = push_to_hub(saved, "me/tiny", token=TOKEN, private=False, commit_message="v2")
    commits = fake_hub.commits("me/tiny")
    assert [c.message for c in commits] == ["v1", "v2"]
    assert commits[1].parent == commits[0].oid
    assert (first, second) == tuple(f"{fake_hub.url}/me/tiny/commit/{c.oid}" for c in commits)
    assert fake_hub.repos["me/tiny"].private is True  # visibility only applies on creation
    assert fake_hub.files("me/tiny") == local_files(saved)
    # The unchanged weights were not uploaded again.
    assert sum(m == "PUT" for m, _ in paths_seen(fake_hub)) == 1

    # Nothing changed: no empty commit; the URL of the current commit is returned.
    third = push_to_hub(saved, "me/tiny", token=TOKEN)
    assert len(fake_hub.commits("me/tiny")) == 2 and third == second


def test_push_to_a_branch_and_an_organization(fake_hub, tmp_path):
    saved = make_saved_dir(tmp_path / "saved")
    push_to_hub(saved, "team/tiny", token=TOKEN)
    push_to_hub(saved / "assets", "team/tiny", token=TOKEN, revision="dev")
    assert set(fake_hub.files("team/tiny", "dev")) == set(local_files(saved)) | {
        "tokenizer/vocabulary.txt"
    }
    assert len(fake_hub.commits("team/tiny", "main")) == 1


def test_default_xet_client_path(fake_hub, tmp_path, monkeypatch):
    """With hf_xet installed (the default), upload_folder runs its Xet pipeline; a Hub that
    answers "regular" for every file gets them all inline, byte-identical."""
    pytest.importorskip("hf_xet")
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", False)
    fake_hub.regular_only = True
    saved = make_saved_dir(tmp_path / "saved", weights_size=5000)
    url = push_to_hub(saved, "me/tiny", token=TOKEN)
    assert fake_hub.files("me/tiny") == local_files(saved)
    assert url.endswith(fake_hub.commits("me/tiny")[-1].oid)
    assert fake_hub.lfs_paths("me/tiny") == set()


def test_token_from_environment_is_sent_and_never_printed(
    fake_hub, tmp_path, monkeypatch, capfd, caplog
):
    import logging

    monkeypatch.setenv("HF_TOKEN", TOKEN)
    caplog.set_level(logging.DEBUG)
    push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny")
    assert any(r.authorization == f"Bearer {TOKEN}" for r in fake_hub.requests)
    out, err = capfd.readouterr()
    assert TOKEN not in out + err + caplog.text


def _message_and_traceback(excinfo) -> str:
    return str(excinfo.value) + "".join(traceback.format_exception(excinfo.value))


def test_rejected_token_gives_login_advice(fake_hub, tmp_path, capfd):
    bad = "hf_revoked_token_value_123"
    with pytest.raises(HubError) as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny", token=bad)
    message = str(excinfo.value)
    assert "401" in message and "hf auth login" in message and "HF_TOKEN" in message
    assert excinfo.value.kind == "auth"
    assert fake_hub.url in message
    assert bad not in _message_and_traceback(excinfo) + "".join(capfd.readouterr())
    create = next(r for r in fake_hub.requests if r.path == "/api/repos/create")
    assert create.authorization == f"Bearer {bad}"


def test_rejected_stored_token_is_not_shown(fake_hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_stale_env_token_456")
    with pytest.raises(HubError, match="hf auth login") as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny")
    assert "hf_stale_env_token_456" not in _message_and_traceback(excinfo)


def test_no_token_refuses_before_the_network(fake_hub, tmp_path):
    with pytest.raises(HubError, match="not logged in") as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny")
    assert "hf auth login" in str(excinfo.value)
    assert fake_hub.requests == []


def test_no_write_access(fake_hub, tmp_path):
    fake_hub.create("someone-else/model", files={"README.md": b"# theirs\n"})
    with pytest.raises(HubError, match="no write access") as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "someone-else/model", token=TOKEN)
    assert "403" in str(excinfo.value) and "someone-else" in str(excinfo.value)
    assert excinfo.value.kind == "auth"
    with pytest.raises(HubError, match="no write access"):
        push_to_hub(tmp_path / "saved", "someone-else/new-model", token=TOKEN)
    assert fake_hub.files("someone-else/model") == {"README.md": b"# theirs\n"}


def test_unreachable_endpoint_is_named(fake_hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    monkeypatch.setattr(constants, "ENDPOINT", dead)
    start = time.monotonic()
    with pytest.raises(HubError, match="cannot reach") as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny", token=TOKEN)
    assert dead in str(excinfo.value) and excinfo.value.kind == "unreachable"
    assert TOKEN not in _message_and_traceback(excinfo)
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("var", ["TEXTZOO_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_refuses_fast(fake_hub, tmp_path, monkeypatch, var):
    monkeypatch.setenv(var, "1")
    start = time.monotonic()
    with pytest.raises(HubError, match="offline mode"):
        push_to_hub(tmp_path / "not-even-saved", "me/tiny", token=TOKEN)
    assert time.monotonic() - start < 1
    assert fake_hub.requests == []


def test_offline_in_huggingface_hub_constants_also_refuses(fake_hub, tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # HF_HUB_OFFLINE=1 at import time
    with pytest.raises(HubError, match="offline mode"):
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny", token=TOKEN)
    assert fake_hub.requests == []


@pytest.mark.parametrize(
    "repo_id",
    [
        "tiny",
        "me/",
        "/tiny",
        "me/tiny/extra",
        "me/has space",
        "me/tiny.git",
        "me/..x",
        "",
        None,
        "-me/tiny",
    ],
)
def test_bad_repo_id(fake_hub, tmp_path, repo_id):
    with pytest.raises(ValueError, match="owner/name"):
        push_to_hub(make_saved_dir(tmp_path / "saved"), repo_id, token=TOKEN)
    assert fake_hub.requests == []


def test_report_with_a_directory_is_refused(fake_hub, tmp_path):
    saved = make_saved_dir(tmp_path / "saved")
    with pytest.raises(ValueError, match="report=, license= describe"):
        push_to_hub(saved, "me/tiny", token=TOKEN, report={}, license="mit")
    assert fake_hub.requests == []


def test_bad_directory(fake_hub, tmp_path):
    with pytest.raises(FileNotFoundError, match="not a directory"):
        push_to_hub(tmp_path / "missing", "me/tiny", token=TOKEN)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no files"):
        push_to_hub(tmp_path / "empty", "me/tiny", token=TOKEN)
    assert fake_hub.requests == []


def test_hf_uri_in_a_fresh_process_uses_hf_endpoint(fake_hub, tmp_path):
    """What a user does: only HF_ENDPOINT set, nothing patched, a new Python process."""
    import json
    import os
    import subprocess
    import sys

    from helpers import TEXTS, tiny_model

    from tfx_textzoo.evaluation import predict_proba

    model = tiny_model("bert-tiny", labels=["a", "b", "c", "d"])
    push_to_hub(model, "me/fresh", token=TOKEN)
    expected = predict_proba(model, TEXTS)
    script = (
        "import json, sys; import tfx_textzoo as textzoo\n"
        "from tfx_textzoo.evaluation import predict_proba\n"
        "m = textzoo.load('hf://me/fresh')\n"
        "print(json.dumps({'labels': m.labels, "
        "'probs': predict_proba(m, json.loads(sys.argv[1])).tolist()}))\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TEXTZOO_OFFLINE", "HF_HUB_OFFLINE", "HF_TOKEN")
    }
    env.update(
        HF_ENDPOINT=fake_hub.url,
        TEXTZOO_HOME=str(tmp_path / "fresh_home"),
        HF_HOME=str(tmp_path / "fresh_hf_home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        # anything not on loopback goes to a closed port: the real Hub cannot be reached
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1",
    )
    before = len(fake_hub.requests)
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(TEXTS)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["labels"] == ["a", "b", "c", "d"]
    np.testing.assert_allclose(result["probs"], expected, atol=1e-6)
    assert any(r.path.startswith("/me/fresh/resolve/") for r in fake_hub.requests[before:])


# --------------------------------------------------------------------------- issue 13: symlinks


@pytest.fixture
def outside_secret(tmp_path) -> Path:
    """A private file and folder beside (not inside) the directory to push."""
    secret = tmp_path / "private" / "id_rsa"
    secret.parent.mkdir()
    secret.write_text("-----BEGIN OPENSSH PRIVATE KEY----- not for the Hub\n", "utf-8")
    return secret


@pytest.mark.parametrize(
    "link, target",
    [
        ("notes.txt", "absolute-file"),  # a link to a file outside, by absolute path
        ("assets/tokenizer/extra.txt", "relative-file"),  # nested, ../../../private/id_rsa
        ("keys", "folder"),  # a linked folder outside
        ("later.txt", "dangling"),  # points outside at nothing (yet)
    ],
)
def test_symlink_leaving_the_directory_is_refused(fake_hub, tmp_path, outside_secret, link, target):
    from tfx_textzoo.errors import UnsafePathError

    saved = make_saved_dir(tmp_path / "saved")
    path = saved / link
    if target == "absolute-file":
        path.symlink_to(outside_secret)
    elif target == "relative-file":
        path.symlink_to(Path("../../..") / "private" / "id_rsa")
        assert path.resolve() == outside_secret.resolve()
    elif target == "folder":
        path.symlink_to(outside_secret.parent, target_is_directory=True)
    else:
        path.symlink_to(tmp_path / "private" / "not-yet")
    with pytest.raises(UnsafePathError, match="symbolic link") as excinfo:
        push_to_hub(saved, "me/tiny", token=TOKEN)
    message = str(excinfo.value)
    assert link in message and "outside" in message and "cp -L" in message
    assert fake_hub.requests == []  # refused before any request
    assert "me/tiny" not in fake_hub.repos


def test_symlinks_are_all_named_and_links_inside_are_uploaded(fake_hub, tmp_path, outside_secret):
    from tfx_textzoo.errors import UnsafePathError

    saved = make_saved_dir(tmp_path / "saved")
    (saved / "a.txt").symlink_to(outside_secret)
    (saved / "assets" / "b").symlink_to(outside_secret.parent)
    (saved / "README-copy.md").symlink_to("README.md")  # inside: fine
    (saved / "vocab").symlink_to(saved / "assets" / "tokenizer")  # inside: fine
    with pytest.raises(UnsafePathError) as excinfo:
        push_to_hub(saved, "me/tiny", token=TOKEN)
    assert {Path(p).as_posix() for p in excinfo.value.links} == {"a.txt", "assets/b"}
    message = str(excinfo.value)
    assert "a.txt" in message and "assets/b" in message and "README-copy.md" not in message

    (saved / "a.txt").unlink()
    (saved / "assets" / "b").unlink()
    push_to_hub(saved, "me/tiny", token=TOKEN)
    stored = fake_hub.files("me/tiny")
    assert stored["README-copy.md"] == (saved / "README.md").read_bytes()
    assert not any(outside_secret.read_bytes() in data for data in stored.values())


def test_cli_push_refuses_a_symlink_leaving_the_directory(
    fake_hub, tmp_path, outside_secret, capfd
):
    from tfx_textzoo.cli import main

    saved = make_saved_dir(tmp_path / "saved")
    (saved / "assets" / "key").symlink_to(outside_secret)
    assert main(["push", str(saved), "me/tiny", "--token", TOKEN]) == 1
    err = capfd.readouterr().err
    assert "error: refusing to push" in err and "'assets/key' -> " in err
    assert "hint: replace each link named above with a copy of its target (`cp -L`)" in err
    assert fake_hub.requests == []


def test_pushing_a_symlink_to_a_directory_is_fine(fake_hub, tmp_path):
    saved = make_saved_dir(tmp_path / "saved")
    (tmp_path / "latest").symlink_to(saved, target_is_directory=True)
    push_to_hub(tmp_path / "latest", "me/tiny", token=TOKEN)
    assert fake_hub.files("me/tiny") == local_files(saved)


# ----------------------------------------------------------------- issue 13: the token never shows


def _exception_texts(err: BaseException) -> str:
    """Every text of ``err`` a user, a log or an error tracker could show.

    ``traceback.format_exception`` prints the chain as Python does; the walk below also reads
    each exception's args and a suppressed ``__context__`` (``raise ... from None`` only hides
    it from the printout).
    """
    texts = ["".join(traceback.format_exception(err))]
    seen: set[int] = set()
    todo = [err]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args)]
        texts += [str(note) for note in getattr(current, "__notes__", [])]
        todo += [current.__cause__, current.__context__]
    return "\n".join(texts)


ECHO_SCENARIOS = {
    # name: (repo_id, FakeHub.fail entries, FakeHub attributes, wrong token)
    "rejected-token": ("me/tiny", {}, {}, True),
    "no-write-access": ("someone-else/new-model", {}, {}, False),  # create 403 + repo_info 401
    "create-repo-500": ("me/tiny", {("POST", "/api/repos/create"): (500, "boom")}, {}, False),
    "preupload-400": (
        "me/tiny",
        {("POST", "/api/models/me/tiny/preupload"): (400, "bad")},
        {},
        False,
    ),
    "lfs-batch-403": (
        "me/tiny",
        {("POST", "/me/tiny.git/info/lfs/objects/batch"): (403, "no")},
        {},
        False,
    ),
    "lfs-object-error": ("me/tiny", {}, {"reject_lfs_objects": True}, False),  # a ValueError
    "commit-412": ("me/tiny", {("POST", "/api/models/me/tiny/commit"): (412, "later")}, {}, False),
}


def _echoing(fake_hub, scenario: str) -> str:
    """Put the fake Hub in echo mode for ``scenario``; return the repo id to push to."""
    repo_id, fail, attributes, _ = ECHO_SCENARIOS[scenario]
    fake_hub.echo_authorization = True
    fake_hub.fail.update(fail)
    for name, value in attributes.items():
        setattr(fake_hub, name, value)
    return repo_id


def _forget_forced_500s(fake_hub) -> None:
    """The fixture fails a test on any 5xx; the ones a scenario forced are expected."""
    fake_hub.errors[:] = [e for e in fake_hub.errors if e[3] != "boom"]


@pytest.mark.parametrize("source", ["argument", "HF_TOKEN"])
@pytest.mark.parametrize("scenario", sorted(ECHO_SCENARIOS))
def test_token_echoed_by_the_hub_never_shows(
    fake_hub, tmp_path, monkeypatch, capfd, caplog, recwarn, scenario, source
):
    import logging

    from tfx_textzoo.errors import TextzooError

    secret = "hf_echo_wrong_token_0987" if ECHO_SCENARIOS[scenario][3] else TOKEN
    repo_id = _echoing(fake_hub, scenario)
    caplog.set_level(logging.DEBUG)
    token = secret
    if source == "HF_TOKEN":
        monkeypatch.setenv("HF_TOKEN", secret)
        token = None
    with pytest.raises(HubError) as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), repo_id, token=token)
    _forget_forced_500s(fake_hub)
    err = excinfo.value
    assert isinstance(err, TextzooError) and isinstance(err, OSError)
    assert any(secret in echoed for echoed in fake_hub.echoed), "no error quoted the token"
    assert secret not in _exception_texts(err)
    assert "***" in str(err) or scenario in ("rejected-token", "create-repo-500")
    shown = "".join(capfd.readouterr()) + caplog.text + "".join(str(w.message) for w in recwarn)
    assert secret not in shown
    assert secret not in "".join(traceback.format_exception(err.__cause__ or err))


def test_failing_token_lookup_keeps_no_trace_of_the_token(fake_hub, tmp_path, monkeypatch):
    import huggingface_hub

    def get_token():
        raise RuntimeError(f"OIDC exchange failed for {TOKEN}")

    monkeypatch.setattr(huggingface_hub, "get_token", get_token)
    with pytest.raises(HubError, match="could not read a Hugging Face token") as excinfo:
        push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny")
    assert TOKEN not in _exception_texts(excinfo.value)
    assert fake_hub.requests == []


def test_masked_logs_masks_messages_arguments_and_exceptions(caplog):
    import logging

    from tfx_textzoo._secrets import masked_logs

    log = logging.getLogger("some.library")
    caplog.set_level(logging.DEBUG)
    before = logging.getLogRecordFactory()
    with masked_logs([TOKEN, None, ""]):
        log.warning("server saw %s", f"Bearer {TOKEN}")
        try:
            raise ValueError(f"echo {TOKEN}")
        except ValueError:
            log.exception("failed")
    log.warning("after: %s", TOKEN)  # outside the block: untouched
    assert logging.getLogRecordFactory() is before
    assert "server saw Bearer ***" in caplog.text and "ValueError: echo ***" in caplog.text
    assert caplog.text.count(TOKEN) == 1 and f"after: {TOKEN}" in caplog.text


def test_the_echoing_hub_does_leak_through_huggingface_hub(fake_hub):
    """Without push_to_hub's masking the token is in huggingface_hub's own exception."""
    from huggingface_hub import HfApi

    fake_hub.echo_authorization = True
    with pytest.raises(Exception) as excinfo:  # noqa: PT011 - any exception type
        HfApi(token=TOKEN).create_repo("someone-else/new-model", exist_ok=True)
    assert TOKEN in "".join(traceback.format_exception(excinfo.value))


def test_successful_push_masks_token_in_hub_warnings(fake_hub, tmp_path, capfd, caplog):
    """huggingface_hub logs a response's X-HF-Warning as is; the echoing Hub puts the
    token in one on every response."""
    import logging

    fake_hub.echo_authorization = True
    caplog.set_level(logging.DEBUG)
    push_to_hub(make_saved_dir(tmp_path / "saved"), "me/tiny", token=TOKEN)
    assert fake_hub.files("me/tiny")
    shown = "".join(capfd.readouterr()) + caplog.text
    assert "server saw Bearer ***" in shown  # the warnings are kept, masked
    assert TOKEN not in shown


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("source", ["--token", "HF_TOKEN"])
@pytest.mark.parametrize("scenario", ["no-write-access", "lfs-object-error"])
def test_cli_push_never_prints_the_token(
    fake_hub, tmp_path, monkeypatch, capfd, caplog, scenario, source, debug
):
    """In this process; huggingface_hub's own log handler may hold a stale stderr, so the
    log records are read from caplog (the next test reads a real process's stderr)."""
    import logging

    from tfx_textzoo.cli import main

    caplog.set_level(logging.DEBUG)

    repo_id = _echoing(fake_hub, scenario)
    saved = make_saved_dir(tmp_path / "saved")
    args = ["--debug"] * debug + ["push", str(saved), repo_id]
    if source == "--token":
        args += ["--token", TOKEN]
    else:
        monkeypatch.setenv("HF_TOKEN", TOKEN)
    if debug:
        with pytest.raises(HubError) as excinfo:  # --debug re-raises: Python prints the chain
            main(args)
        shown = _exception_texts(excinfo.value)
    else:
        assert main(args) == 1
        shown = ""
    out, err = capfd.readouterr()
    assert TOKEN not in shown + out + err + caplog.text
    if not debug:
        assert err.startswith("error: ") and "hint: " in err
    assert any(r.authorization == f"Bearer {TOKEN}" for r in fake_hub.requests)


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_cli_push_in_a_fresh_process_never_prints_the_token(fake_hub, tmp_path, debug):
    """What a user sees: the console script in a new process, Python printing the traceback."""
    import os
    import subprocess
    import sys

    repo_id = _echoing(fake_hub, "no-write-access")
    saved = make_saved_dir(tmp_path / "saved")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TEXTZOO_"))}
    env.update(
        HF_ENDPOINT=fake_hub.url,
        HF_HOME=str(tmp_path / "fresh_hf_home"),
        TEXTZOO_HOME=str(tmp_path / "fresh_home"),
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HTTPS_PROXY="http://127.0.0.1:9",  # the real Hub cannot be reached
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="127.0.0.1",
    )
    args = ["push", str(saved), repo_id]
    if debug:
        args = ["--debug", *args, "--token", TOKEN]
    else:
        env["HF_TOKEN"] = TOKEN
    before = len(fake_hub.requests)
    out = subprocess.run(
        [sys.executable, "-c", "import sys; from tfx_textzoo.cli import main; sys.exit(main())"]
        + args,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 1, out.stderr[-3000:]
    assert any(r.authorization == f"Bearer {TOKEN}" for r in fake_hub.requests[before:])
    assert TOKEN not in out.stdout + out.stderr
    if debug:
        assert "Traceback (most recent call last)" in out.stderr
        assert "HubError: no write access to someone-else/new-model" in out.stderr
    else:
        assert "\nerror: no write access to someone-else/new-model" in out.stderr


@pytest.mark.parametrize("how", ["weights", "saved"])
def test_download_echoing_the_token_never_shows_it(fake_hub, monkeypatch, capfd, caplog, how):
    """hf:// downloads (pretrained weights, or a saved model) fail on a repo the token cannot
    read; the echoing Hub quotes the token in its 404, which must not reach the error."""
    import logging

    import tfx_textzoo as textzoo
    from tfx_textzoo.weights import WeightsNotFoundError

    caplog.set_level(logging.DEBUG)
    fake_hub.echo_authorization = True
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    expected = WeightsNotFoundError if how == "weights" else FileNotFoundError
    with pytest.raises(expected) as excinfo:
        if how == "weights":
            textzoo.load("bert-tiny", num_classes=2, weights="hf://someone-else/private")
        else:
            textzoo.load("hf://someone-else/private")
    assert any(TOKEN in echoed for echoed in fake_hub.echoed), "no response quoted the token"
    assert "someone-else/private" in str(excinfo.value)
    shown = _exception_texts(excinfo.value) + "".join(capfd.readouterr()) + caplog.text
    assert TOKEN not in shown
