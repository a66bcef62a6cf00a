"""Publishing to the Hugging Face Hub: [`push_to_hub`][tfx_textzoo.hub.push_to_hub].

A model is saved with [`tfx_textzoo.saving.save_pretrained`][tfx_textzoo.saving.save_pretrained] (a
keras-hub preset,
``textzoo.json`` and a model card ``README.md``) into a temporary directory, which is then
uploaded in one commit with ``huggingface_hub``. ``tfx_textzoo.load("hf://OWNER/NAME")``
loads it back on any machine, with its [`Task`][tfx_textzoo.tasks.Task] (multi-label
thresholds, text pairs, truncation) and a model card that describes it.

Authentication is left to ``huggingface_hub``: the ``token`` argument, else the
``HF_TOKEN`` environment variable, else the token stored by ``hf auth login``. ``HF_ENDPOINT``
selects another Hub. Nothing is sent in offline mode (``TEXTZOO_OFFLINE=1`` or
``HF_HUB_OFFLINE=1``).

Two rules keep publishing safe:

- **The token never shows.** A Hub (or a proxy) may echo the ``Authorization`` header in an
  error, and ``huggingface_hub`` copies server text into its exceptions and logs. So every
  failure of the upload is raised as a [`HubError`][tfx_textzoo.hub.HubError] built from masked
  text, whose
  ``__cause__`` is a masked printout of the original chain (see
  `tfx_textzoo._secrets`): no exception that holds the token is kept or chained, and
  log records created during the push (any library, any thread) are masked too.
- **Only the directory is uploaded.** ``huggingface_hub`` reads through symbolic links, so a
  link to ``~/.ssh/id_rsa`` inside a saved directory would publish the key. Every symbolic
  link under the directory must resolve to an existing file or folder inside it (such links
  are uploaded as copies of their target); otherwise
  [`SymlinkOutsideError`][tfx_textzoo.hub.SymlinkOutsideError] names
  them all before any request is sent.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from tfx_textzoo._files import atomic_write_text
from tfx_textzoo._secrets import mask, masked_copy, masked_logs
from tfx_textzoo.errors import InvalidArgumentError, TextzooError, UnsafePathError
from tfx_textzoo.weights import is_offline

_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")

#: How to authenticate; appended to every authentication error.
LOGIN_ADVICE = (
    "Log in once with `hf auth login` (it stores a token), or set the HF_TOKEN environment "
    "variable, or pass token=...; create a token with the 'write' role at "
    "https://huggingface.co/settings/tokens."
)


class HubError(TextzooError, OSError):
    """Publishing to the Hub failed: offline, not logged in, no write access, or unreachable.

    Its message and its ``__cause__`` (a `tfx_textzoo._secrets.MaskedTraceback`, the
    masked printout of the original error) never contain the token.

    Attributes:
        kind: What failed, for callers that advise on it: ``"offline"``, ``"auth"`` (no
            token, or one rejected with 401/403), ``"unreachable"``, ``"refused"`` (any
            other answer of the Hub) or ``"other"``.
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


class SymlinkOutsideError(UnsafePathError):
    """A directory to push holds symbolic links that lead outside it (or nowhere).

    Attributes:
        links: Each such link's path relative to the directory (``"assets/key"``) mapped to
            its target as written in the link (``"/home/me/.ssh/id_rsa"``).
    """

    def __init__(self, message: str, links: dict[str, str]) -> None:
        super().__init__(message)
        self.links = links


def push_to_hub(
    model: Any,
    repo_id: str,
    *,
    report: Any = None,
    history: Any = None,
    dataset: str | None = None,
    license: str | None = None,  # noqa: A002 - the model card's name for it
    private: bool = False,
    token: str | None = None,
    commit_message: str | None = None,
    revision: str | None = None,
) -> str:
    """Upload a model (or an already-saved directory) to a Hugging Face Hub model repo.

    The repo is created when it does not exist yet (an existing one is reused; each push is
    a new commit, and files that did not change are not uploaded again). A model is first
    saved with [`tfx_textzoo.saving.save_pretrained`][tfx_textzoo.saving.save_pretrained], its model
    card naming
    ``repo_id``; a directory is uploaded as it is. Load the result with
    ``tfx_textzoo.load("hf://" + repo_id)``.

    Args:
        model: A zoo classifier (``keras.Model``), or the path of a directory written by
            [`tfx_textzoo.saving.save_pretrained`][tfx_textzoo.saving.save_pretrained] (or any
            directory to upload as is).
        repo_id: ``"owner/name"``: your user name or an organization you can write to.
        report: Optional [`tfx_textzoo.Report`][tfx_textzoo.Report] shown in the model card. This
            and the
            next three arguments are for a model only (a directory already has its card).
        history: Optional [`tfx_textzoo.FinetuneHistory`][tfx_textzoo.FinetuneHistory] for the model
            card.
        dataset: Optional training data set name for the model card.
        license: Optional licence for the model card (default: the catalog entry's).
        private: Create the repo as private. Ignored when the repo already exists.
        token: A Hugging Face token with write access. ``None`` (default) uses ``HF_TOKEN``
            or the token stored by ``hf auth login``.
        commit_message: The commit's summary (default: ``"Upload <name> with tfx_textzoo"``).
        revision: Branch to commit to (created from ``main`` when missing); default ``main``.

    Returns:
        The URL of the new commit (``.../OWNER/NAME/commit/<sha>``).

    Raises:
        ValueError: ``repo_id`` is not ``"owner/name"``, or card arguments with a directory.
        FileNotFoundError: ``model`` is a path that is not an existing, non-empty directory.
        SymlinkOutsideError: The directory holds a symbolic link that does not resolve to an
            existing file or folder inside it (all are named); nothing was sent. A
            [`tfx_textzoo.errors.UnsafePathError`][tfx_textzoo.errors.UnsafePathError], so also a
            ``ValueError``.
        HubError: Offline mode, no token or a rejected one (401), no write access to the
            owner (403), the Hub is unreachable, or it refused the upload; any other failure
            while talking to the Hub too. The message says what to do; neither it nor the
            exception chain contains the token.

    Examples:
        >>> import os
        >>> from unittest import mock
        >>> from tfx_textzoo.hub import HubError, push_to_hub
        >>> with mock.patch.dict(os.environ, {"TEXTZOO_OFFLINE": "1"}):
        ...     try:
        ...         push_to_hub("out/ag-news-small-bert", "me/ag-news-small-bert")
        ...     except HubError as err:
        ...         print(str(err).split(":")[0])
        offline mode is on (TEXTZOO_OFFLINE / HF_HUB_OFFLINE)
        >>> try:
        ...     push_to_hub("out/ag-news-small-bert", "ag news")
        ... except ValueError as err:
        ...     print(str(err).split(": owner")[0])
        repo_id must be 'owner/name' (letters, digits, '-', '_', '.'), got 'ag news'
        >>> url = push_to_hub(model, "me/ag-news-small-bert", report=report)  # doctest: +SKIP
    """
    check_repo_id(repo_id)
    if is_offline() or _hf_offline():
        raise HubError(
            "offline mode is on (TEXTZOO_OFFLINE / HF_HUB_OFFLINE): push_to_hub needs the "
            f"network to upload to {repo_id}. Unset both variables to publish, or save locally "
            "with tfx_textzoo.saving.save_pretrained(model, DIR) and push DIR later.",
            kind="offline",
        )
    source = _as_directory(model) if isinstance(model, str | os.PathLike) else None
    card_args = {"report": report, "history": history, "dataset": dataset, "license": license}
    if source is not None and any(value is not None for value in card_args.values()):
        given = ", ".join(f"{k}=" for k, v in card_args.items() if v is not None)
        raise ValueError(
            f"{given} describe a model in its card; a saved directory is uploaded as is "
            "(save it again with them to change its card)"
        )

    import huggingface_hub

    api = huggingface_hub.HfApi(token=token)
    secrets = [token, _stored_token() if token is None else None]
    if token is None and secrets[1] is None:
        raise HubError(
            f"not logged in to the Hugging Face Hub ({api.endpoint}). {LOGIN_ADVICE}", kind="auth"
        )

    failure: tuple[HubError, BaseException] | None = None
    with tempfile.TemporaryDirectory(prefix="textzoo-push-") as tmp, masked_logs(secrets):
        if source is None:
            source = _save_for_hub(
                model, Path(tmp) / "model", repo_id, report, history, dataset, license
            )
        message = commit_message or f"Upload {_display_name(model, source)} with tfx_textzoo"
        try:
            api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
            if revision not in (None, "main") and not revision.startswith("refs/pr/"):
                api.create_branch(repo_id, branch=revision, exist_ok=True, repo_type="model")
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=source,
                repo_type="model",
                commit_message=message,
                revision=revision,
            )
        except Exception as err:  # noqa: BLE001 - every failure may quote the token
            # Keep masked text only: raising inside this block would chain `err` (and the
            # server text it quotes) as __context__.
            text, kind = _explain(err, api.endpoint, repo_id)
            failure = HubError(mask(text, secrets), kind), masked_copy(err, secrets)
    if failure is not None:
        error, cause = failure
        raise error from cause
    return str(info.commit_url)


def check_repo_id(repo_id: Any) -> None:
    """Refuse a ``repo_id`` that is not ``owner/name`` as the Hub spells it.

    Args:
        repo_id: The repository id to check.

    Raises:
        tfx_textzoo.errors.InvalidArgumentError: (a ``ValueError``) it is not a valid id.

    Examples:
        >>> check_repo_id("me/ag-news-small-bert")
        >>> check_repo_id("ag news")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        tfx_textzoo.errors.InvalidArgumentError: repo_id must be 'owner/name' (letters, ...
    """
    if (
        not isinstance(repo_id, str)
        or not _REPO_ID.fullmatch(repo_id)
        or ".." in repo_id
        or repo_id.endswith((".git", ".", "-"))
    ):
        raise InvalidArgumentError(
            "repo_id",
            repo_id,
            "'owner/name' (letters, digits, '-', '_', '.')",
            "owner is your Hugging Face user name or an organization you can write to, e.g. "
            "'me/ag-news-small-bert'",
        )


def _hf_offline() -> bool:
    try:
        from huggingface_hub import constants
    except ImportError:  # pragma: no cover - a dependency
        return False
    return bool(constants.is_offline_mode())


def _stored_token() -> str | None:
    """The token huggingface_hub would use (HF_TOKEN or the stored login), never shown."""
    import huggingface_hub

    try:
        return huggingface_hub.get_token()
    except Exception as err:  # noqa: BLE001 - e.g. a failed OIDC exchange
        failed = type(err).__name__  # its message may quote a token: keep only the type
    raise HubError(f"could not read a Hugging Face token ({failed}). {LOGIN_ADVICE}", kind="auth")


def _as_directory(path: str | os.PathLike) -> str:
    directory = Path(os.path.expanduser(os.fspath(path)))
    if not directory.is_dir():
        raise FileNotFoundError(
            f"{directory} is not a directory; pass a model, or a directory written by "
            "tfx_textzoo.saving.save_pretrained"
        )
    leaving = _links_leaving(directory)
    if leaving:
        shown = ", ".join(f"{link!r} -> {target}" for link, target in leaving.items())
        raise SymlinkOutsideError(
            f"refusing to push {directory}: {len(leaving)} symbolic link(s) in it lead outside "
            f"it (or to nothing), and the Hub would get what they point to: {shown}. Nothing "
            "was uploaded. Replace each link with a copy of its target (`cp -L`) or remove "
            "it; links to files or folders inside the directory are fine.",
            leaving,
        )
    if not any(p.is_file() for p in directory.rglob("*")):
        raise FileNotFoundError(f"{directory} has no files to upload")
    return str(directory)


def _links_leaving(directory: Path) -> dict[str, str]:
    """Each symbolic link under ``directory`` not resolving inside it: relative path -> target.

    A link is followed to its final target (through any links on the way). It is fine when
    that is an existing file or folder inside ``directory``; it is returned when it is
    outside, missing (a dangling link could be pointed anywhere later) or a loop. Linked
    folders are not walked into: one that leads inside holds nothing new, one that leads
    outside is returned.
    """
    root = directory.resolve()
    leaving = {}
    for folder, dirnames, filenames in os.walk(root):  # followlinks=False
        for name in sorted(dirnames + filenames):
            path = Path(folder, name)
            if not path.is_symlink():
                continue
            try:
                inside = path.resolve(strict=True).is_relative_to(root)
            except (OSError, RuntimeError):  # missing target, or a loop (RuntimeError < 3.13)
                inside = False
            if not inside:
                leaving[path.relative_to(root).as_posix()] = os.readlink(path)
    return leaving


def _save_for_hub(model, path: Path, repo_id, report, history, dataset, license) -> str:  # noqa: A002
    from tfx_textzoo import saving

    saving.save_pretrained(
        model, path, report=report, history=history, dataset=dataset, license=license
    )
    # The saved card does not know where it will live: regenerate it with the repo id.
    card = saving.model_card(
        model, report=report, history=history, repo_id=repo_id, dataset=dataset, license=license
    )
    atomic_write_text(path / "README.md", str(card))
    return str(path)


def _display_name(model: Any, source: str) -> str:
    if isinstance(model, str | os.PathLike):
        return Path(source).name
    return getattr(model, "name", None) or "model"


def _explain(err: Exception, endpoint: str, repo_id: str) -> tuple[str, str]:
    """What went wrong in a failed Hub call, what to do, and the failure's kind.

    The text is unmasked: mask it before use. The kind is a `HubError.kind`.
    """
    import httpx2
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    owner = repo_id.split("/")[0]
    kind = "other"
    if isinstance(err, OfflineModeIsEnabled):
        kind = "offline"
        text = "offline mode is on (HF_HUB_OFFLINE): nothing was uploaded"
    elif isinstance(err, HfHubHTTPError) and err.response is not None:
        status = err.response.status_code
        server = (err.server_message or "").strip()
        said = f" The Hub said: {server}" if server else ""
        kind = "auth" if status in (401, 403) else "refused"
        if status == 401:
            text = (
                f"the Hugging Face Hub at {endpoint} rejected the token (401 Unauthorized) "
                f"while uploading to {repo_id}: it is missing, invalid or expired.{said} "
                f"{LOGIN_ADVICE}"
            )
        elif status == 403:
            text = (
                f"no write access to {repo_id} (403 Forbidden): the token cannot create or "
                f"write repos under '{owner}'. Use a token with the 'write' role that belongs "
                f"to '{owner}' (or to a member of that organization), or push to your own "
                f"namespace.{said}"
            )
        elif status == 404:
            text = f"{repo_id} or its revision was not found at {endpoint} (404).{said}"
        else:
            text = f"the Hub at {endpoint} refused the upload to {repo_id} ({status}).{said}"
    elif isinstance(err, httpx2.TransportError | ConnectionError | TimeoutError):
        kind = "unreachable"
        text = (
            f"cannot reach the Hugging Face Hub at {endpoint} ({type(err).__name__}): check the "
            "network connection, proxy settings and HF_ENDPOINT; nothing was published to "
            f"{repo_id}"
        )
    else:
        text = f"the upload to {repo_id} at {endpoint} failed ({type(err).__name__}): {err}"
    return text, kind
