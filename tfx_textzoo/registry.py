"""The model registry: catalog entries (data) and family builders (code).

A *model name* is data: a table in one of the TOML files of the catalog (``registry/``
in the repository, shipped inside the wheel as ``tfx_textzoo/catalog``). A *family*
is code: a builder function registered with
[`register_family`][tfx_textzoo.registry.register_family]. Third-party
packages add both through the entry-point group ``tfx_textzoo.models``.

Reading the catalog imports no family (and so neither TensorFlow nor keras-hub): names,
aliases, descriptions and parameter counts (the catalog's ``params`` field) come from the
TOML files alone. The families are imported the first time one is needed: building a
model, [`get_family`][tfx_textzoo.registry.get_family],
[`list_families`][tfx_textzoo.registry.list_families],
[`source_formats`][tfx_textzoo.registry.source_formats]. A catalog entry's weight formats
are checked against the converters the families register at that moment.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import fnmatch
import importlib.metadata
import re
import sys
import tomllib
import warnings
from collections.abc import Callable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from tfx_textzoo.errors import UnknownModelError

ENTRY_POINT_GROUP = "tfx_textzoo.models"

#: Weight-source formats the weights resolver reads itself, for every family. The other
#: formats a catalog entry may name are those of registered converters (see
#: [`source_formats`][tfx_textzoo.registry.source_formats]): a family registers its own
#: (``tfx_textzoo.weights.register_converter``,
#: or ``converters=`` in [`register_family`][tfx_textzoo.registry.register_family]).
SOURCE_FORMATS = {
    "keras_hub": "a keras-hub preset (built-in name, kaggle:// handle or preset directory)",
    "hf": "a Hugging Face repository in safetensors format (hf://org/name)",
    "local": "a local directory in any format the resolver or a converter reads",
}

_FORMAT_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_NAME_RE = re.compile(r"^[a-z0-9][a-zA-Z0-9]*(?:[-_.][a-zA-Z0-9]+)*$")
_REQUIRED_FIELDS = ("family", "description", "license", "architecture", "tokenizer", "finetune")


@dataclasses.dataclass(frozen=True)
class WeightSource:
    """One place pretrained weights can come from.

    Attributes:
        format: One of `SOURCE_FORMATS`.
        uri: Where the weights are (preset name, ``hf://`` URI, URL or path).
        note: Optional human note (for instance what the source holds).
    """

    format: str
    uri: str
    note: str = ""


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """A catalog entry: everything the zoo knows about one model name.

    Attributes:
        name: The canonical name (``small-bert-L4-H128``).
        family: Name of the family builder that builds it.
        description: One-line description.
        architecture: Architecture numbers passed to the family builder.
        tokenizer: Tokenizer settings (``lowercase``, ``vocabulary``, ``sequence_length``).
        sources: Weight sources, tried in order.
        license: Licence of the weights (SPDX id where one exists).
        citation: How to cite the model.
        finetune: Recommended fine-tuning hyper-parameters.
        aliases: Other names that resolve to this entry.
        catalog: Where the entry was read from.
        params: Parameter count of the backbone and a 2-class head, as the catalog
            records it (written by ``scripts/update_catalog_params.py``), or None.
    """

    name: str
    family: str
    description: str
    architecture: Mapping[str, Any]
    tokenizer: Mapping[str, Any]
    sources: tuple[WeightSource, ...]
    license: str
    citation: str
    finetune: Mapping[str, Any]
    aliases: tuple[str, ...] = ()
    catalog: str = ""
    params: int | None = None

    @property
    def pretrained(self) -> bool:
        """Whether the entry has any pretrained weight source."""
        return bool(self.sources)

    def to_dict(self) -> dict[str, Any]:
        """Return the entry as plain JSON-serialisable data."""
        data = dataclasses.asdict(self)
        data["sources"] = [dataclasses.asdict(s) for s in self.sources]
        data["aliases"] = list(self.aliases)
        data["architecture"] = dict(self.architecture)
        data["tokenizer"] = dict(self.tokenizer)
        data["finetune"] = dict(self.finetune)
        return data


@dataclasses.dataclass(frozen=True)
class Family:
    """A registered model family: everything the core needs to know about it.

    The classifier contract (what a built model holds) is
    `tfx_textzoo.families.base.ZooClassifier`; this record is the rest.

    Attributes:
        name: Family name used by catalog entries.
        builder: ``builder(spec, *, num_classes, labels, weights, sequence_length,
            **overrides) -> ZooClassifier`` (compiled, preprocessor included).
        count_params: ``count_params(architecture, num_classes) -> int`` (optional).
        architecture_keys: Architecture keys an entry of this family must define.
        hf_files: The Hugging Face file patterns a checkpoint of the family needs beyond
            ``config.json`` and the weights (``vocab.txt``; ``vocab.json`` +
            ``merges.txt``; ``*.model``; ``tokenizer.json``).
        converters: Foreign weight format (a `SOURCE_FORMATS` key such as
            ``bert_tf_checkpoint``) -> converter, for formats keras-hub cannot read;
            added with [`register_converter`][tfx_textzoo.registry.register_converter].
        tiny_config: ``load(name, weights=None, **tiny_config)`` overrides that make any
            entry of the family tiny (hidden sizes 2-16): the shared tests use them.
        tiny_tokenizer: ``load`` arguments giving a tiny tokenizer (e.g.
            ``{"vocabulary": [...]}``); empty when the tokenizer learns from the texts.
        hf_model_types: The ``model_type`` values of Hugging Face ``config.json`` files
            this family reads (``"distilbert"``); ``load(dir)`` and ``load("hf://...")``
            of a transformers ``*ForSequenceClassification`` checkpoint pick the family
            by it.
        hf_classifier: ``hf_classifier(directory, config, *, labels) -> ZooClassifier``:
            build the compiled classifier of a transformers ``*ForSequenceClassification``
            checkpoint in ``directory`` (``config`` its parsed ``config.json``, ``labels``
            the names from ``id2label`` in id order), trained head included, its
            preprocessor matching the checkpoint's tokenizer. None: the family loads no
            fine-tuned Hugging Face classifiers.
    """

    name: str
    builder: Callable[..., Any]
    count_params: Callable[[Mapping[str, Any], int], int] | None = None
    architecture_keys: tuple[str, ...] = ()
    hf_files: tuple[str, ...] = ()
    converters: dict[str, Callable[..., Any]] = dataclasses.field(default_factory=dict)
    tiny_config: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    tiny_tokenizer: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hf_model_types: tuple[str, ...] = ()
    hf_classifier: Callable[..., Any] | None = None


class _Registry:
    def __init__(self) -> None:
        self.families: dict[str, Family] = {}
        self.specs: dict[str, ModelSpec] = {}
        self.aliases: dict[str, str] = {}
        self._loaded = False
        self._loading = False
        self._families_loaded = False
        self._families_loading = False
        self._unchecked: list[ModelSpec] = []  # formats to check once families are loaded

    def ensure_loaded(self) -> None:
        """Read the catalog files and the plugins; import no family (no TensorFlow)."""
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for path in sorted(_builtin_catalog_files(), key=lambda p: p.name):
                self.add_catalog(path)
            _load_plugins()
            self._loaded = True
        finally:
            self._loading = False

    def ensure_families(self) -> None:
        """Import the built-in families (every module of the package registers one)."""
        if not (self._families_loaded or self._families_loading):
            self._families_loading = True
            try:
                from tfx_textzoo import families

                families.discover()
                self._families_loaded = True
            finally:
                self._families_loading = False
        self.ensure_loaded()
        if self._families_loaded:
            self._check_unchecked()

    def _check_unchecked(self) -> None:
        """Check the weight formats of the entries read before the families were loaded.

        An entry naming a format no converter reads is removed (so the rest of the zoo
        keeps working) and reported in one error.
        """
        pending, self._unchecked = self._unchecked, []
        allowed = sorted(_known_formats())
        problems = []
        for spec in pending:
            for i, source in enumerate(spec.sources):
                if source.format not in allowed:
                    problems.append(_format_error(spec, i, source.format, allowed))
                    self.remove_spec(spec.name)
                    break
        if problems:
            raise ValueError("\n".join(problems))

    def add_catalog(self, source: str | Path | Mapping[str, Any]) -> list[str]:
        if isinstance(source, Mapping):
            data, origin = dict(source), "<mapping>"
        else:
            path = Path(source)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as err:
                raise ValueError(f"Cannot read catalog file {path}: {err}") from err
            origin = str(path.name)
        # Formats are checked now when the families are loaded, else when they are.
        specs = parse_catalog(data, origin=origin, check_formats=self._families_loaded)
        for spec in specs:
            self.add_spec(spec)
        return [s.name for s in specs]

    def add_spec(self, spec: ModelSpec) -> None:
        for name in (spec.name, *spec.aliases):
            _validate_name(name)
            if name in self.specs or name in self.aliases:
                existing = self.aliases.get(name, name)
                where = self.specs[existing].catalog
                raise ValueError(
                    f"Model name {name!r} from {spec.catalog or 'code'} is already "
                    f"registered (by {existing!r} from {where or 'code'}). Names must be unique; "
                    "pick another name."
                )
        self.specs[spec.name] = spec
        for alias in spec.aliases:
            self.aliases[alias] = spec.name
        if not self._families_loaded and not _formats_known(spec):
            self._unchecked.append(spec)

    def remove_spec(self, name: str) -> None:
        spec = self.specs.pop(name)
        for alias in spec.aliases:
            self.aliases.pop(alias, None)

    def resolve(self, name: str) -> ModelSpec:
        self.ensure_loaded()
        if not isinstance(name, str):
            raise TypeError(f"A model name must be a string, got {type(name).__name__}: {name!r}")
        canonical = self.aliases.get(name, name)
        if canonical in self.specs:
            return self.specs[canonical]
        # Case-insensitive match as a convenience (`small-bert-l4-h128`).
        folded = {n.lower(): n for n in self.all_names()}
        if name.lower() in folded:
            return self.resolve(folded[name.lower()])
        raise UnknownModelError(unknown_name_message(name, self.all_names()), name)

    def all_names(self) -> list[str]:
        return sorted([*self.specs, *self.aliases])


_REGISTRY = _Registry()


def unknown_name_message(name: str, known: list[str]) -> str:
    """Return the error text for an unknown model name, with close matches."""
    close = difflib.get_close_matches(name, known, n=5, cutoff=0.5)
    if not close:
        close = [k for k in known if name.lower() in k.lower()][:5]
    hint = f" Did you mean: {', '.join(close)}?" if close else ""
    return (
        f"Unknown model name {name!r}.{hint} "
        "Run tfx_textzoo.list_models() (or `textzoo list`) to see every name."
    )


def register_family(
    name: str,
    *,
    count_params: Callable[[Mapping[str, Any], int], int] | None = None,
    architecture_keys: tuple[str, ...] = (),
    hf_files: tuple[str, ...] = (),
    converters: Mapping[str, Callable[..., Any]] | None = None,
    tiny_config: Mapping[str, Any] | None = None,
    tiny_tokenizer: Mapping[str, Any] | None = None,
    hf_model_types: tuple[str, ...] = (),
    hf_classifier: Callable[..., Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a family builder under ``name`` (use as a decorator).

    A built-in family is one module under ``tfx_textzoo/families/`` that calls this at
    import time (the package is scanned, nothing lists it); a plugin calls it from its
    entry point. See [`Family`][tfx_textzoo.registry.Family] for what each argument means.

    Args:
        name: Family name that catalog entries refer to.
        count_params: Optional function giving the parameter count of an
            architecture (used by [`get_model_info`][tfx_textzoo.registry.get_model_info]).
        architecture_keys: Keys every catalog entry of the family must define.
        hf_files: Hugging Face file patterns the family's checkpoints need.
        converters: Foreign weight format -> converter (see
            [`register_converter`][tfx_textzoo.registry.register_converter]).
        tiny_config: Overrides that build a tiny model (for the shared tests).
        tiny_tokenizer: ``load`` arguments giving a tiny tokenizer (for the shared tests).
        hf_model_types: Hugging Face ``model_type`` values the family reads.
        hf_classifier: Loader of fine-tuned transformers classifiers (see
            [`Family`][tfx_textzoo.registry.Family]).

    Returns:
        A decorator that registers the builder and returns it unchanged.

    Raises:
        ValueError: If a family of that name is already registered.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> @textzoo.register_family("my-family-doc-example")
        ... def build(spec, *, num_classes, labels, weights, sequence_length, **overrides):
        ...     ...
        >>> "my-family-doc-example" in textzoo.registry.list_families()
        True
    """
    _validate_name(name)

    def decorator(builder: Callable[..., Any]) -> Callable[..., Any]:
        if "tfx_textzoo.families" not in sys.modules:  # a plugin: the built-ins come first
            _REGISTRY.ensure_families()
        if name in _REGISTRY.families:
            raise ValueError(f"Model family {name!r} is already registered.")
        _REGISTRY.families[name] = Family(
            name,
            builder,
            count_params,
            tuple(architecture_keys),
            tuple(hf_files),
            dict(converters or {}),
            dict(tiny_config or {}),
            dict(tiny_tokenizer or {}),
            tuple(hf_model_types),
            hf_classifier,
        )
        return builder

    return decorator


def register_converter(family: str, format: str, converter: Callable[..., Any]) -> None:  # noqa: A002
    """Register ``converter`` for weights of ``family`` in a foreign ``format``.

    The weights resolver looks converters up by family and format (it names no family
    itself); a family module registers its own, next to its builder.

    Args:
        family: A registered family name.
        format: The name of the weight-source format the converter reads, as catalog
            entries name it (lower case, digits and ``_``).
        converter: The callable that converts (its signature is the resolver's).

    Raises:
        ValueError: An unknown family or format, or a format the family has already.

    Examples:
        >>> from tfx_textzoo import registry
        >>> registry.register_converter("scratch", "local", lambda *a: None)
        >>> "local" in registry.get_family("scratch").converters
        True
        >>> del registry.get_family("scratch").converters["local"]
    """
    if not isinstance(format, str) or not _FORMAT_RE.fullmatch(format):
        raise ValueError(f"A weight format is a lower-case name like 'my_format', got {format!r}")
    converters = get_family(family).converters
    if format in converters:
        raise ValueError(f"Family {family!r} already has a converter for {format!r}.")
    converters[format] = converter


def source_formats() -> list[str]:
    """Every weight-source format a catalog entry may name, sorted.

    The resolver's own (`SOURCE_FORMATS`), the formats of converters registered with
    ``tfx_textzoo.weights.register_converter``, and those registered families carry.

    Examples:
        >>> from tfx_textzoo import registry
        >>> {"hf", "keras_hub", "local"} <= set(registry.source_formats())
        True
    """
    _REGISTRY.ensure_families()
    return sorted(_known_formats())


def _known_formats() -> set[str]:
    """The formats known now, without importing any family."""
    from tfx_textzoo import weights  # imports only the standard library and this module

    formats = {*SOURCE_FORMATS, *weights.registered_formats()}
    for family in _REGISTRY.families.values():
        formats.update(family.converters)
    return formats


def _formats_known(spec: ModelSpec) -> bool:
    known = _known_formats() if spec.sources else set()
    return all(source.format in known for source in spec.sources)


def _format_error(spec: ModelSpec, index: int, format: str, allowed: list[str]) -> str:  # noqa: A002
    return (
        f"{spec.catalog or '<catalog>'}: model {spec.name!r}: sources[{index}] has unknown "
        f"format {format!r}; allowed: {allowed} (a family adds formats by registering "
        "converters)"
    )


def get_converter(family: str, format: str) -> Callable[..., Any] | None:  # noqa: A002
    """The converter ``family`` registered for ``format``, or None.

    Examples:
        >>> from tfx_textzoo import registry
        >>> registry.get_converter("scratch", "tfhub") is None
        True
    """
    return get_family(family).converters.get(format)


def register_catalog(source: str | Path | Mapping[str, Any]) -> list[str]:
    """Add catalog entries from a TOML file (or the same data as a mapping).

    Args:
        source: Path of a catalog TOML file, or its parsed content.

    Returns:
        The canonical names that were added.

    Raises:
        ValueError: If the file is unreadable, an entry is invalid, or a name
            (or alias) is already registered.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> textzoo.register_catalog({"models": {"scratch-doc-example": {
        ...     "family": "scratch", "description": "doc example", "license": "Apache-2.0",
        ...     "architecture": {"vocabulary_size": 100, "sequence_length": 16,
        ...                      "embedding_dim": 8, "num_heads": 2, "intermediate_dim": 8,
        ...                      "num_layers": 1, "hidden_units": 4, "dropout": 0.1},
        ...     "tokenizer": {"lowercase": True}, "finetune": {"learning_rate": 1e-3}}}})
        ['scratch-doc-example']
    """
    _REGISTRY.ensure_loaded()
    return _REGISTRY.add_catalog(source)


def list_models(pattern: str | None = None) -> list[str]:
    """Return every registered model name (aliases included), sorted.

    Args:
        pattern: Optional shell-style filter (``fnmatch``), e.g. ``"small-bert*"``.
            Matching is case-insensitive.

    Returns:
        The names that match, in ``sorted()`` order (by code point, so
        ``small-bert-L10-H128`` comes before ``small-bert-L2-H128``: a stable order
        that scripts may rely on). ``textzoo list`` shows them in natural order
        (``sorted(names, key=tfx_textzoo.cli.natural_key)``). Reading the catalog
        imports no family and no TensorFlow.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> textzoo.list_models("bert-base*")
        ['bert-base-cased', 'bert-base-multilingual-cased', 'bert-base-uncased']
    """
    _REGISTRY.ensure_loaded()
    names = _REGISTRY.all_names()
    if pattern is None:
        return names
    if not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string, got {type(pattern).__name__}")
    return [n for n in names if fnmatch.fnmatch(n.lower(), pattern.lower())]


def list_families() -> list[str]:
    """Return the names of the registered model families, sorted.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> "bert" in textzoo.registry.list_families()
        True
    """
    _REGISTRY.ensure_families()
    return sorted(_REGISTRY.families)


def get_spec(name: str) -> ModelSpec:
    """Return the [`ModelSpec`][tfx_textzoo.registry.ModelSpec] for a name or alias.

    Raises:
        UnknownModelError: (a ``ValueError``) For an unknown name, with the closest
            names suggested.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> textzoo.registry.get_spec("small-bert-L4").name
        'small-bert-L4-H128'
    """
    return _REGISTRY.resolve(name)


def get_family(name: str) -> Family:
    """Return the registered [`Family`][tfx_textzoo.registry.Family] called ``name``.

    Raises:
        ValueError: If no family of that name is registered.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> textzoo.registry.get_family("bert").name
        'bert'
    """
    _REGISTRY.ensure_families()
    try:
        return _REGISTRY.families[name]
    except KeyError:
        raise ValueError(
            f"No model family {name!r} is registered (known: {', '.join(list_families())}). "
            "Is the plugin package that provides it installed?"
        ) from None


def get_model_info(name: str) -> dict[str, Any]:
    """Describe a model: family, size, tokenizer, weight sources, licence, citation.

    Args:
        name: A model name or alias (see [`list_models`][tfx_textzoo.registry.list_models]).

    Returns:
        A JSON-serialisable dict with the catalog entry plus ``params`` (parameter
        count of the backbone and a 2-class head) and ``requested_name``. ``params`` is
        the catalog's number when it records one (no family is imported); else the
        family counts it (which imports the family, and TensorFlow).

    Raises:
        UnknownModelError: (a ``ValueError``) For an unknown name, with the closest
            names suggested.

    Examples:
        >>> import tfx_textzoo as textzoo
        >>> info = textzoo.get_model_info("small-bert-L4")
        >>> info["name"], info["architecture"]["num_layers"], info["architecture"]["hidden_dim"]
        ('small-bert-L4-H128', 4, 128)
    """
    spec = get_spec(name)
    info = spec.to_dict()
    info["requested_name"] = name
    if spec.params is None:
        info["params"] = count_params(spec)
    return info


def count_params(spec: ModelSpec, num_classes: int = 2) -> int | None:
    """Count the parameters of ``spec``'s backbone and a ``num_classes`` head.

    The family's ``count_params`` does it (the family is imported); None when the family
    registered none. The catalog's ``params`` field records this number for 2 classes
    (``scripts/update_catalog_params.py`` writes it).

    Examples:
        >>> from tfx_textzoo import registry
        >>> spec = registry.get_spec("scratch-tiny")
        >>> registry.count_params(spec) == spec.params
        True
    """
    family = get_family(spec.family)
    return family.count_params(spec.architecture, num_classes) if family.count_params else None


def parse_catalog(
    data: Mapping[str, Any], origin: str = "<catalog>", *, check_formats: bool = True
) -> list[ModelSpec]:
    """Validate a parsed catalog file and return its entries.

    A catalog has an optional ``[defaults]`` table deep-merged into every entry and
    a ``[models.NAME]`` table per model.

    Args:
        data: The parsed TOML.
        origin: The file name, for messages.
        check_formats: Check each weight source's format against
            [`source_formats`][tfx_textzoo.registry.source_formats] (which imports the
            families). False: only that it is a format name; the registry checks the
            formats when it loads the families.

    Raises:
        ValueError: With the file, the entry and what is wrong.

    Examples:
        >>> from tfx_textzoo.registry import parse_catalog
        >>> parse_catalog({"models": {}})
        []
    """
    unknown_top = set(data) - {"defaults", "models"}
    if unknown_top:
        raise ValueError(f"{origin}: unknown top-level table(s) {sorted(unknown_top)}")
    defaults = data.get("defaults", {})
    models = data.get("models")
    if not isinstance(models, Mapping):
        raise ValueError(f"{origin}: a catalog needs a [models.NAME] table per model")
    return [
        _parse_entry(name, _deep_merge(defaults, entry), origin, check_formats)
        for name, entry in models.items()
    ]


def _parse_entry(
    name: str, entry: Mapping[str, Any], origin: str, check_formats: bool
) -> ModelSpec:
    where = f"{origin}: model {name!r}"
    _validate_name(name)
    missing = [f for f in _REQUIRED_FIELDS if f not in entry]
    if missing:
        raise ValueError(f"{where} is missing required field(s): {', '.join(missing)}")
    known = {*_REQUIRED_FIELDS, "sources", "citation", "aliases", "params"}
    extra = set(entry) - known
    if extra:
        raise ValueError(f"{where} has unknown field(s) {sorted(extra)}; allowed: {sorted(known)}")
    for table in ("architecture", "tokenizer", "finetune"):
        if not isinstance(entry[table], Mapping):
            raise ValueError(f"{where}: {table!r} must be a table")
    sources = []
    for i, src in enumerate(entry.get("sources", [])):
        if not isinstance(src, Mapping) or "format" not in src or "uri" not in src:
            raise ValueError(f"{where}: sources[{i}] needs 'format' and 'uri'")
        if check_formats:
            allowed = source_formats()
            if src["format"] not in allowed:
                raise ValueError(
                    f"{where}: sources[{i}] has unknown format {src['format']!r}; "
                    f"allowed: {allowed} (a family adds formats by registering converters)"
                )
        elif not isinstance(src["format"], str) or not _FORMAT_RE.fullmatch(src["format"]):
            raise ValueError(f"{where}: sources[{i}] has an invalid format {src['format']!r}")
        sources.append(WeightSource(src["format"], src["uri"], src.get("note", "")))
    aliases = tuple(entry.get("aliases", ()))
    for alias in aliases:
        _validate_name(alias)
    params = entry.get("params")
    if params is not None and (not isinstance(params, int) or isinstance(params, bool)):
        raise ValueError(f"{where}: 'params' must be a whole number, got {params!r}")
    return ModelSpec(
        name=name,
        family=str(entry["family"]),
        description=str(entry["description"]),
        architecture=dict(entry["architecture"]),
        tokenizer=dict(entry["tokenizer"]),
        sources=tuple(sources),
        license=str(entry["license"]),
        citation=str(entry.get("citation", "")),
        finetune=dict(entry["finetune"]),
        aliases=aliases,
        catalog=origin,
        params=params,
    )


def _validate_name(name: str) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ValueError(
            f"Invalid model or family name {name!r}: use letters, digits and single "
            "'-', '_' or '.' separators, starting with a lowercase letter or digit."
        )


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _builtin_catalog_files() -> list[Path]:
    """The catalog TOML files: installed package data, or ``registry/`` in a checkout."""
    packaged = resources.files("tfx_textzoo") / "catalog"
    if packaged.is_dir():
        return [Path(str(p)) for p in packaged.iterdir() if p.name.endswith(".toml")]
    checkout = Path(__file__).resolve().parent.parent / "registry"
    return sorted(checkout.glob("*.toml"))


def _load_plugins() -> None:
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            target = ep.load()
            if callable(target):
                target()
        except Exception as err:  # noqa: BLE001 - a broken plugin must never break the zoo
            warnings.warn(
                f"tfx_textzoo plugin {ep.name!r} ({ep.value}) failed to load and was skipped: "
                f"{type(err).__name__}: {err}",
                RuntimeWarning,
                stacklevel=2,
            )
