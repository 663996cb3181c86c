"""The format of ``results.json``, as one JSON Schema that every reader and writer checks
(with ``fastjsonschema``, which compiles it: the 23 shipped full runs in 0.3 s, where the
``jsonschema`` library's validator took 12 s): resuming a run (:func:`lt_helpers.results.load_results`),
writing one (:func:`lt_helpers.store.write_results`) and the full runs the book ships
(:func:`lt_helpers.full_runs.full_run`). A file that does not match is refused in one line that
names the file, the record and the field, and is left as it was.

:data:`RESULTS` is the format of an IMP run (``python -m lt_helpers imp``): its ``config`` (the
experiment, as :meth:`lt_helpers.experiment.Experiment.config` writes it, and where it ran) and
one record per trained network. :data:`CHAPTER` is a chapter's own results (``make results``),
whose records differ by chapter. :func:`markdown` is the format as the appendix prints it.
"""

from __future__ import annotations

from functools import lru_cache

from .data import DATASETS
from .errors import ResultsError
from .controls import IMP as CONTROLS
from .models import MODELS

__all__ = ["RESULTS", "CHAPTER", "SchemaError", "check", "fields", "markdown"]

_INT0 = {"type": "integer", "minimum": 0}
_FRACTION = {"type": ["number", "null"], "minimum": 0, "maximum": 1}  # null: a diverged network's value
_SERIES = {"type": "array", "items": {"type": ["number", "null"]}}

_HYPER = {"type": "object", "description": "the training hyperparameters (lt_helpers.hparams.Hyper)",
          "required": ["iterations", "batch_size", "optimizer", "lr", "momentum", "weight_decay", "eval_every", "warmup",
                       "lr_drops", "precision", "dropout", "augment"],  # test_every: written where it is set
          "properties": {"iterations": {"type": "integer", "minimum": 1}, "batch_size": {"type": "integer", "minimum": 1},
                         "optimizer": {"enum": ["adam", "sgd"]}, "lr": {"type": "number", "exclusiveMinimum": 0},
                         "momentum": {"type": "number"}, "weight_decay": {"type": "number", "minimum": 0},
                         "eval_every": {"type": "integer", "minimum": 1}, "test_every": _INT0, "warmup": _INT0,
                         "lr_drops": {"type": "array", "items": _INT0},
                         "precision": {"enum": ["auto", "fp32", "bf16", "fp16"]},
                         "dropout": {"type": "number", "minimum": 0, "maximum": 1}, "augment": {"type": "boolean"}}}

_TEXT = {"type": "string"}
_PROVENANCE = {"type": "object", "description": "versions, machine and wall time (lt_helpers.device.provenance)",
               "required": ["lt_helpers", "torch", "python", "git_commit", "device_name", "cpu_threads", "wall_time_s"],
               "properties": {"lt_helpers": _TEXT, "torch": _TEXT, "python": _TEXT, "git_commit": {"type": ["string", "null"]},
                              "device_name": _TEXT, "cpu_threads": {"type": "integer", "minimum": 1},
                              "wall_time_s": {"type": "number", "minimum": 0}, "kernel_probe": _TEXT,
                              "cpu_capability": _TEXT,
                              "max_copies": {"type": "integer", "minimum": 1,
                                             "description": "the most networks a round trained at once "
                                                            "(lt_helpers.iterative.run)"},
                              "earlier": {"type": "array", "items": {"type": "object"},
                                          "description": "where a resumed run's earlier rounds were computed, "
                                                         "when elsewhere (lt_helpers.store)"}}}

_CONFIG = {
    "type": "object", "description": "the experiment, and where it ran",
    "required": ["model", "dataset", "preset", "rounds", "trials", "controls", "seed", "hyper", "rates", "scope",
                 "rewind", "groups", "device", "batched", "version", "provenance"],
    "properties": {
        "model": {"enum": list(MODELS), "description": "the network (lt_helpers.models.MODELS)"},
        "dataset": {"enum": list(DATASETS), "description": "the data set (lt_helpers.data.DATASETS)"},
        "preset": {"type": "string", "description": "the preset the settings started from"},
        "rounds": {"type": "integer", "minimum": 1, "description": "levels of pruning, the dense round 0 included"},
        "trials": {"type": "integer", "minimum": 1, "description": "independent trials (each its own θ0)"},
        "controls": {"type": "array", "items": {"enum": list(CONTROLS)}, "description": "the controls trained"},
        "control_rounds": {"type": "array", "items": {"type": "integer", "minimum": 1},
                           "description": "the rounds the controls train at (absent: every pruned round)"},
        "seed": {**_INT0, "description": "the experiment's seed"},
        "hyper": _HYPER,
        "rates": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1},
                  "description": "fraction pruned per round, by kind of layer (conv, fc, output)"},
        "scope": {"enum": ["layer", "global"], "description": "layer-wise or global pruning"},
        "rewind": {**_INT0, "description": "the iteration survivors are reset to (0: θ0)"},
        "groups": {"type": "integer", "minimum": 1, "description": "batched groups per round on a CPU"},
        "device": {"type": "string", "description": "where it trained (cpu, cuda, mps)"},
        "batched": {"type": "boolean", "description": "networks trained as batched copies"},
        "version": {"type": "string", "description": "the lt_helpers version that ran it"},
        "provenance": _PROVENANCE,
    }}

_RECORD = {
    "type": "object", "description": "one trained network",
    "required": ["trial", "round", "condition", "percent_remaining", "layer_density", "distance_from_start",
                 "early_stop_iteration", "early_stop_at_end", "early_stop_test_acc", "final_test_acc", "curve"],
    "properties": {
        "trial": {**_INT0, "description": "its trial (shares θ0 and data order with the trial's other networks)"},
        "round": {**_INT0, "description": "its level of pruning (0: dense)"},
        "condition": {"enum": ["ticket", *CONTROLS], "description": "the ticket or a control"},
        "percent_remaining": {"type": "number", "minimum": 0, "maximum": 100, "description": "weights kept (%)"},
        "layer_density": {"type": "object", "minProperties": 1, "description": "fraction kept, layer by layer",
                          "additionalProperties": {"type": "number", "minimum": 0, "maximum": 1}},
        "distance_from_start": {"type": ["number", "null"], "description": "mean absolute change of kept weights"},
        "early_stop_iteration": {**_INT0, "description": "the iteration of minimum validation loss"},
        "early_stop_at_end": {"type": "boolean", "description": "that minimum was the last evaluation"},
        "early_stop_test_acc": {**_FRACTION, "description": "test accuracy there (0 to 1)"},
        "final_test_acc": {**_FRACTION, "description": "test accuracy at the end of training"},
        "diverged": {"const": True, "description": "present only when the loss became NaN or infinite"},
        "curve": {"type": "object", "description": "one entry per evaluation",
                  "required": ["iteration", "val_loss", "val_acc", "test_acc"],
                  "properties": {"iteration": {"type": "array", "minItems": 1, "items": _INT0},
                                 "val_loss": _SERIES, "val_acc": _SERIES, "test_acc": _SERIES}},
    }}

RESULTS = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "results.json of an IMP run",
           "type": "object", "required": ["config", "runs"],
           "properties": {"config": _CONFIG, "runs": {"type": "array", "items": _RECORD}}}
CHAPTER = {"$schema": "http://json-schema.org/draft-07/schema#", "title": "results.json of a chapter",
           "type": "object", "required": ["config", "runs"],
           "properties": {"config": {"type": "object"},
                          "runs": {"type": "array", "items": {"type": "object"}}}}


class SchemaError(ResultsError):
    """A results file that does not match its format (one line: file, record, field)."""


@lru_cache(maxsize=None)
def _validator(kind: str):
    import fastjsonschema

    return fastjsonschema.compile({"imp": RESULTS, "chapter": CHAPTER}[kind])


def _where(raw: dict, path) -> str:
    """'record 12 (trial 0, round 3, ticket), field curve.iteration' for a JSON path."""
    path = list(path)
    if path[:1] == ["runs"] and len(path) > 1:
        r = raw["runs"][path[1]]
        who = (f" (trial {r.get('trial')}, round {r.get('round')}, {r.get('condition')})"
               if isinstance(r, dict) and {"trial", "round", "condition"} <= set(r) else "")
        field = ".".join(map(str, path[2:]))
        return f"record {path[1]}{who}" + (f", field {field}" if field else "")
    return "field " + ".".join(map(str, path)) if path else "the top level"


def _consistent(raw: dict) -> tuple[list, str] | None:
    """What the schema cannot say: records within the experiment, curves of one length with the
    early stop among their iterations. The first problem as (JSON path, message), or None."""
    config = raw["config"]
    for i, r in enumerate(raw["runs"]):
        if r["trial"] >= config["trials"]:
            return ["runs", i, "trial"], f"trial {r['trial']} but the config has {config['trials']} trials"
        if r["round"] > config["rounds"]:
            return ["runs", i, "round"], f"round {r['round']} but the config has {config['rounds']} rounds"
        c = r["curve"]
        lengths = {k: len(c[k]) for k in ("iteration", "val_loss", "val_acc", "test_acc")}
        if len(set(lengths.values())) > 1:
            return ["runs", i, "curve"], f"its series differ in length ({lengths})"
        if r["early_stop_iteration"] not in c["iteration"]:
            return ["runs", i, "early_stop_iteration"], f"{r['early_stop_iteration']} is not an evaluated iteration"
    return None


def check(raw, path, kind: str = "imp") -> None:
    """Raise :class:`SchemaError` in one line unless ``raw`` (a parsed ``results.json``) matches
    the format ``kind`` ('imp' or 'chapter'); ``path`` names the file in the message."""
    from fastjsonschema import JsonSchemaValueException

    try:
        _validator(kind)(raw)
        found = None
    except JsonSchemaValueException as err:  # its path: ['data', 'runs', '12', 'curve', ...]
        what = err.message.split(" ", 1)[1]  # "must be integer"; "must contain ['trial'] properties"
        if what.startswith("must contain ["):
            what = "lacks the field(s) " + what[len("must contain ["):].split("]")[0].replace("'", "")
        found = ([int(p) if p.isdigit() else p for p in err.path[1:]], what)
    if found is None and kind == "imp":
        found = _consistent(raw)
    if found is not None:
        where, what = found
        raise SchemaError(f"{path} does not match the results format: {_where(raw, where)}: {what}. It was left "
                          "untouched: move or delete it, or choose another --out.")


def fields(kind: str = "imp"):
    """The format as a table (pandas DataFrame): part, field, type, meaning; for the appendix."""
    import pandas as pd

    def kind_of(spec: dict) -> str:
        if "enum" in spec:
            return "one of " + ", ".join(map(str, spec["enum"]))
        if "const" in spec:
            return f"{spec['const']!r}".lower()
        if spec.get("type") == "array":
            return "list of " + (kind_of(spec["items"]) + "s" if "enum" not in spec["items"] else
                                 f"({kind_of(spec['items'])})")
        return " or ".join(spec["type"]) if isinstance(spec.get("type"), list) else spec.get("type", "")

    schema = {"imp": RESULTS, "chapter": CHAPTER}[kind]
    rows = []
    for part, key in (("config", schema["properties"]["config"]), ("record", schema["properties"]["runs"]["items"])):
        for name, spec in key.get("properties", {}).items():
            rows.append(dict(part=part, field=name, required=name in key.get("required", []), type=kind_of(spec),
                             meaning=spec.get("description", "")))
    return pd.DataFrame(rows)


def markdown() -> str:
    """The IMP format as a Markdown table (the appendix holds it; a test keeps the two equal)."""
    rows = ["| part | field | required | type | meaning |", "|---|---|---|---|---|"]
    for r in fields().itertuples():
        rows.append(f"| {r.part} | `{r.field}` | {'yes' if r.required else 'no'} | {r.type} | {r.meaning} |")
    return "\n".join(rows)
