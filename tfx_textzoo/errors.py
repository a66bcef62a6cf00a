"""The errors tfx_textzoo raises for problems the user can fix.

Every such error derives from [`TextzooError`][tfx_textzoo.errors.TextzooError] and from the
built-in type a caller
would catch without knowing this package (``ValueError``, ``OSError``, ...), so
``except ValueError`` keeps working. The command line maps these types, never message
text, to its ``error:`` / ``hint:`` lines.

This module imports nothing heavy: the CLI and ``import tfx_textzoo`` may use it freely.

Examples:
    >>> from tfx_textzoo.errors import InvalidArgumentError
    >>> err = InvalidArgumentError("learning_rate", float("inf"), "a finite number > 0")
    >>> str(err)
    'learning_rate must be a finite number > 0, got inf'
    >>> err.argument, isinstance(err, ValueError)
    ('learning_rate', True)
"""

from __future__ import annotations

from typing import Any


class TextzooError(Exception):
    """Base class of the errors a user can fix (bad input, data, files, settings)."""


class InvalidArgumentError(TextzooError, ValueError):
    """A public argument has the wrong type or a value out of range.

    Attributes:
        argument: The argument's name as the user passed it (``learning_rate``).
        value: The value passed.
        expected: What it must be (``"a finite number > 0"``).
        detail: Why, or what to do instead (may be empty).
    """

    def __init__(self, argument: str, value: Any, expected: str, detail: str = "") -> None:
        self.argument = argument
        self.value = value
        self.expected = expected
        self.detail = detail
        message = f"{argument} must be {expected}, got {value!r}"
        super().__init__(f"{message}{': ' + detail if detail else ''}")


class InvalidArgumentTypeError(InvalidArgumentError, TypeError):
    """A public argument of the wrong type (both a ``ValueError`` and a ``TypeError``).

    ``except TypeError`` code written before
    [`InvalidArgumentError`][tfx_textzoo.errors.InvalidArgumentError] existed keeps
    working, and so does ``except InvalidArgumentError``.
    """


class LabelMismatchError(TextzooError, ValueError):
    """The data's class names do not match the model's (different sets, unknown names)."""


class SingleClassError(TextzooError, ValueError):
    """The training data holds one class only: a classifier needs at least two."""


class ArchitectureMismatchError(TextzooError, ValueError):
    """Weights whose architecture contradicts the model name they were loaded under."""


class CorruptModelError(TextzooError, ValueError):
    """A saved model directory is incomplete, altered, inconsistent or unsafe to read."""


class UnsafePathError(CorruptModelError):
    """A path read from a saved directory's metadata points outside that directory."""


class OutputNotWritableError(TextzooError, OSError):
    """An output location (``--output``, ``checkpoint_dir``, a plot path) cannot be written."""


class TrainingDivergedError(TextzooError, FloatingPointError):
    """The training loss became NaN or infinite; the weights of that step are unusable."""


class UnknownNameError(TextzooError, ValueError):
    """A name (of a model, a dataset) that the zoo does not know; close matches are named.

    Attributes:
        name: The name as the user passed it.
        problem: What is wrong (the name, close matches, the known names).
        advice: How to fix it in Python (may be empty); the command line gives its own.
    """

    def __init__(self, problem: str, name: str = "", advice: str = "") -> None:
        super().__init__(f"{problem} {advice}" if advice else problem)
        self.name = name
        self.problem = problem
        self.advice = advice


class UnknownModelError(UnknownNameError):
    """A model name that is not in the catalog (``textzoo list`` shows every name)."""


class UnknownDatasetError(UnknownNameError):
    """A dataset name that `tfx_textzoo.datasets.list_datasets` does not list."""
