"""Keep secrets (Hub tokens) out of every message, exception chain and log line.

A server may repeat what it was sent (an ``Authorization`` header) in an error body or a
response header, and ``huggingface_hub`` and ``httpcore`` copy those into exception
messages and log records. Masking must happen where such text is kept: `mask` for a
message, `masked_copy` for an exception chain to keep as a cause, and
`masked_logs` for the log records created while a secret is in use.

This module imports only the standard library.

Examples:
    >>> mask("401: bad token hf_abc123 (Bearer hf_abc123)", ["hf_abc123", None])
    '401: bad token *** (Bearer ***)'
    >>> try:
    ...     raise ValueError("server said: hf_abc123")
    ... except ValueError as err:
    ...     copy = masked_copy(err, ["hf_abc123"])
    >>> "hf_abc123" in str(copy), str(copy).splitlines()[-1]
    (False, 'ValueError: server said: ***')
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Iterable, Iterator

#: What a secret is replaced with.
MASK = "***"


class MaskedTraceback(Exception):  # noqa: N818 - it is not an error, only its printed text
    """The printed chain of an exception with its secrets masked, kept as a ``__cause__``.

    Raise a clean error ``from`` it instead of from the original, so that a traceback (a
    ``--debug`` run, ``traceback.format_exception``) still shows where and why a call
    failed, without the secret the original's message, args or causes may hold.
    """


def mask(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each non-empty secret replaced by `MASK`.

    Args:
        text: Any message.
        secrets: The secrets to hide; ``None`` and empty strings are skipped.

    Returns:
        The masked text.
    """
    for secret in _present(secrets):
        text = text.replace(secret, MASK)
    return text


def masked_copy(err: BaseException, secrets: Iterable[str | None]) -> MaskedTraceback:
    """A `MaskedTraceback` holding ``err``'s printed chain, its secrets masked.

    Args:
        err: The exception whose traceback, message and causes (as Python prints them) to
            copy. No reference to it is kept.
        secrets: The secrets to hide.

    Returns:
        The copy, whose message is the masked printout (ending with ``err``'s own line).
    """
    printed = "".join(traceback.format_exception(err)).rstrip("\n")
    return MaskedTraceback(
        "the original error, as Python printed it, secrets masked:\n" + mask(printed, secrets)
    )


@contextlib.contextmanager
def masked_logs(secrets: Iterable[str | None]) -> Iterator[None]:
    """Mask the secrets in every log record created inside the block, in any thread.

    The record factory is process-wide, so records from any library (``huggingface_hub``
    logs a response's ``X-HF-Warning`` header as is; ``httpcore`` logs response headers at
    DEBUG level) and from worker threads are masked before any handler, filter or test
    capture sees them: the message is formatted and masked, and an attached exception is
    replaced by its masked printout.

    Args:
        secrets: The secrets to hide.

    Yields:
        Nothing; the previous record factory is restored on exit.
    """
    present = _present(secrets)
    if not present:
        yield
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string: keep what can be shown
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = mask(message, present), None
        if record.exc_info:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info), present)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = mask(record.stack_info, present)
        return record

    logging.setLogRecordFactory(factory)
    try:
        yield
    finally:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(previous)


def _present(secrets: Iterable[str | None]) -> list[str]:
    # Longest first, so a secret that contains another is masked whole.
    return sorted({s for s in secrets if isinstance(s, str) and s}, key=len, reverse=True)
