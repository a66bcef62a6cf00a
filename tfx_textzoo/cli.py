"""The ``textzoo`` command: list, describe, fine-tune, evaluate, predict, export, publish.

::

    textzoo list [PATTERN] [--json]
    textzoo info NAME [--json]
    textzoo env [--json]
    textzoo train NAME --dataset DATASET --output DIR [options]
    textzoo evaluate DIR --dataset DATASET [--split test] [--plot PATH] [--json]
    textzoo predict DIR TEXT... | --file FILE [--encoding ENC] [--top-k K] [--json]
    textzoo export DIR SERVING_DIR [--overwrite]
    textzoo push DIR REPO_ID [--private] [--token TOKEN]

Results go to stdout (a table, or JSON with ``--json``); progress bars and logs go to
stderr, so ``textzoo ... --json > result.json`` holds only JSON.

Beyond one label per short text: ``train --multi-label`` (labels joined by
``--label-delimiter``, default ``|``, or several 0/1 ``--label-column``), pairs with
``--text-pair-column`` (the named datasets rte and mrpc are pairs, goemotions is
multi-label, by themselves), ``--truncation head|tail|head+tail``; ``predict`` prints
label sets (``toxic, insult``, ``(none)``) and reads pairs as ``first<TAB>second``;
``evaluate`` and ``predict`` read long texts in windows with ``--long-text chunks``
(``--aggregate``, ``--stride``); ``evaluate`` of a multi-label model writes a per-label
plot instead of a confusion matrix.

``list``, ``info`` and ``--help`` read the catalog's TOML files only and answer at once;
the commands that build or load a model import TensorFlow when they start, with its
start-up log lines (oneDNN, CUDA drivers, CPU features, ``cuInit``) held back unless
``--verbose`` or ``--debug`` is given. Anything else written to stderr while TensorFlow
starts is shown.

Exit codes: 0 success; 1 a user error (unknown model or dataset, missing or malformed
data, one-class data, a directory that is not a saved model, an existing, unwritable or
full output location, diverged training, offline push...), reported as ``error: ...``
and ``hint: ...`` lines on stderr without a traceback (``--debug`` shows it); 2 a usage
error (unknown option, missing argument), as Click reports it. Every output location is
checked before any data is read or any model loaded.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import numpy as np

#: Files 'textzoo train' writes into the output directory beside the saved model.
REPORT_MARKDOWN = "report.md"
REPORT_JSON = "report.json"
CONFUSION_PNG = "confusion_matrix.png"
#: The plot of a multi-label model, written instead of the confusion matrix.
PER_LABEL_PNG = "per_label.png"
#: What separates the labels of one text in a multi-label csv column, unless
#: --label-delimiter says otherwise: ``|`` rather than ``,``, which would need quoting.
DEFAULT_LABEL_DELIMITER = "|"
#: The --truncation choices (``tasks.Task.truncation``).
TRUNCATIONS = ("head", "tail", "head+tail")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``textzoo`` command line (the console script) and return its exit code.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        0 on success, 1 for a user error (an ``error:`` and a ``hint:`` line on
        stderr), 2 for a usage error.

    Examples:
        >>> from tfx_textzoo.cli import main
        >>> main(["list", "bert-base-c*", "--json"])  # doctest: +ELLIPSIS
        [
          {
            "name": "bert-base-cased",
        ...
        0
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="textzoo", standalone_mode=False)
    except click.UsageError as err:
        err.show()
        return 2
    except click.Abort:
        click.echo("aborted", err=True)
        return 130
    except BrokenPipeError:  # e.g. `textzoo list | head`: the reader left, nothing to say
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except UserError as err:
        err.show()
        return 1
    except Exception as err:
        user_error = _as_user_error(err, args)
        if user_error is None or "--debug" in args or os.environ.get("TEXTZOO_DEBUG"):
            raise
        user_error.show()
        return 1
    return result if isinstance(result, int) else 0


class UserError(click.ClickException):
    """A mistake the user can fix: shown as ``error:`` and ``hint:`` lines, exit code 1."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def show(self, file: Any = None) -> None:
        """Print ``error: <first line>``, the message's other lines indented, ``hint:``.

        Examples:
            >>> import sys
            >>> from tfx_textzoo.cli import UserError
            >>> UserError("no such thing", "try another").show(sys.stdout)
            error: no such thing
            hint: try another
        """
        file = sys.stderr if file is None else file
        first, *rest = str(self.message).strip().splitlines() or [""]
        click.echo(f"error: {first}", file=file)
        for line in rest:
            click.echo(f"  {line}" if line.strip() else "", file=file)
        if self.hint:
            click.echo(f"hint: {self.hint}", file=file)


def _examples(*lines: str) -> str:
    r"""A help epilog that Click prints as is (a ``\b`` line stops it from rewrapping)."""
    return "\b\nExamples:\n" + "\n".join(f"  $ {line}" for line in lines)


_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_GROUP_HELP = """A Keras 3 model zoo for text classification.

Pick a model by name ('textzoo list'), fine-tune it on a dataset and save it ('textzoo
train'), then evaluate, predict, export or publish the saved directory. Results go to
stdout, progress and logs to stderr. Exit codes: 0 ok, 1 a user error (an 'error:' and a
'hint:' line), 2 a usage error. Set TEXTZOO_OFFLINE=1 never to touch the network.
TensorFlow's start-up log lines are hidden unless --verbose or --debug is given.
"""
_JSON_HELP = "Print JSON on stdout instead of a table (logs and progress stay on stderr)."
_ENCODING_HELP = "The encoding of a .csv/.tsv --dataset file, e.g. latin-1."

_PRECISION_OPTION = click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "mixed_bfloat16"]),
    default="auto",
    show_default=True,
    help="What the backbone computes in: 'auto' is mixed_bfloat16 on a CPU with native "
    "bfloat16 (AVX512_BF16, AMX) and no GPU, else float32.",
)


@click.group(
    context_settings=_CONTEXT,
    help=_GROUP_HELP,
    epilog=_examples(
        "textzoo list 'small-bert*'",
        "textzoo info all-minilm-l6-v2",
        "textzoo train scratch-small --dataset ag_news-sample --output runs/demo",
        "textzoo evaluate runs/demo --dataset ag_news-sample --split test",
        'textzoo predict runs/demo "Stocks rallied on Friday" --top-k 2',
        "textzoo export runs/demo serving/demo",
        "textzoo push runs/demo me/ag-news-demo --private",
    ),
)
@click.version_option(package_name="tfx_textzoo", prog_name="textzoo")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the full traceback of an error (or set TEXTZOO_DEBUG=1); implies --verbose.",
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show TensorFlow's start-up and C++ log lines (hidden by default).",
)
def cli(debug: bool, verbose: bool) -> None:
    """The ``textzoo`` command group; `main` runs it and turns errors into exit codes.

    Examples:
        >>> from click.testing import CliRunner
        >>> from tfx_textzoo.cli import cli
        >>> result = CliRunner().invoke(cli, ["list", "scratch-t*"])
        >>> result.exit_code, result.output.splitlines()[2].split()[:2]
        (0, ['scratch-tiny', 'scratch'])
    """
    _STATE["verbose"] = verbose or debug or bool(os.environ.get("TEXTZOO_DEBUG"))


# --- list / info ---------------------------------------------------------------------------


@cli.command(
    "list",
    short_help="List model names, optionally filtered by a wildcard.",
    epilog=_examples(
        "textzoo list",
        "textzoo list 'small-bert-L4*'",
        "textzoo list 'scratch-*' --json",
    ),
)
@click.argument("pattern", required=False)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _list_command(pattern: str | None, as_json: bool) -> None:
    """List the zoo's model names (aliases included), optionally those matching PATTERN.

    PATTERN is a shell-style wildcard (fnmatch, case-insensitive), e.g. 'small-bert*'.
    Names are in natural order (small-bert-L2 before small-bert-L10). The table shows
    each model's family, parameter count (with a 2-class head), the formats of its
    pretrained weight sources (the catalog's names: keras_hub, hf, bert_tf_checkpoint,
    tfhub, ...; 'textzoo info NAME' lists each source), and its licence.
    """
    textzoo = _textzoo()
    rows = []
    for name in sorted(textzoo.list_models(pattern), key=natural_key):
        info = _model_info(name)
        rows.append(
            {
                "name": name,
                "alias_of": info["name"] if info["name"] != name else None,
                "family": info["family"],
                "params": info.get("params"),
                "sources": info.get("sources", []),
                "license": info.get("license"),
                "aliases": info.get("aliases", []),
            }
        )
    if as_json:
        _print_json(rows)
        return
    if not rows:
        click.echo(f"no model name matches {pattern!r}; `textzoo list` shows them all", err=True)
        return
    table = [
        [
            r["name"],
            r["family"],
            _human_count(r["params"]),
            _source_formats(r["sources"]),
            r["license"] or "-",
            r["alias_of"] or "",
        ]
        for r in rows
    ]
    click.echo(_table(["name", "family", "params", "sources", "license", "alias of"], table))


@cli.command(
    "info",
    short_help="Describe a model: size, weights, licence, defaults.",
    epilog=_examples("textzoo info small-bert-L4", "textzoo info scratch-small --json"),
)
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _info_command(name: str, as_json: bool) -> None:
    """Describe model NAME: family, size, architecture, weight sources, licence, citation.

    Also shows the fine-tuning defaults that 'textzoo train' uses for the options
    you leave out.
    """
    info = _model_info(name)
    if as_json:
        _print_json(info)
        return
    lines = [f"{info['name']}" + (f"  (asked for {name})" if info["name"] != name else "")]
    if info.get("description"):
        lines.append(f"  {info['description']}")
    fields = [
        ("family", info["family"]),
        ("aliases", ", ".join(info.get("aliases") or []) or "-"),
        ("parameters", f"{info['params']:,} (with a 2-class head)" if info.get("params") else "-"),
        ("architecture", _key_values(info.get("architecture"))),
        ("tokenizer", _key_values(info.get("tokenizer"))),
        ("license", info.get("license") or "-"),
        ("citation", info.get("citation") or "-"),
        ("fine-tuning", _key_values(info.get("finetune"))),
    ]
    lines += [f"{key + ':':<14}{value}" for key, value in fields]
    sources = info.get("sources") or []
    lines.append(
        ("weights:" + " " * 6 + ("" if sources else "none (trained from scratch)")).rstrip()
    )
    for i, source in enumerate(sources, 1):
        note = f"  ({source['note']})" if source.get("note") else ""
        lines.append(f"  {i}. [{source['format']}] {source['uri']}{note}")
    click.echo("\n".join(lines))


@cli.command(
    "env",
    short_help="Versions, devices, cache and data directories: for a bug report.",
    epilog=_examples("textzoo env", "textzoo env --json > env.json"),
)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _env_command(as_json: bool) -> None:
    """Describe this installation: what to paste into a bug report.

    Versions (Python, tfx_textzoo, TensorFlow, Keras, keras-hub, tensorflow-text, NumPy),
    the platform and CPU count, the devices TensorFlow sees, the cache (TEXTZOO_HOME),
    data (TEXTZOO_DATA), Hugging Face and TF-Hub cache directories, and offline mode.
    Tokens are never printed: a set HF_TOKEN shows as 'set (hidden)'.
    """
    _start_tensorflow()
    report = environment_report()
    if as_json:
        _print_json(report)
        return
    lines = []
    for section, values in report.items():
        lines.append(f"{section}:")
        width = max((len(k) for k in values), default=0) + 2
        for key, value in values.items():
            shown = ", ".join(map(str, value)) or "-" if isinstance(value, list) else value
            lines.append(f"  {key + ':':<{width}}{shown if shown not in (None, '') else '-'}")
    click.echo("\n".join(lines))


def environment_report() -> dict[str, dict[str, Any]]:
    """What ``textzoo env`` prints: versions, platform, devices, directories, offline mode.

    Returns:
        ``{"versions": ..., "platform": ..., "devices": ..., "directories": ...,
        "network": ...}``, JSON-serialisable. A version is None for a package that is
        not installed; ``HF_TOKEN`` is ``"set (hidden)"`` or ``"not set"``, never the token.

    Examples:
        >>> from tfx_textzoo.cli import environment_report
        >>> report = environment_report()
        >>> sorted(report)
        ['devices', 'directories', 'network', 'platform', 'versions']
        >>> report["network"]["HF_TOKEN"] in ("set (hidden)", "not set")
        True
    """
    import importlib.metadata
    import platform

    import tfx_textzoo
    from tfx_textzoo.weights import cache_dir, is_offline, tfhub_cache_dir

    def version(distribution: str) -> str | None:
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    versions = {"python": platform.python_version(), "tfx_textzoo": tfx_textzoo.__version__}
    for distribution in ("tensorflow", "keras", "keras-hub", "tensorflow-text", "numpy"):
        versions[distribution] = version(distribution)
    devices: dict[str, Any] = {"tensorflow": "not imported"}
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        found = tf.config.list_physical_devices()
        gpus = [d for d in found if d.device_type == "GPU"]
        names = []
        for gpu in gpus:
            try:
                details = tf.config.experimental.get_device_details(gpu)
            except Exception:  # noqa: BLE001 - a driver without details still has a name
                details = {}
            names.append(details.get("device_name") or gpu.name)
        devices = {
            "all": [f"{d.device_type}:{d.name.rsplit(':', 1)[-1]}" for d in found],
            "gpus": names,
            "built_with_cuda": bool(tf.test.is_built_with_cuda()),
        }
    hf_home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "huggingface"
    )
    data_dir = os.environ.get("TEXTZOO_DATA")
    return {
        "versions": versions,
        "platform": {
            "system": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
        },
        "devices": devices,
        "directories": {
            "TEXTZOO_HOME (cache)": str(cache_dir()),
            "TEXTZOO_DATA (data)": data_dir or "not set",
            "TFDS_DATA_DIR": os.environ.get("TFDS_DATA_DIR") or "~/tensorflow_datasets",
            "HF cache": os.environ.get("HF_HUB_CACHE") or os.path.join(hf_home, "hub"),
            "TFHUB_CACHE_DIR": str(tfhub_cache_dir()),
        },
        "network": {
            "offline": is_offline(),
            "TEXTZOO_OFFLINE": os.environ.get("TEXTZOO_OFFLINE") or "not set",
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE") or "not set",
            "HF_ENDPOINT": os.environ.get("HF_ENDPOINT") or "not set",
            "HF_TOKEN": "set (hidden)" if os.environ.get("HF_TOKEN") else "not set",
        },
    }


# --- train ---------------------------------------------------------------------------------


@cli.command(
    "train",
    short_help="Fine-tune a model, evaluate it, save it.",
    epilog=_examples(
        "textzoo train scratch-small --dataset ag_news-sample --output runs/demo",
        "textzoo train all-minilm-l6-v2 --dataset ag_news --data-dir ~/data/ag_news \\\n"
        "        --max-train 2000 --epochs 2 --output runs/minilm",
        "textzoo train bert-tiny --weights ~/models/bert-tiny --dataset ag_news-sample \\\n"
        "        --validation-fraction 0.2 --patience 1 --output runs/bert-tiny",
        "textzoo train small-bert-L4 --dataset reviews.csv --text-column body \\\n"
        "        --label-column stars --epochs 3 --lr 5e-5 --output runs/reviews --json",
    ),
)
@click.argument("name")
@click.option(
    "--dataset",
    required=True,
    help="A dataset name (ag_news, ag_news-sample, dbpedia, imdb, sst2, trec, yelp_polarity; "
    "long documents: bbc_news; multi-label: goemotions; sentence pairs: rte, mrpc) or a "
    ".csv/.tsv file (then see --text-column/--label-column).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    help="A directory with the dataset's own files (train.csv, test.csv...); only it is read.",
)
@click.option("--train-split", default="train", show_default=True, help="Split to train on.")
@click.option(
    "--eval-split",
    default="test",
    show_default=True,
    help="Split to evaluate on. When it is the train split (or --dataset is a file), that "
    "split is divided into disjoint, stratified, seeded parts (see --eval-fraction).",
)
@click.option(
    "--eval-fraction",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.2,
    show_default=True,
    help="Share of the split held out for evaluation when train and eval split are the same.",
)
@click.option(
    "--validation-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="Share of the training texts held out (stratified, seeded by --seed) to pick the "
    "best epoch (restore-best) and to stop early (--patience); 0: no validation.",
)
@click.option(
    "--validation-split",
    help="Validate on this split of the dataset instead (e.g. 'validation'); it must be "
    "neither the train nor the eval split.",
)
@click.option(
    "--patience",
    type=click.IntRange(min=0),
    help="Stop a phase after N epochs without a better validation accuracy.",
)
@click.option(
    "--text-column",
    "text_columns",
    multiple=True,
    help="For a csv file: the text column (repeat to join several into one). Default: text.",
)
@click.option(
    "--text-pair-column",
    "text_pair_columns",
    multiple=True,
    help="For a csv file: the column of the second text of sentence pairs (entailment, "
    "paraphrase...); the model reads both texts as two segments. Named datasets of pairs "
    "(rte, mrpc) need no option.",
)
@click.option(
    "--label-column",
    "label_columns",
    multiple=True,
    help="For a csv file: the label column. Default: label. With --multi-label, repeat it "
    "to name one 0/1 column per label (the column names are the label names).",
)
@click.option(
    "--multi-label",
    is_flag=True,
    help="Any number of labels per text (sigmoid head, one tuned threshold per label). "
    "For a csv file: labels separated by --label-delimiter in one column, or several "
    "--label-column 0/1 columns. Multi-label datasets (goemotions) need no option.",
)
@click.option(
    "--label-delimiter",
    help=f"With --multi-label: what separates the labels of a text in its label column "
    f"(default {DEFAULT_LABEL_DELIMITER!r}: 'toxic{DEFAULT_LABEL_DELIMITER}insult'; an empty "
    "cell is a text with no label).",
)
@click.option(
    "--truncation",
    type=click.Choice(TRUNCATIONS),
    help="Which tokens of a text longer than the sequence length the model reads, in "
    "training and later predictions: head (the first; the default), tail (the last), or "
    "head+tail (a quarter of the tokens from the start, the rest from the end: 128 + 382 "
    "at 512 tokens; Sun et al. 2019).",
)
@click.option(
    "--max-train",
    type=click.IntRange(min=1),
    help="Train on a stratified random subset of N texts (seeded by --seed).",
)
@click.option(
    "--max-eval",
    type=click.IntRange(min=1),
    help="Evaluate on a stratified random subset of N texts (seeded by --seed).",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs, both phases together.")
@click.option(
    "--freeze-epochs",
    type=click.IntRange(min=0),
    help="Epochs with the backbone frozen (phase 1).",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Texts per batch.")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), help="Peak learning rate.")
@click.option(
    "--head-lr",
    type=click.FloatRange(min=0, min_open=True),
    help="Learning rate of the head in the frozen phase.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for everything.")
@click.option(
    "--weights",
    default="auto",
    show_default=True,
    help="'auto' (the catalog's sources), 'none' (random initialisation), or a local "
    "directory / hf://org/name / keras-hub preset to take the backbone from.",
)
@click.option(
    "--output",
    "-o",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to save the model, report.md, report.json and confusion_matrix.png in.",
)
@click.option("--overwrite", is_flag=True, help="Replace --output if it holds a saved model.")
@click.option("--encoding", default="utf-8", show_default=True, help=_ENCODING_HELP)
@click.option("--skip-bad-rows", is_flag=True, help="Skip (and count) malformed data rows.")
@_PRECISION_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress bars or logs on stderr.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _train_command(
    name: str,
    dataset: str,
    data_dir: str | None,
    train_split: str,
    eval_split: str,
    eval_fraction: float,
    validation_fraction: float,
    validation_split: str | None,
    patience: int | None,
    text_columns: tuple[str, ...],
    text_pair_columns: tuple[str, ...],
    label_columns: tuple[str, ...],
    multi_label: bool,
    label_delimiter: str | None,
    truncation: str | None,
    max_train: int | None,
    max_eval: int | None,
    epochs: int | None,
    freeze_epochs: int | None,
    batch_size: int | None,
    lr: float | None,
    head_lr: float | None,
    seed: int,
    weights: str,
    output: str,
    overwrite: bool,
    encoding: str,
    skip_bad_rows: bool,
    precision: str,
    quiet: bool,
    as_json: bool,
) -> None:
    """Fine-tune model NAME on a dataset, evaluate it, and save everything to --output.

    Trains on --train-split, evaluates on --eval-split, and writes a directory that
    textzoo evaluate/predict/export/push (and tfx_textzoo.load) read: the saved
    model with its model card, plus report.md, report.json and confusion_matrix.png.
    A validation set (--validation-fraction of the training texts, or
    --validation-split) picks the epoch whose weights are kept (best val_accuracy;
    multi-label: val_micro_f1) and stops early with --patience; it never overlaps the
    evaluation texts. A multi-label model's per-label thresholds are tuned on it too
    (0.5 each without validation).
    Options left out take the catalog's fine-tuning defaults ('textzoo info NAME').
    The evaluation table is printed at the end.

    Multi-label data (any number of labels per text: --multi-label for a csv file;
    goemotions is one by itself) trains a sigmoid head and writes per_label.png instead
    of the confusion matrix. Sentence pairs (--text-pair-column; rte and mrpc by
    themselves) are read as two segments. Long texts: --truncation.
    """
    # contradictory options fail at once, before TensorFlow starts or any data is read
    columns = _Columns.for_train(
        dataset, text_columns, text_pair_columns, label_columns, multi_label, label_delimiter
    )
    textzoo = _textzoo()
    _start_tensorflow()  # quietly, before the strategy below imports TensorFlow
    from tfx_textzoo import training  # TF_CONFIG set: a cluster's worker, from the start

    strategy = training.cluster_strategy()
    output = training.worker_output(output, strategy)  # other workers: a temporary dir
    log = _logger(quiet)
    info = textzoo.get_model_info(name)  # an unknown name fails before any data is read
    out = _check_output(output, overwrite)  # before any data is read or any step is taken
    if validation_split is not None and _is_csv(dataset):
        raise UserError(
            "--validation-split names a split of a dataset; --dataset is a file",
            "hold out part of the file with --validation-fraction instead",
        )
    if validation_split is not None and validation_split in (train_split, eval_split):
        raise UserError(
            f"--validation-split {validation_split} is also the train or eval split",
            "name another split, or hold out part of the training data with --validation-fraction",
        )
    train, evaluation, split = _train_and_eval_data(
        dataset,
        data_dir=data_dir,
        train_split=train_split,
        eval_split=eval_split,
        eval_fraction=eval_fraction,
        columns=columns,
        max_train=max_train,
        max_eval=max_eval,
        seed=seed,
        on_bad_rows="skip" if skip_bad_rows else "raise",
        encoding=encoding,
    )
    train, validation, validation_note = _validation_data(
        train,
        dataset,
        split=validation_split,
        fraction=validation_fraction,
        data_dir=data_dir,
        seed=seed,
        on_bad_rows="skip" if skip_bad_rows else "raise",
    )
    multi_label = _check_multi_label(train, dataset, multi_label)
    if train.text_pairs is not None and truncation not in (None, "head"):
        raise UserError(
            f"--truncation {truncation} is for single texts; {train.name} holds sentence "
            "pairs, which are trimmed round robin (a token of each text in turn) to fit",
            "drop --truncation for pairs",
        )
    params = f" ({info['params']:,} parameters)" if info.get("params") else ""
    log(f"model {info['name']}{params}")
    if train.multi_label:
        log(f"multi-label: {train.num_classes} labels, any number per text")
        _warn_labels_without_texts(train, log)
    if train.text_pairs is not None:
        log("sentence pairs: each example is two texts, read as two segments")
    log(f"train: {_describe(train)}")
    if validation is not None:
        log(f"validation: {_describe(validation)}")
    log(f"eval:  {_describe(evaluation)}")
    if split:
        log(split)
    log(validation_note)

    _start_tensorflow()
    import keras

    with _progress_to_stderr():
        keras.utils.set_random_seed(seed)  # the head's initialisation too
        with strategy.scope():
            model = textzoo.load(
                name,
                labels=train.label_names,
                weights=_weights_arg(weights),
                **({"multi_label": True} if multi_label else {}),
            )
        started = time.perf_counter()
        history = textzoo.finetune(
            model,
            train,
            validation,
            **({"truncation": truncation} if truncation else {}),
            patience=patience,
            epochs=epochs,
            freeze_epochs=freeze_epochs,
            batch_size=batch_size,
            learning_rate=lr,
            head_learning_rate=head_lr,
            seed=seed,
            strategy=strategy,
            verbose=0 if quiet else _keras_verbosity(),
            precision=precision,
        )
        train_seconds = time.perf_counter() - started
        s = history.settings
        log(
            f"fine-tuned {_plural(s['epochs'], 'epoch')} ({s['freeze_epochs']} frozen), batch "
            f"{s['batch_size']}, peak learning rate {s['learning_rate']:g} in {train_seconds:.1f} s"
        )
        kept = _kept_epoch(history)
        if kept:
            log(kept)
        report = textzoo.evaluate(
            model, evaluation, verbose=0 if quiet else _bar(), precision=precision
        )
        with _writing(out, "--output"):
            textzoo.save_pretrained(
                model,
                out,
                report=report,
                history=history,
                dataset=_dataset_label(dataset),
                overwrite=overwrite,
            )
            drawn = split is not None or max_train is not None or max_eval is not None
            _write_report_files(
                report,
                out,
                train,
                evaluation,
                split,
                seed if drawn else None,
                validation_line=_validation_line(validation, validation_note, history),
            )
    log(f"saved to {out}")
    if as_json:
        _print_json(
            {
                "output": str(out),
                "model": info["name"],
                "train": _data_summary(train),
                "eval": _data_summary(evaluation),
                "validation": _data_summary(validation) if validation is not None else None,
                "split": split,
                "validation_note": validation_note,
                "training": {
                    "seconds": round(train_seconds, 3),
                    "settings": history.settings,
                    "monitor": history.monitor,
                    "best_epoch": history.best_epoch,
                    "restored_best": history.restored_best,
                    "stopped_early": history.stopped_early,
                    "epochs": history.epochs,
                },
                "report": report.to_dict(),
                "files": sorted(p.name for p in out.iterdir()),
            }
        )
        return
    click.echo(report.to_markdown())
    if _is_multi_label_report(report):
        scores = (
            f"micro F1 {report.micro_f1:.4f}, macro F1 {report.macro_f1:.4f}, subset accuracy "
            f"{report.accuracy:.4f}"
        )
    else:
        scores = f"accuracy {report.accuracy:.4f}, macro F1 {report.macro_f1:.4f}"
    click.echo(f"{report.dataset_name}: {scores}; training took {train_seconds:.1f} s")
    plot = _plot_name(report)
    click.echo(f"saved to {out}/ (model, {REPORT_MARKDOWN}, {REPORT_JSON}, {plot})")


# --- evaluate / predict --------------------------------------------------------------------


def _long_text_options(command):
    """The options of how long texts are read: --truncation, --long-text, --aggregate, --stride."""
    options = [
        click.option(
            "--truncation",
            type=click.Choice(TRUNCATIONS),
            help="Which tokens of a text longer than the sequence length are read: head, "
            "tail or head+tail (128 + 382 tokens at 512: a quarter from the start). "
            "Default: the model's (set by 'textzoo train --truncation').",
        ),
        click.option(
            "--long-text",
            type=click.Choice(["truncate", "chunks"]),
            default="truncate",
            show_default=True,
            help="truncate: read what --truncation keeps; chunks: read every token, in "
            "overlapping windows of the sequence length whose probabilities are combined "
            "per text (--aggregate). Single texts only, not pairs.",
        ),
        click.option(
            "--aggregate",
            type=click.Choice(["mean", "max"]),
            help="With --long-text chunks: combine a text's windows by the mean (default) or "
            "the max of their probabilities.",
        ),
        click.option(
            "--stride",
            type=click.IntRange(min=1),
            help="With --long-text chunks: tokens between the starts of consecutive windows "
            "(default: the library's overlap).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _long_text_arguments(truncation, long_text, aggregate, stride) -> dict[str, Any]:
    """The keyword arguments of ``predict``/``evaluate`` for the long-text options.

    Only settings that differ from the library's defaults are passed.

    Examples:
        >>> from tfx_textzoo.cli import _long_text_arguments
        >>> _long_text_arguments(None, "chunks", None, 64)
        {'long_text': 'chunks', 'aggregate': 'mean', 'stride': 64}
        >>> _long_text_arguments("head+tail", "truncate", None, None)
        {'truncation': 'head+tail'}
    """
    if long_text != "chunks":
        given = "--aggregate" if aggregate is not None else "--stride" if stride else None
        if given:
            raise UserError(
                f"{given} sets how --long-text chunks reads a long text in windows; "
                "--long-text is truncate",
                f"pass --long-text chunks with {given}, or drop {given}",
            )
        return {"truncation": truncation} if truncation else {}
    if truncation is not None:
        raise UserError(
            f"--truncation {truncation} chooses the tokens one window keeps; --long-text "
            "chunks reads every token, in several windows",
            "pass either --truncation or --long-text chunks",
        )
    arguments: dict[str, Any] = {"long_text": "chunks", "aggregate": aggregate or "mean"}
    if stride is not None:
        arguments["stride"] = stride
    return arguments


@cli.command(
    "evaluate",
    short_help="Evaluate a saved model on a dataset split.",
    epilog=_examples(
        "textzoo evaluate runs/demo --dataset ag_news-sample",
        "textzoo evaluate runs/minilm --dataset ag_news --data-dir ~/data/ag_news "
        "--max-eval 1000 --json",
        "textzoo evaluate hf://me/ag-news-demo --dataset ag_news-sample --plot cm.png",
        "textzoo evaluate runs/emotions --dataset goemotions --split test  # per_label.png",
        "textzoo evaluate runs/bbc --dataset bbc_news --long-text chunks --aggregate max",
    ),
)
@click.argument("model_dir", metavar="DIR")
@click.option(
    "--dataset",
    required=True,
    help="A dataset name or a .csv/.tsv file (see `textzoo train --help`).",
)
@click.option("--split", default="test", show_default=True, help="Split to evaluate on.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="The dataset's own files.")
@click.option("--text-column", "text_columns", multiple=True, help="For a csv file.")
@click.option(
    "--text-pair-column",
    "text_pair_columns",
    multiple=True,
    help="For a csv file: the column of the second texts of sentence pairs.",
)
@click.option(
    "--label-column",
    "label_columns",
    multiple=True,
    help="For a csv file; for a multi-label model, repeat it to name one 0/1 column per label.",
)
@click.option(
    "--label-delimiter",
    help="For a csv file and a multi-label model: what separates a text's labels "
    f"(default {DEFAULT_LABEL_DELIMITER!r}).",
)
@click.option(
    "--max-eval",
    type=click.IntRange(min=1),
    help="Evaluate on a stratified random subset of N texts (seeded by --seed).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of --max-eval.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help=f"Where to write the image (relative to the current directory; the model "
    f"directory is left untouched): the confusion matrix (default {CONFUSION_PNG}), or "
    f"for a multi-label model per-label F1, precision and recall (default {PER_LABEL_PNG}).",
)
@click.option("--no-plot", is_flag=True, help="Do not write the image.")
@_long_text_options
@click.option("--encoding", default="utf-8", show_default=True, help=_ENCODING_HELP)
@click.option("--skip-bad-rows", is_flag=True, help="Skip (and count) malformed data rows.")
@_PRECISION_OPTION
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or logs on stderr.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _evaluate_command(
    model_dir: str,
    dataset: str,
    split: str,
    data_dir: str | None,
    text_columns: tuple[str, ...],
    text_pair_columns: tuple[str, ...],
    label_columns: tuple[str, ...],
    label_delimiter: str | None,
    max_eval: int | None,
    seed: int,
    plot: str | None,
    no_plot: bool,
    truncation: str | None,
    long_text: str,
    aggregate: str | None,
    stride: int | None,
    encoding: str,
    skip_bad_rows: bool,
    precision: str,
    quiet: bool,
    as_json: bool,
) -> None:
    """Evaluate a saved model DIR on a dataset split: accuracy, F1, confusion matrix.

    DIR is a directory written by 'textzoo train' (or tfx_textzoo.save_pretrained),
    or hf://owner/name. Prints the report table (or JSON) and writes the confusion-matrix
    image to --plot. A multi-label model is scored on its decisions at its thresholds:
    micro, macro and samples F1, subset accuracy, Hamming loss and a per-label table
    (threshold, precision, recall, F1, ROC AUC, support); its plot shows each label's
    F1, precision and recall. The report says how many texts were longer than the
    model's sequence length (see --long-text).
    """
    textzoo = _textzoo()
    log = _logger(quiet)
    # before any data is read or the model loaded: the plot's directory, the options
    plot_path = None if no_plot else _check_plot(plot or CONFUSION_PNG)
    long_text_arguments = _long_text_arguments(truncation, long_text, aggregate, stride)
    if label_delimiter is not None or len(label_columns) > 1 or text_pair_columns:
        _check_column_options(dataset, text_pair_columns, label_columns, True, None, "evaluate")
    _start_tensorflow()
    from tfx_textzoo import tasks
    from tfx_textzoo.evaluation import label_names

    model = _load_saved(model_dir)
    multi_label = tasks.of(model).multi_label
    _check_column_options(
        dataset, text_pair_columns, label_columns, multi_label, label_delimiter, "evaluate"
    )
    on_bad_rows = "skip" if skip_bad_rows else "raise"
    if _is_csv(dataset):
        columns = _Columns(
            text_columns,
            text_pair_columns,
            label_columns,
            multi_label,
            label_delimiter,
            label_names=label_names(model) if multi_label else None,
        )
        data = _read_csv_dataset(dataset, columns, on_bad_rows, encoding)
    else:
        data = textzoo.datasets.load(
            dataset, split=split, data_dir=data_dir, on_bad_rows=on_bad_rows
        )
    if max_eval is not None and max_eval < len(data):
        data = _subset(data, max_eval, seed)
    if plot_path is not None and plot is None and multi_label:
        plot_path = plot_path.with_name(PER_LABEL_PNG)
    log(f"evaluating {_model_label(model, model_dir)} on {_describe(data)}")
    with _progress_to_stderr():
        report = textzoo.evaluate(
            model,
            data,
            verbose=0 if quiet else _bar(),
            precision=precision,
            **long_text_arguments,
        )
    what = "per-label plot" if _is_multi_label_report(report) else "confusion matrix"
    if plot_path is not None:
        with _writing(plot_path, "--plot"):
            _write_plot(report, plot_path)
        log(f"{what} written to {plot_path}")
    if as_json:
        _print_json({**report.to_dict(), "plot": str(plot_path) if plot_path else None})
        return
    click.echo(report.to_markdown())
    if plot_path:
        click.echo(f"{what}: {plot_path}")


@cli.command(
    "predict",
    short_help="Predict the labels of texts with a saved model.",
    epilog=_examples(
        'textzoo predict runs/demo "Stocks rallied on Friday" "The team won the final"',
        'textzoo predict runs/demo "Stocks rallied on Friday" --top-k 2 --json',
        "textzoo predict runs/demo --file texts.txt > labels.tsv",
        "cat texts.txt | textzoo predict runs/demo --file -",
        "textzoo predict runs/toxic --file comments.txt          # multi-label: toxic, insult",
        "printf 'A man sleeps.\\tA man is awake.\\n' | textzoo predict runs/rte --file -",
        "textzoo predict runs/rte --file pairs.csv --text-column premise \\\n"
        "        --text-pair-column hypothesis --json",
        "textzoo predict runs/bbc --file articles.txt --long-text chunks --stride 256",
    ),
)
@click.argument("model_dir", metavar="DIR")
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "-f",
    "text_file",
    help="Read texts from this file, one per line ('-' for stdin); blank lines are skipped. "
    "For a pair model each line is 'first<TAB>second'. A .csv/.tsv file is read by "
    "column instead (--text-column, --text-pair-column).",
)
@click.option(
    "--text-column",
    "text_columns",
    multiple=True,
    help="For a .csv/.tsv --file: the text column (repeat to join several). Default: text.",
)
@click.option(
    "--text-pair-column",
    "text_pair_columns",
    multiple=True,
    help="For a .csv/.tsv --file: the column of the second texts of sentence pairs.",
)
@click.option(
    "--encoding", default="utf-8", show_default=True, help="The encoding of --file, e.g. latin-1."
)
@click.option(
    "--top-k",
    type=click.IntRange(min=1),
    help="Show the K most likely labels per text, with their probabilities (for a "
    "multi-label model: ranked regardless of its thresholds).",
)
@_long_text_options
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or logs on stderr.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _predict_command(
    model_dir: str,
    texts: tuple[str, ...],
    text_file: str | None,
    text_columns: tuple[str, ...],
    text_pair_columns: tuple[str, ...],
    encoding: str,
    top_k: int | None,
    truncation: str | None,
    long_text: str,
    aggregate: str | None,
    stride: int | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Predict the labels of TEXTS (or of --file's lines) with the saved model DIR.

    Prints one tab-separated line per text: label, probability, text (with --top-k,
    label and probability pairs). A multi-label model prints the labels it chooses at
    its thresholds, comma-separated ('toxic, insult'; '(none)' when it chooses none),
    then the text. A pair model reads each text as 'first<TAB>second' (or the columns
    of a .csv/.tsv --file) and prints both texts. With --json: a list of {text, label,
    score, probabilities} objects (multi-label: {text, labels, probabilities}), with
    "text_pair" for pairs and "top_k" (a list of {label, score}) when --top-k is given;
    "probabilities" maps every label to its probability.
    """
    table = text_file is not None and text_file != "-" and _is_table_file(text_file)
    if (text_columns or text_pair_columns) and not table:
        given = "--text-pair-column" if text_pair_columns else "--text-column"
        raise UserError(
            f"{given} names a column of a .csv/.tsv --file; "
            + ("there is no --file" if text_file is None else f"--file {text_file} is not one"),
            "pass --file data.csv with the columns, or give texts one per line (a pair as "
            "'first<TAB>second')",
        )
    long_text_arguments = _long_text_arguments(truncation, long_text, aggregate, stride)
    all_texts = list(texts)
    pairs: list[str] | None = None
    where = [f"argument {i}" for i in range(1, len(all_texts) + 1)]
    if table:
        if all_texts:
            raise UserError(
                f"texts as arguments and a .csv/.tsv --file {text_file} cannot be mixed",
                "put every text in the file, or pass texts as arguments without --file",
            )
        all_texts, pairs = _read_table_texts(text_file, text_columns, text_pair_columns, encoding)
    elif text_file is not None:
        for n, line in enumerate(_read_lines(text_file, encoding), 1):
            if line.strip():
                all_texts.append(line.strip())
                where.append(f"line {n} of {'stdin' if text_file == '-' else text_file}")
    if not all_texts:
        raise click.UsageError(
            "give texts as arguments, or --file FILE ('-' for stdin)",
            ctx=click.get_current_context(),
        )
    textzoo = _textzoo()
    _start_tensorflow()
    from tfx_textzoo import tasks
    from tfx_textzoo.evaluation import label_names

    model = _load_saved(model_dir)
    task = tasks.of(model)
    names = label_names(model)
    num_labels = len(names)
    if top_k is not None and top_k > num_labels:
        raise UserError(
            f"--top-k {top_k} is more than the model's {num_labels} classes",
            f"use --top-k between 1 and {num_labels}",
        )
    if task.text_pair and pairs is None:
        all_texts, pairs = _split_pairs(all_texts, where)
    if pairs is not None and long_text == "chunks":
        raise UserError(
            "--long-text chunks reads single long texts in windows, not sentence pairs",
            "drop --long-text chunks (pairs are truncated: --truncation), or pass single texts",
        )
    if pairs is not None and not task.text_pair:
        _logger(quiet)(
            "warning: the model was not fine-tuned on sentence pairs; each pair is read as "
            "two segments all the same"
        )
    with _progress_to_stderr():
        results = textzoo.predict(
            model,
            all_texts,
            **({"text_pair": pairs} if pairs is not None else {}),
            return_proba=True,
            verbose=0 if quiet else _bar(),
            **long_text_arguments,
        )
    rows = _prediction_rows(all_texts, pairs, results, names, task, top_k)
    if as_json:
        _print_json(rows)
        return
    for row in rows:
        text = row["text"] if "text_pair" not in row else f"{row['text']}\t{row['text_pair']}"
        if top_k is not None:
            shown = "\t".join(f"{p['label']}\t{p['score']:.4f}" for p in row["top_k"])
        elif task.multi_label:
            shown = ", ".join(row["labels"]) or "(none)"
        else:
            shown = f"{row['label']}\t{row['score']:.4f}"
        click.echo(f"{shown}\t{text}")


def _prediction_rows(texts, pairs, results, names, task, top_k) -> list[dict[str, Any]]:
    """One JSON-able row per text from ``predict(..., return_proba=True)``'s rankings.

    A multi-label row's ``labels`` are chosen as ``predict`` chooses them
    (``task.decide`` of the probabilities: each label at its threshold), in label order.
    """
    import numpy as np

    index = {name: j for j, name in enumerate(names)}
    probabilities = np.zeros((len(texts), len(names)), dtype=np.float64)
    for i, ranked in enumerate(results):
        for p in ranked:
            probabilities[i, index[p.label]] = p.score
    chosen = task.decide(probabilities) if task.multi_label else None
    rows = []
    for i, (text, ranked) in enumerate(zip(texts, results, strict=True)):
        row: dict[str, Any] = {"text": text}
        if pairs is not None:
            row["text_pair"] = pairs[i]
        if task.multi_label:
            row["labels"] = [names[j] for j in np.flatnonzero(chosen[i])]
        else:
            row["label"], row["score"] = ranked[0].label, ranked[0].score
        row["probabilities"] = {name: float(probabilities[i, j]) for j, name in enumerate(names)}
        if top_k is not None:
            row["top_k"] = [{"label": p.label, "score": p.score} for p in ranked[:top_k]]
        rows.append(row)
    return rows


def _split_pairs(texts: list[str], where: list[str]) -> tuple[list[str], list[str]]:
    """``first<TAB>second`` strings -> (firsts, seconds); a string without a tab is named."""
    firsts, seconds = [], []
    for text, place in zip(texts, where, strict=True):
        first, tab, second = text.partition("\t")
        if not tab or not first.strip() or not second.strip():
            raise UserError(
                f"the model reads sentence pairs, but {place} is not two texts separated by a "
                f"tab: {text[:60]!r}",
                "give each pair as 'first<TAB>second' (one per line of --file), or a .csv "
                "--file with --text-column and --text-pair-column",
            )
        firsts.append(first.strip())
        seconds.append(second.strip())
    return firsts, seconds


def _is_table_file(path: str) -> bool:
    return path.lower().endswith((".csv", ".tsv"))


def _read_table_texts(path, text_columns, text_pair_columns, encoding):
    """The texts (joined columns) and second texts (or None) of a .csv/.tsv --file."""
    import csv
    import io

    rows = list(
        csv.reader(
            io.StringIO("\n".join(_read_lines(path, encoding))),
            delimiter="\t" if path.lower().endswith(".tsv") else ",",
        )
    )
    numbered = [(n, row) for n, row in enumerate(rows, 1) if any(c.strip() for c in row)]
    if not numbered:
        raise UserError(f"--file {path} is empty", "pass a file with a header row and texts")
    (_, header), *numbered = numbered
    records = [row for _, row in numbered]
    wanted = [*(text_columns or ["text"]), *text_pair_columns]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise UserError(
            f"--file {path}: column(s) {missing} not found; the header has columns {header}",
            "name the columns with --text-column (repeatable) and --text-pair-column",
        )

    def joined(row, columns):
        return " ".join(p for p in (row[header.index(c)].strip() for c in columns) if p)

    for n, row in numbered:
        if len(row) != len(header):
            raise UserError(
                f"--file {path}: row {n} has {len(row)} columns, the header {len(header)}",
                "fix that row (a text with the delimiter needs quotes)",
            )
    texts = [joined(row, text_columns or ["text"]) for row in records]
    pairs = [joined(row, text_pair_columns) for row in records] if text_pair_columns else None
    return texts, pairs


# --- export / push -------------------------------------------------------------------------


@cli.command(
    "export",
    short_help="Export a saved model as a TF SavedModel.",
    epilog=_examples(
        "textzoo export runs/demo serving/demo",
        "textzoo export runs/demo serving/demo --overwrite --json",
        "textzoo export runs/bbc serving/bbc --long-text chunks --aggregate mean",
    ),
)
@click.argument("model_dir", metavar="DIR")
@click.argument("serving_dir", type=click.Path(file_okay=False))
@click.option(
    "--long-text",
    type=click.Choice(["truncate", "chunks"]),
    default="truncate",
    show_default=True,
    help="chunks: the graph reads every token of a long text in overlapping windows and "
    "combines their probabilities (--aggregate); single texts only.",
)
@click.option(
    "--aggregate",
    type=click.Choice(["mean", "max"]),
    help="With --long-text chunks: the mean (default) or the max of the windows.",
)
@click.option(
    "--stride",
    type=click.IntRange(min=1),
    help="With --long-text chunks: tokens between the starts of consecutive windows.",
)
@click.option("--overwrite", is_flag=True, help="Replace SERVING_DIR if it holds an export.")
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _export_command(
    model_dir: str,
    serving_dir: str,
    long_text: str,
    aggregate: str | None,
    stride: int | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Export the saved model DIR as a TensorFlow SavedModel in SERVING_DIR.

    Its 'serving_default' signature takes a batch of raw strings ('text'; a pair model
    also 'text_pair') and returns 'probabilities', 'label' and 'label_id' (a multi-label
    model: 'probabilities', 'decisions', 'labels', 'label_ids' and 'num_labels'); the
    tokenizer is inside the graph. A BERT-family export needs 'import tensorflow_text'
    before loading.
    """
    textzoo = _textzoo()
    chunks = _long_text_arguments(None, long_text, aggregate, stride)
    target = _check_output(serving_dir, overwrite, what="SERVING_DIR")
    _start_tensorflow()
    from tfx_textzoo import tasks

    model = _load_saved(model_dir)
    with _progress_to_stderr(), _writing(target, "SERVING_DIR"):
        path = textzoo.export(model, target, overwrite=overwrite, **chunks)
    labels = list(getattr(model, "labels", None) or [])
    task = tasks.of(model)
    if as_json:
        _print_json(
            {
                "path": str(path),
                "format": "saved_model",
                "signature": "serving_default",
                "inputs": _export_inputs(task),
                "outputs": _export_outputs(task, bool(chunks)),
                "labels": labels,
            }
        )
        return
    click.echo(f"exported to {path}/ (TensorFlow SavedModel, signature 'serving_default')")
    click.echo(f"load it with: tf.saved_model.load({str(path)!r}).signatures['serving_default']")


def _export_inputs(task) -> dict[str, str]:
    inputs = {"text": "string [N]"}
    if task.text_pair:
        inputs["text_pair"] = "string [N]"
    return inputs


def _export_outputs(task, chunks: bool) -> dict[str, str]:
    """The outputs of an export's signature, as ``saving.export`` documents them."""
    if task.multi_label:
        outputs = {
            "probabilities": "float32 [N, num_labels]",
            "decisions": "bool [N, num_labels]",
            "labels": "string [N, num_labels]",
            "label_ids": "int32 [N, num_labels]",
            "num_labels": "int32 [N]",
        }
    else:
        outputs = {
            "probabilities": "float32 [N, num_classes]",
            "label": "string [N]",
            "label_id": "int32 [N]",
        }
    if chunks:
        outputs["num_windows"] = "int32 [N]"
    return outputs


@cli.command(
    "push",
    short_help="Upload a saved model to the Hugging Face Hub.",
    epilog=_examples(
        "hf auth login   # once; or export HF_TOKEN=...",
        "textzoo push runs/demo me/ag-news-demo",
        "textzoo push runs/demo my-org/ag-news-demo --private --json",
    ),
)
@click.argument("model_dir", metavar="DIR", type=click.Path(file_okay=False))
@click.argument("repo_id")
@click.option("--private", is_flag=True, help="Create the repository as private.")
@click.option(
    "--token",
    help="A Hugging Face token with write access (default: HF_TOKEN or `hf auth login`). "
    "Never printed.",
)
@click.option("--json", "as_json", is_flag=True, help=_JSON_HELP)
def _push_command(
    model_dir: str, repo_id: str, private: bool, token: str | None, as_json: bool
) -> None:
    """Upload the saved model DIR to the Hugging Face Hub repository REPO_ID (owner/name).

    The repository is created when missing; everything in DIR is uploaded in one commit
    (model, model card, report and confusion-matrix image). Load it back anywhere with
    tfx_textzoo.load("hf://REPO_ID").
    """
    textzoo = _textzoo()
    directory = Path(os.path.expanduser(model_dir))
    _check_saved_dir(directory)
    _check_can_push(repo_id)
    url = textzoo.push_to_hub(str(directory), repo_id, private=private, token=token)
    if as_json:
        _print_json({"repo_id": repo_id, "commit_url": url, "uri": f"hf://{repo_id}"})
        return
    click.echo(f"pushed {directory} to {repo_id}: {url}")
    click.echo(f'load it with: tfx_textzoo.load("hf://{repo_id}")')


# --- helpers -------------------------------------------------------------------------------


def _textzoo():
    """The package, imported when a command runs (TensorFlow comes with its first model)."""
    import tfx_textzoo

    return tfx_textzoo


#: What the command line was asked for (set by the group's options).
_STATE: dict[str, Any] = {"verbose": False, "tensorflow": False}

#: TensorFlow's C++ start-up lines, held back without --verbose: absl's
#: ``I0000 00:00:... file.cc:NN] ...`` info/warning lines (oneDNN, CUDA drivers, CPU
#: features), its note that logs before absl::InitializeLog go to stderr, the CPU
#: feature line's continuation, and the ``cuInit`` error of a machine without a GPU.
_STARTUP_NOISE = re.compile(
    r"^(?:[IW]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] "
    r"|E\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\] failed call to cuInit"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|To enable the following instructions: .* rebuild TensorFlow)"
)


def _start_tensorflow() -> None:
    """Import TensorFlow, Keras, keras-hub and the families now, quietly unless --verbose.

    TensorFlow 2.21 writes its start-up lines from C++ straight to file descriptor 2
    before any Python or environment setting can stop them, so without --verbose the
    descriptor points at a temporary file while TensorFlow starts (import and device
    discovery, where the ``cuInit`` line comes from); then every captured line that is
    not start-up noise (``_STARTUP_NOISE``) is written to stderr.
    """
    if _STATE["tensorflow"]:
        return
    _STATE["tensorflow"] = True
    if _STATE["verbose"]:
        _import_tensorflow()
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # later C++ info and warnings
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with tempfile.TemporaryFile() as captured:
            os.dup2(captured.fileno(), 2)
            try:
                _import_tensorflow()
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
                captured.seek(0)
                text = captured.read().decode("utf-8", errors="replace")
                kept = [line for line in text.splitlines() if not _STARTUP_NOISE.match(line)]
                if kept:
                    click.echo("\n".join(kept), err=True)
    finally:
        os.close(saved)
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)


def _import_tensorflow() -> None:
    import tensorflow as tf

    import tfx_textzoo.families  # noqa: F401 - keras, keras-hub and the zoo's Keras classes

    tf.config.list_physical_devices()  # device discovery logs (cuInit) come now


def natural_key(name: str) -> list[Any]:
    """Sort key that orders the numbers inside a name by value.

    Examples:
        >>> sorted(["small-bert-L10", "small-bert-L2", "bert-tiny"], key=natural_key)
        ['bert-tiny', 'small-bert-L2', 'small-bert-L10']
    """
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower())
            for part in re.split(r"(\d+)", name)]  # fmt: skip


def _model_info(name: str) -> dict[str, Any]:
    """``get_model_info``; when the catalog lacks ``params``, the family counts (quietly)."""
    from tfx_textzoo import registry

    if registry.get_spec(name).params is None:
        _start_tensorflow()
    return registry.get_model_info(name)


def _logger(quiet: bool):
    def log(message: str) -> None:
        if not quiet:
            click.echo(message, err=True)

    return log


@contextlib.contextmanager
def _progress_to_stderr() -> Iterator[None]:
    """Send what the library prints (Keras progress bars, phase logs) to stderr."""
    sys.stdout.flush()
    with contextlib.redirect_stdout(sys.stderr):
        yield


def _keras_verbosity() -> int:
    """A live progress bar on a terminal, one line per epoch in a log file."""
    return 1 if sys.stderr.isatty() else 2


def _bar() -> int | str:
    return "auto" if sys.stderr.isatty() else 0


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_default))


def _json_default(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _human_count(n: int | None) -> str:
    if not n:
        return "-"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if n >= size:
            value = n / size
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def _source_formats(sources: list[dict[str, Any]]) -> str:
    """The catalog's format names of ``sources``, in order, each once (as ``info`` shows)."""
    formats = []
    for source in sources:
        name = str(source.get("format", "?"))
        if name not in formats:
            formats.append(name)
    return ", ".join(formats) or "- (from scratch)"


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, ["-" * w for w in widths], *rows]
    ]
    return "\n".join(lines)


def _key_values(mapping: dict[str, Any] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in (mapping or {}).items()) or "-"


def _weights_arg(weights: str) -> Any:
    return None if weights.lower() in ("none", "random") else weights


def _is_csv(dataset: str) -> bool:
    return dataset.lower().endswith((".csv", ".tsv")) or os.path.isfile(dataset)


def _dataset_label(dataset: str) -> str:
    return Path(dataset).stem if _is_csv(dataset) else dataset


class _Columns:
    """What to read from a .csv/.tsv ``--dataset``: text, pair and label columns, label sets."""

    def __init__(
        self,
        text_columns: Sequence[str] = (),
        text_pair_columns: Sequence[str] = (),
        label_columns: Sequence[str] = (),
        multi_label: bool = False,
        label_delimiter: str | None = None,
        label_names: Sequence[str] | None = None,
    ) -> None:
        self.label_names = None if label_names is None else list(label_names)
        self.text_columns = list(text_columns) or ["text"]
        self.text_pair_columns = list(text_pair_columns)
        self.label_columns = list(label_columns) or ["label"]
        self.multi_label = multi_label
        self.label_delimiter = label_delimiter
        if multi_label and len(self.label_columns) == 1 and label_delimiter is None:
            self.label_delimiter = DEFAULT_LABEL_DELIMITER

    @classmethod
    def for_train(
        cls, dataset, text_columns, text_pair_columns, label_columns, multi_label, label_delimiter
    ) -> _Columns:
        """The columns ``train`` reads; contradictory options fail before any data is read.

        Examples:
            >>> from tfx_textzoo.cli import _Columns
            >>> columns = _Columns.for_train("tags.csv", ("body",), (), (), True, None)
            >>> columns.text_columns, columns.label_columns, columns.label_delimiter
            (['body'], ['label'], '|')
        """
        _check_column_options(
            dataset, text_pair_columns, label_columns, multi_label, label_delimiter, "train"
        )
        return cls(text_columns, text_pair_columns, label_columns, multi_label, label_delimiter)

    def csv_arguments(self, label_column: str | None = None) -> dict[str, Any]:
        """The keyword arguments of ``datasets.from_csv`` beyond the path."""
        arguments: dict[str, Any] = {
            "text_columns": self.text_columns,
            "label_column": label_column or self.label_columns[0],
        }
        if self.text_pair_columns:
            arguments["text_pair_columns"] = self.text_pair_columns
        if self.multi_label and label_column is None:
            arguments["label_delimiter"] = self.label_delimiter
            if self.label_names is not None:  # a model's: its labels, in its order
                arguments["label_names"] = self.label_names
        return arguments


def _check_column_options(
    dataset, text_pair_columns, label_columns, multi_label, label_delimiter, command
) -> None:
    """Refuse column options that contradict each other or the kind of --dataset."""
    flag = "--multi-label" if command == "train" else "a multi-label model"
    if label_delimiter is not None and not label_delimiter:
        raise UserError(
            "--label-delimiter is empty",
            f"pass the character between the labels of a text, e.g. --label-delimiter "
            f"'{DEFAULT_LABEL_DELIMITER}' or --label-delimiter ','",
        )
    if label_delimiter is not None and not multi_label:
        raise UserError(
            "--label-delimiter splits a label column into several labels per text: it needs "
            + flag,
            "pass --multi-label (any number of labels per text), or drop --label-delimiter"
            if command == "train"
            else "evaluate a multi-label model, or drop --label-delimiter",
        )
    if len(label_columns) > 1 and not multi_label:
        raise UserError(
            f"several --label-column ({', '.join(label_columns)}) are one 0/1 column per "
            f"label: they need {flag}",
            "pass --multi-label, or a single --label-column for one class per text"
            if command == "train"
            else "evaluate a multi-label model, or pass a single --label-column",
        )
    if len(label_columns) > 1 and label_delimiter is not None:
        raise UserError(
            "--label-delimiter splits one label column; several --label-column are 0/1 "
            "columns, one per label",
            "pass either one --label-column with --label-delimiter, or several 0/1 "
            "--label-column without it",
        )
    if (text_pair_columns or label_delimiter is not None or len(label_columns) > 1) and not (
        _is_csv(dataset)
    ):
        given = (
            "--text-pair-column"
            if text_pair_columns
            else "--label-delimiter"
            if label_delimiter is not None
            else "several --label-column"
        )
        raise UserError(
            f"{given} describes the columns of a .csv/.tsv --dataset; {dataset} is a named "
            "dataset, read as its definition says (rte and mrpc as pairs, goemotions as "
            "label sets)",
            f"drop {given}, or pass a .csv/.tsv file as --dataset",
        )


def _read_csv_dataset(path, columns: _Columns, on_bad_rows, encoding):
    textzoo = _textzoo()
    if os.path.isdir(path):
        raise UserError(
            f"--dataset {path} is a directory, not a .csv/.tsv file",
            "pass the file itself, or a dataset name with --data-dir for a directory of its files",
        )
    if not os.path.isfile(path):
        raise UserError(
            f"--dataset {path} does not exist",
            "pass a dataset name (ag_news, ag_news-sample, sst2...) or an existing .csv file",
        )
    _check_encoding(encoding)
    overlap = sorted(set(columns.text_columns) & set(columns.text_pair_columns))
    if overlap:
        raise UserError(
            f"column {overlap[0]!r} is both a --text-column and a --text-pair-column",
            "name the first text's column with --text-column and the second's with "
            "--text-pair-column",
        )
    read = {
        "delimiter": "\t" if path.lower().endswith(".tsv") else ",",
        "encoding": encoding,
        "on_bad_rows": on_bad_rows,
    }
    if len(columns.label_columns) == 1:
        return textzoo.datasets.from_csv(path, **columns.csv_arguments(), **read)
    return _read_label_columns(path, columns, read)


def _read_label_columns(path, columns: _Columns, read: dict[str, Any]):
    """A multi-label file with one 0/1 column per label (the column names name the labels).

    Each column is read as a two-class label column ("0" / "1") by ``from_csv``, which
    checks every row; the columns make the 0/1 matrix.
    """
    import numpy as np

    from tfx_textzoo.datasets import TextDataset, from_csv

    if len(set(columns.label_columns)) != len(columns.label_columns):
        raise UserError("a --label-column is given twice", "name each label's 0/1 column once")
    parts = [
        from_csv(path, **columns.csv_arguments(column), label_names=["0", "1"], **read)
        for column in columns.label_columns
    ]
    first = parts[0]
    if any(part.texts != first.texts for part in parts[1:]):  # rows skipped in one column
        raise UserError(
            f"{path}: the label columns have bad values in different rows",
            "fix the rows named above (each label column holds 0 or 1 in every row)",
        )
    matrix = np.stack([part.labels for part in parts], axis=1)
    return TextDataset(
        first.texts,
        matrix,
        list(columns.label_columns),
        first.name,
        first.source,
        skipped=list(first.skipped),
        text_pairs=first.text_pairs,
    )


def _check_multi_label(train, dataset: str, asked: bool) -> bool:
    """Whether to build a multi-label model: the data says; ``--multi-label`` must agree."""
    if asked and not train.multi_label:
        raise UserError(
            f"--multi-label was given, but {dataset} has one label per text",
            "drop --multi-label to train a single-label model on it, or pass a .csv/.tsv "
            "file whose label column holds label sets (see --label-delimiter)",
        )
    return bool(train.multi_label)


def _warn_labels_without_texts(train, log) -> None:
    """Log the labels no training text has (the model cannot learn to choose them)."""
    absent = [name for name, count in train.class_counts().items() if count == 0]
    if absent:
        shown = ", ".join(absent[:10]) + (
            f" ... ({len(absent) - 10} more)" if len(absent) > 10 else ""
        )
        log(
            f"warning: {_plural(len(absent), 'label')} of no training text ({shown}): the "
            "model will not learn to choose them"
        )


def _is_multi_label_report(report) -> bool:
    return bool(getattr(report, "multi_label", False))


def _plot_name(report) -> str:
    """The image file 'train' writes beside the model: per-label bars or confusion matrix."""
    return PER_LABEL_PNG if _is_multi_label_report(report) else CONFUSION_PNG


def _write_plot(report, path) -> None:
    if _is_multi_label_report(report):
        report.plot_per_label(path)
    else:
        report.plot_confusion_matrix(path)


def _check_encoding(encoding: str) -> None:
    import codecs

    try:
        codecs.lookup(encoding)
    except LookupError:
        raise UserError(
            f"--encoding {encoding!r} is not an encoding Python knows",
            "pass one such as utf-8, latin-1, cp1252 or utf-16",
        ) from None


def _read_lines(path: str, encoding: str) -> list[str]:
    """The lines of ``--file`` (``-``: stdin); bytes invalid in ``encoding`` name their line."""
    from tfx_textzoo.datasets import decode_text

    _check_encoding(encoding)
    if path == "-":
        return decode_text(click.get_binary_stream("stdin").read(), "<stdin>", encoding).split("\n")
    file = Path(os.path.expanduser(path))
    hint = "pass a text file with one text per line, or - to read stdin"
    if file.is_dir():
        raise UserError(f"--file {path} is a directory, not a file", hint)
    if not file.exists():
        raise UserError(f"--file {path} does not exist", hint)
    return decode_text(file.read_bytes(), path, encoding).split("\n")


def _train_and_eval_data(
    dataset: str,
    *,
    data_dir,
    train_split,
    eval_split,
    eval_fraction,
    columns: _Columns,
    max_train,
    max_eval,
    seed,
    on_bad_rows,
    encoding,
):
    """The training and evaluation sets, and a note when both come from one split."""
    textzoo = _textzoo()

    if _is_csv(dataset):
        whole = _read_csv_dataset(dataset, columns, on_bad_rows, encoding)
        _check_labels(whole, f"the data in {dataset}")
        train, evaluation, split = _holdout(whole, eval_fraction, seed)
    elif train_split == eval_split:
        whole = textzoo.datasets.load(
            dataset, split=train_split, data_dir=data_dir, on_bad_rows=on_bad_rows
        )
        train, evaluation, split = _holdout(whole, eval_fraction, seed)
    else:
        train, evaluation = textzoo.datasets.load(
            dataset, split=[train_split, eval_split], data_dir=data_dir, on_bad_rows=on_bad_rows
        )
        split = None
    if max_train is not None and max_train < len(train):
        train = _subset(train, max_train, seed)
    if max_eval is not None and max_eval < len(evaluation):
        evaluation = _subset(evaluation, max_eval, seed)
    _check_labels(train, f"the training data ({train.name})")
    return train, evaluation, split


def _check_labels(data, what: str) -> None:
    """Single-label: texts of two classes at least; multi-label: some text has a label."""
    from tfx_textzoo.datasets import check_two_classes

    if not data.multi_label:
        check_two_classes(data.labels, data.label_names, what)
        return
    if not data.labels.any():
        raise UserError(
            f"no text of {what} has any label: every label set is empty",
            "check --label-column (and --label-delimiter: the character between a text's "
            f"labels, {DEFAULT_LABEL_DELIMITER!r} by default)",
        )


def _holdout(data, fraction: float, seed: int):
    """Split ``data`` into disjoint, stratified train and eval parts."""
    n_eval = int(round(len(data) * fraction))
    if not 0 < n_eval < len(data):
        raise UserError(
            f"{data.name} has {len(data)} texts: too few to hold out {fraction:.0%} for evaluation",
            "use a larger dataset, another --eval-fraction, or a separate --eval-split",
        )
    import numpy as np

    held_out = _stratified_indices(data.labels, n_eval, seed)
    mask = np.ones(len(data), dtype=bool)
    mask[held_out] = False
    train, evaluation = data[mask], data[held_out]
    base = data.name or "the data"
    share = f"{fraction:.0%}"
    train.name = f"{base}, other {100 - round(fraction * 100)}%"
    evaluation.name = f"{base}, held-out {share}"
    note = (
        f"{base} is both the train and the eval split: divided into disjoint, "
        f"{_stratified(data)} parts with seed {seed}: {len(train):,} texts to train on, "
        f"{len(evaluation):,} "
        f"({share}, --eval-fraction) held out for evaluation"
    )
    return train, evaluation, note


def _validation_data(train, dataset: str, *, split, fraction, data_dir, seed, on_bad_rows):
    """``(train, validation, note)``: the validation set, held out of ``train`` or loaded.

    ``--validation-split`` loads that split; else ``fraction`` of the training texts
    (stratified, seeded) are held out, so validation never overlaps the evaluation
    texts; ``fraction`` 0 gives no validation set (restore-best then watches the loss).
    """
    if split is not None:
        validation = _textzoo().datasets.load(
            dataset, split=split, data_dir=data_dir, on_bad_rows=on_bad_rows
        )
        note = (
            f"validation: split {split!r} ({len(validation):,} texts) picks the best epoch "
            f"({_monitor(train)}), whose weights are kept"
        )
        return train, validation, note
    if fraction == 0:
        return train, None, "no validation set (--validation-fraction 0): the last epoch is kept"
    n_val = int(round(len(train) * fraction))
    if not 0 < n_val < len(train):
        raise UserError(
            f"{train.name} has {len(train)} texts: too few to hold out {fraction:.0%} for "
            "validation",
            "pass --validation-fraction 0 to train without a validation set, or use more data",
        )
    import numpy as np

    held_out = _stratified_indices(train.labels, n_val, seed + 1)  # not the eval draw
    mask = np.ones(len(train), dtype=bool)
    mask[held_out] = False
    base = train.name or "the training data"
    rest, validation = train[mask], train[held_out]
    rest.name, validation.name = base, f"{base}, {fraction:.0%} held out for validation"
    note = (
        f"validation: {len(validation):,} texts held out of the {len(train):,} training texts "
        f"({fraction:.0%}, --validation-fraction; {_stratified(train)}, seed {seed}) to pick "
        f"the best epoch ({_monitor(train)}), whose weights are kept; {len(rest):,} texts to "
        "train on"
    )
    return rest, validation, note


def _monitor(data) -> str:
    """The validation metric that picks the best epoch (``tasks.Task.metric_name``)."""
    return "val_micro_f1" if getattr(data, "multi_label", False) else "val_accuracy"


def _stratified(data) -> str:
    return "stratified by first label" if getattr(data, "multi_label", False) else "stratified"


def _kept_epoch(history) -> str:
    """Which epoch's weights the model has, by which metric (a log line), or ''."""
    if history.best_epoch is None or history.monitor is None:
        return ""
    kept = "its weights restored" if history.restored_best else "its weights kept"
    early = "; stopped early (--patience)" if history.stopped_early else ""
    return f"best epoch by {history.monitor}: {history.best_epoch} ({kept}){early}"


def _validation_line(validation, note: str, history) -> str:
    """The model card's sentence on the validation set."""
    if validation is None:
        return "No validation set was held out: the weights are the last epoch's."
    kept = _kept_epoch(history)
    return (
        f"{len(validation):,} texts ({validation.name}) were held out for validation, "
        f"never trained on and disjoint from the evaluation texts" + (f"; {kept}." if kept else ".")
    )


def _subset(data, n: int, seed: int):
    """A stratified, seeded random subset of ``n`` texts (rows kept in file order)."""
    part = data[_stratified_indices(data.labels, n, seed)]
    part.name = f"{data.name}, stratified sample of {n:,} of {len(data):,}"
    return part


def _stratified_indices(labels: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Sorted indices of ``n`` rows drawn per class in proportion to its size.

    Multi-label data (a 0/1 matrix) is stratified on each text's first label (the
    lowest label id it has), texts without any label making a group of their own: each
    label's share of first labels, and the share of unlabelled texts, are kept.
    """
    import numpy as np

    labels = np.asarray(labels)
    if labels.ndim == 2:
        labels = _first_labels(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts * n / len(labels)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[: n - int(take.sum())]:
        take[i] += 1
    chosen = [
        rng.permutation(np.flatnonzero(labels == c))[:k] for c, k in zip(classes, take, strict=True)
    ]
    return np.sort(np.concatenate(chosen))


def _first_labels(matrix: np.ndarray) -> np.ndarray:
    """Each row's lowest label id with a 1; ``k`` (one more than the last) for none.

    Examples:
        >>> import numpy as np
        >>> from tfx_textzoo.cli import _first_labels
        >>> _first_labels(np.array([[0, 1, 1], [0, 0, 0], [1, 0, 1]])).tolist()
        [1, 3, 0]
    """
    import numpy as np

    matrix = np.asarray(matrix)
    return np.where(matrix.any(axis=1), matrix.argmax(axis=1), matrix.shape[1])


def _describe(data) -> str:
    counts = ", ".join(f"{k}={v:,}" for k, v in list(data.class_counts().items())[:6])
    more = f", ... ({data.num_classes - 6} more)" if data.num_classes > 6 else ""
    texts = "text pairs" if getattr(data, "text_pairs", None) is not None else "texts"
    if getattr(data, "multi_label", False):
        none = int((~data.labels.any(axis=1)).sum())
        return (
            f"{len(data):,} {texts} of {data.name} (texts per label: {counts}{more}; "
            f"{none:,} without a label)"
        )
    return f"{len(data):,} {texts} of {data.name} ({counts}{more})"


def _data_summary(data) -> dict[str, Any]:
    summary = {
        "name": data.name,
        "source": data.source,
        "texts": len(data),
        "class_counts": data.class_counts(),
        "skipped_rows": len(data.skipped),
    }
    if getattr(data, "multi_label", False):
        summary["multi_label"] = True
        summary["texts_without_label"] = int((~data.labels.any(axis=1)).sum())
    if getattr(data, "text_pairs", None) is not None:
        summary["text_pairs"] = True
    return summary


def _check_output(output: str, overwrite: bool, what: str = "--output") -> Path:
    """``output`` as a Path; fail before any work when it cannot be written."""
    from tfx_textzoo._files import check_writable_dir

    path = Path(os.path.expanduser(output))
    if not (path.exists() or path.is_symlink()):
        return check_writable_dir(path, what)
    if not overwrite:
        raise UserError(
            f"{what} {path} already exists",
            "pass --overwrite to replace it, or choose another directory",
        )
    if not path.is_dir():
        raise UserError(f"{what} {path} exists and is not a directory", "choose another path")
    ours = (path / "textzoo.json").exists() or (path / "saved_model.pb").exists()
    if not ours and any(path.iterdir()):
        raise UserError(
            f"{what} {path} is not empty and was not written by textzoo; refusing to "
            "replace it even with --overwrite",
            "choose another directory, or empty it yourself",
        )
    return check_writable_dir(path, what)


def _check_plot(plot: str) -> Path:
    """The ``--plot`` path; fail before any work when it cannot be written."""
    from tfx_textzoo._files import check_writable_dir

    path = Path(os.path.expanduser(plot))
    if path.is_dir():
        raise UserError(
            f"--plot {plot} is a directory", "pass a file name for the image, e.g. --plot cm.png"
        )
    check_writable_dir(path.parent, "the directory of --plot")
    return path


@contextlib.contextmanager
def _writing(path: Path, what: str) -> Iterator[None]:
    """Report a failure to write under ``path`` (disk full, read-only...) as ``what``'s."""
    from tfx_textzoo.errors import OutputNotWritableError, TextzooError

    try:
        yield
    except (FileExistsError, TextzooError):
        raise
    except OSError as err:
        reason = _os_reason(err)
        file = f" (writing {err.filename})" if err.filename else ""
        raise OutputNotWritableError(f"{what} {path} could not be written{file}: {reason}") from err


def _os_reason(err: OSError) -> str:
    """Why an OS call failed, in a few words (h5py puts a C-level report in the message)."""
    text = err.strerror or str(err)
    code = err.errno or next(iter(re.findall(r"errno = (\d+)", text)), None)
    return os.strerror(int(code)) if code else text.splitlines()[0]


def _check_can_push(repo_id: str) -> None:
    """Fail before any upload is prepared: offline mode, or a REPO_ID that is not owner/name."""
    from tfx_textzoo import hub
    from tfx_textzoo.weights import is_offline

    if is_offline():
        raise UserError(
            "offline mode is on (TEXTZOO_OFFLINE / HF_HUB_OFFLINE): push needs the network",
            "unset TEXTZOO_OFFLINE and HF_HUB_OFFLINE to publish",
        )
    try:
        hub.check_repo_id(repo_id)
    except ValueError as err:
        raise UserError(str(err), "REPO_ID is owner/name, e.g. me/ag-news-demo") from None


def _check_saved_dir(directory: Path) -> None:
    if not directory.is_dir():
        raise UserError(
            f"{directory} is not a directory",
            "pass a directory written by `textzoo train` (it holds textzoo.json)",
        )
    if not (directory / "textzoo.json").is_file():
        raise UserError(
            f"{directory} is not a saved textzoo model (textzoo.json is missing)",
            "pass a directory written by `textzoo train` or tfx_textzoo.save_pretrained",
        )


def _load_saved(location: str):
    """Load a saved model directory (or hf://owner/name); a catalog name is refused."""
    textzoo = _textzoo()
    if location.startswith("hf://"):
        return textzoo.load(location)
    path = Path(os.path.expanduser(location))
    if not path.exists():
        try:
            textzoo.get_model_info(location)
        except ValueError:
            pass
        else:
            raise UserError(
                f"{location} is a catalog model name, not a trained model directory",
                f"fine-tune it first: textzoo train {location} --dataset ... --output DIR",
            )
        raise UserError(
            f"{location} does not exist",
            "pass a directory written by `textzoo train` (it holds textzoo.json), "
            "or hf://owner/name",
        )
    _check_saved_dir(path)
    with _progress_to_stderr():
        return textzoo.load(path)


def _model_label(model, location: str) -> str:
    name = getattr(model, "model_name", None)
    return f"{location} ({name})" if name else location


def _write_report_files(
    report, out: Path, train, evaluation, split, seed, validation_line: str = ""
) -> None:
    """Write report.md, report.json and the confusion matrix; link them in the card."""
    from tfx_textzoo._files import atomic_write_text

    data_line = (
        f"Trained on {len(train):,} texts of {train.name}; evaluated on {len(evaluation):,} "
        f"texts of {evaluation.name}."
    )
    if split:
        data_line += f" {split[0].upper()}{split[1:]}."
    elif seed is not None:
        by = "each text's first label" if getattr(train, "multi_label", False) else "class"
        data_line += f" Samples drawn at random, stratified by {by}, with seed {seed}."
    if validation_line:
        data_line += f" {validation_line}"
    multi = _is_multi_label_report(report)
    plot = _plot_name(report)
    heading = "Per-label scores" if multi else "Confusion matrix"
    image = f"![{heading.lower()}]({plot})"
    markdown = f"{report.to_markdown()}\n{data_line}\n\n{image}\n"
    atomic_write_text(out / REPORT_MARKDOWN, markdown)
    report.to_json(out / REPORT_JSON)
    _write_plot(report, out / plot)
    card_path = out / "README.md"
    if card_path.is_file():  # the card's size is not checked on load: it may be edited
        card = card_path.read_text(encoding="utf-8")
        section = (
            f"### {heading}\n\n{image}\n\n{data_line} The full report is in "
            f"[{REPORT_MARKDOWN}]({REPORT_MARKDOWN}) and [{REPORT_JSON}]({REPORT_JSON}).\n\n"
        )
        marker = "## Limitations"
        card = card.replace(marker, section + marker, 1) if marker in card else card + section
        atomic_write_text(card_path, card)


# --- errors --------------------------------------------------------------------------------


def _as_user_error(err: Exception, args: list[str]) -> UserError | None:
    """A `UserError` for an error the user can fix (see `_hints`), or None.

    The hint is chosen by the exception's type, never by its message; the command in
    hand may refine it (which option to pass). The message is the error's own, less any
    advice in Python terms (``encoding='latin-1'``...) that the command line replaces.
    """
    context = _Context.from_args(args)
    for types, hint in _hints():
        if isinstance(err, types):
            text = hint(err, context) if callable(hint) else hint
            if text is None:
                continue
            return UserError(_user_message(err, context), text)
    return None


class _Context:
    """What the failing command line was: the command, its options, whether --dataset is a file."""

    def __init__(self, command: str, options: dict[str, str]) -> None:
        self.command = command
        self.options = options
        dataset = options.get("--dataset", "")
        self.dataset_is_file = bool(dataset) and _is_csv(dataset)

    @classmethod
    def from_args(cls, args: list[str]) -> _Context:
        command = next((a for a in args if not a.startswith("-")), "")
        options = {}
        for i, arg in enumerate(args):
            if arg.startswith("--") and "=" in arg:
                key, _, value = arg.partition("=")
                options[key] = value
            elif arg.startswith("--") and i + 1 < len(args):
                options[arg] = args[i + 1]
        return cls(command, options)

    @property
    def output_option(self) -> str:
        return {"train": "--output", "evaluate": "--plot", "export": "SERVING_DIR"}.get(
            self.command, "the output"
        )


#: Option names of the command line for the Python arguments errors name.
_OPTION_NAMES = {
    "learning_rate": "--lr",
    "head_learning_rate": "--head-lr",
    "batch_size": "--batch-size",
    "epochs": "--epochs",
    "freeze_epochs": "--freeze-epochs",
    "checkpoint_dir": "--output",
    "encoding": "--encoding",
    "top_k": "--top-k",
}


#: Per command, names of arguments that mean one of its own arguments.
_COMMAND_OPTION_NAMES = {"export": {"path": "SERVING_DIR"}}


def _user_message(err: Exception, context: _Context) -> str:
    from tfx_textzoo.errors import InvalidArgumentError

    if isinstance(err, InvalidArgumentError):
        option = _COMMAND_OPTION_NAMES.get(context.command, {}).get(err.argument)
        option = option or _OPTION_NAMES.get(err.argument)
        if option:
            detail = f": {err.detail}" if getattr(err, "detail", "") else ""
            return f"{option} must be {err.expected}, got {err.value!r}{detail}"
    problem = getattr(err, "problem", None)
    if problem:
        return problem
    if isinstance(err, OSError) and err.filename and err.strerror:
        return f"{err.filename}: {err.strerror}"
    return str(err)


def _hints() -> list[tuple[type | tuple[type, ...], Any]]:
    """Exception type -> hint (a string, or a function of the error and the command line).

    The first type that matches wins, so subclasses come before their bases. A function
    may return None to pass the error on to the next entry.
    """
    from tfx_textzoo import errors

    lazy = {  # error types of modules that may not be imported (then none was raised)
        name: _type_from(module, name)
        for module, names in [
            (
                "tfx_textzoo.datasets",
                "DatasetNotFoundError MissingColumnsError DataEncodingError BadRowsError "
                "DataFormatError",
            ),
            ("tfx_textzoo.weights", "WeightsNotFoundError"),
            ("tfx_textzoo.families.scratch", "NotAdaptedError"),
            ("tfx_textzoo.hub", "SymlinkOutsideError HubError"),
        ]
        for name in names.split()
    }
    return [
        (
            errors.UnknownModelError,
            "`textzoo list` shows every model name; `textzoo list 'PATTERN*'` filters",
        ),
        (
            errors.UnknownDatasetError,
            "pass one of the dataset names above, or a .csv/.tsv file (with --text-column "
            "and --label-column)",
        ),
        (lazy["DatasetNotFoundError"], _hidden_labels_hint),
        (
            lazy["DatasetNotFoundError"],
            "pass --data-dir DIR with the split's files (see above), or use --dataset "
            "ag_news-sample (embedded); with only one split on disk, train and evaluate on "
            "disjoint parts of it: --train-split test --eval-split test",
        ),
        (lazy["DataFormatError"], _hidden_labels_hint),
        (lazy["MissingColumnsError"], _missing_columns_hint),
        (lazy["DataEncodingError"], _encoding_hint),
        (
            lazy["BadRowsError"],
            "fix the rows named above, or pass --skip-bad-rows to skip (and count) them",
        ),
        (lazy["DataFormatError"], "fix the file named above (or pass another one)"),
        (errors.SingleClassError, _one_class_hint),
        (errors.LabelMismatchError, _label_mismatch_hint),
        (
            errors.TrainingDivergedError,
            "lower the learning rate, e.g. to a tenth with --lr (and --head-lr for the "
            "frozen phase); a larger --batch-size also steadies training",
        ),
        (
            errors.ArchitectureMismatchError,
            "pass --weights with weights of this model's architecture, or the model NAME "
            "that matches the weights (`textzoo info NAME` shows each one's architecture)",
        ),
        (
            lazy["SymlinkOutsideError"],
            "replace each link named above with a copy of its target (`cp -L`) or remove it, "
            "then push again",
        ),
        (
            errors.CorruptModelError,
            "the directory was damaged or altered after saving: save the model again "
            "(`textzoo train ... --output DIR`), or pass another directory",
        ),
        (errors.OutputNotWritableError, _output_hint),
        (errors.InvalidArgumentError, _argument_hint),
        (
            lazy["WeightsNotFoundError"],
            "pass --weights DIR with a local copy (e.g. a Hugging Face model directory), "
            "or --weights none to start from a random initialisation",
        ),
        (
            lazy["NotAdaptedError"],
            "this from-scratch model has not learned its vocabulary: fine-tune it first "
            "(`textzoo train NAME --dataset ... --output DIR`) and use DIR",
        ),
        (lazy["HubError"], _hub_hint),
        (FileExistsError, _exists_hint),
        (
            (IsADirectoryError, NotADirectoryError),
            "check the path named above: a directory where a file is expected, or the reverse",
        ),
        (PermissionError, "check the permissions of the path named above, or use another path"),
        (FileNotFoundError, _not_found_hint),
        (OSError, _os_error_hint),
        ((ValueError, TypeError), _help_hint),
    ]


class _NeverRaised(Exception):
    """Stands for an error type whose module was never imported (so none was raised)."""


def _type_from(module: str, name: str) -> type:
    """``module.name`` when ``module`` is imported; importing it here could be slow."""
    loaded = sys.modules.get(module)
    return getattr(loaded, name) if loaded is not None else _NeverRaised


def _hidden_labels_hint(err: Exception, context: _Context) -> str | None:
    """For a named dataset's split whose labels are not public (RTE's test): another split.

    None (the next hint) for any other dataset or split.
    """
    from tfx_textzoo.datasets.catalog import DATASETS

    spec = DATASETS.get(context.options.get("--dataset", ""))
    option = "--split" if context.command == "evaluate" else "--eval-split"
    split = context.options.get(option, "test")
    if context.command == "train" and split not in getattr(spec, "hidden_label_splits", ()):
        option, split = "--train-split", context.options.get("--train-split", "train")
    if spec is None or split not in spec.hidden_label_splits:
        return None
    others = [s for s in spec.splits if s not in spec.hidden_label_splits and s != "train"]
    other = others[0] if others else "validation"
    return (
        f"{spec.name}'s {split!r} split has no public labels: pass {option} {other} (or "
        "--data-dir with a labelled copy of the split)"
    )


def _missing_columns_hint(err: Exception, context: _Context) -> str:
    if context.dataset_is_file:
        return (
            "name the columns with --text-column (repeatable), --text-pair-column (the second "
            "texts of pairs) and --label-column"
        )
    return "give the files the columns named above (see --data-dir in `textzoo train --help`)"


def _encoding_hint(err: Exception, context: _Context) -> str:
    if context.command == "predict":
        return "pass the file's encoding, e.g. --encoding latin-1, or re-save it as UTF-8"
    skip = ", or pass --skip-bad-rows to skip such lines"
    if context.dataset_is_file:
        return f"pass the file's encoding, e.g. --encoding latin-1, or re-save it as UTF-8{skip}"
    return f"re-save the file as UTF-8{skip}"


def _one_class_hint(err: Exception, context: _Context) -> str:
    if context.dataset_is_file:
        return (
            "check --label-column: it must name the column that holds each text's class, "
            "and the file needs texts of at least two classes"
        )
    return "train on more texts (a larger --max-train) or on a split with several classes"


def _label_mismatch_hint(err: Exception, context: _Context) -> str:
    if context.dataset_is_file:
        return (
            "evaluate on data labelled with the model's classes (named above); check --label-column"
        )
    return "evaluate on a dataset labelled with the model's classes (named above)"


def _output_hint(err: Exception, context: _Context) -> str:
    if context.command == "evaluate":
        return "choose another --plot path (where you can write), pass --no-plot, or free space"
    return (
        f"choose another {context.output_option} (a directory you can write to), or free "
        "space on that disk"
    )


def _exists_hint(err: Exception, context: _Context) -> str:
    if context.command in ("train", "export"):
        return "pass --overwrite to replace it, or choose another directory"
    if context.command == "evaluate":
        return "choose another --plot path"
    return "remove it, or choose another path"


def _not_found_hint(err: Exception, context: _Context) -> str:
    if context.command in ("evaluate", "predict", "export", "push"):
        return "pass a directory written by `textzoo train` (it holds textzoo.json)"
    return "check the path named above"


#: errno values that mean "this location cannot take what is written to it".
_WRITE_ERRNOS = {"ENOSPC", "EDQUOT", "EFBIG", "EROFS", "EACCES", "EPERM"}


def _os_error_hint(err: Exception, context: _Context) -> str | None:
    if errno.errorcode.get(getattr(err, "errno", None) or 0) in _WRITE_ERRNOS:
        return _output_hint(err, context)
    return None  # another OSError: a bug or the environment, shown with its traceback


def _hub_hint(err: Exception, context: _Context) -> str:
    kind = getattr(err, "kind", "other")
    if kind == "auth":
        return "log in with `hf auth login`, set HF_TOKEN, or pass --token (a 'write' token)"
    if kind == "offline":
        return "unset TEXTZOO_OFFLINE and HF_HUB_OFFLINE to publish (it needs the network)"
    if kind == "unreachable":
        return "check the network, proxy and HF_ENDPOINT, then run the same `textzoo push` again"
    return "read the Hub's answer above; `textzoo --debug push ...` shows the full exchange"


def _argument_hint(err: Exception, context: _Context) -> str:
    if context.command == "export" and getattr(err, "argument", None) == "path":
        return "choose a SERVING_DIR outside the model's directory, e.g. a sibling `DIR-serving`"
    return _help_hint(err, context)


def _help_hint(err: Exception, context: _Context) -> str:
    return f"see `textzoo {context.command} --help`; `textzoo --debug ...` shows the traceback"


if __name__ == "__main__":
    sys.exit(main())
