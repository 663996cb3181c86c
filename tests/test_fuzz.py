"""A results folder damaged in generated ways (hypothesis), resumed from the command line: every
damage is refused with exit status 2 and one line, and nothing in the folder changes.

The damages: a field the format requires dropped, a value retyped or out of its range, a record
duplicated; results.json, state.pt or .lock replaced by a folder, a symbolic link, an empty or a
truncated file, or a foreign file; a mask's bit flipped, a mask or a trial's weights dropped, a
mask cut to another shape, a weight made NaN, in a state.pt re-saved with or without its
checksum brought up to date. ``LT_FUZZ_EXAMPLES`` sets how many are tried (CI: 40, the same
ones every run; more on demand, e.g. ``LT_FUZZ_EXAMPLES=1000 pytest tests/test_fuzz.py``).

Not generated: a plausible value changed within its range (an accuracy edited from 0.44 to 0.45):
results.json carries no checksum, so such an edit is indistinguishable from a record; and records
reordered, which is not damage (records are keyed by trial, round and condition; a test below
resumes a reordered file to the same records).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lt_helpers import schema
from lt_helpers.results import state_digest
from lt_helpers.tools import cli

COMMAND = ["imp", "--model", "lenet_300_100", "--dataset", "mnist1d", "--preset", "smoke", "--rounds", "2",
           "--trials", "2", "--controls", "random_reinit"]
EXAMPLES = int(os.environ.get("LT_FUZZ_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A finished run's folder (2 trials, rounds 0 and 1, tickets and random reinitializations)."""
    out = tmp_path_factory.mktemp("fuzz") / "base"
    assert _run(out)[0] == 0
    return out


def _run(out: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main([*COMMAND, "--out", str(out)])
    return rc, err.getvalue()


def _snapshot(folder: Path) -> dict:
    """Every entry under ``folder``: its kind and, for a file, the hash of its bytes."""
    seen = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                seen[str(path)] = ("link", os.readlink(path))
            elif path.is_dir():
                seen[str(path)] = ("dir",)
            else:
                seen[str(path)] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
    return seen


# --- damages to results.json -------------------------------------------------------------------

def _required_paths(doc: dict) -> list[tuple]:
    """Every field that the format requires, as a path into ``doc``."""
    config, record = schema.RESULTS["properties"]["config"], schema.RESULTS["properties"]["runs"]["items"]
    paths = [("config", k) for k in config["required"]]
    paths += [("config", "hyper", k) for k in config["properties"]["hyper"]["required"]]
    paths += [("config", "provenance", k) for k in config["properties"]["provenance"]["required"]]
    for i in range(len(doc["runs"])):
        paths += [("runs", i, k) for k in record["required"]]
        paths += [("runs", i, "curve", k) for k in record["properties"]["curve"]["required"]]
    return paths


def _value_paths(doc, prefix=()) -> list[tuple]:
    """Every value in ``doc`` (containers and leaves) the format describes, as paths."""
    out = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else ()
    for key, value in items:
        out.append((*prefix, key))
        out += _value_paths(value, (*prefix, key))
    return out


def _get(doc, path):
    for key in path:
        doc = doc[key]
    return doc


def _other_type(value):
    """A value of another JSON type than ``value`` (no number for a number, no bool for a bool)."""
    choices = {"text": "x", "list": [1], "object": {"x": 1}, "bool": True}
    kind = ("bool" if isinstance(value, bool) else "text" if isinstance(value, str) else "list"
            if isinstance(value, list) else "object" if isinstance(value, dict) else "number")
    return st.sampled_from([v for k, v in choices.items() if k != kind])


def _out_of_range(doc, draw):
    """A field set to a value of its type that the experiment or the format rules out."""
    i = draw(st.integers(0, len(doc["runs"]) - 1))
    field, value = draw(st.sampled_from([
        ("trial", doc["config"]["trials"] + 3), ("trial", -1), ("round", doc["config"]["rounds"] + 1),
        ("percent_remaining", 180.0), ("percent_remaining", -5.0), ("early_stop_iteration", 7),
        ("early_stop_test_acc", 1.5), ("condition", "lucky"), ("layer_density", {}),
    ]))
    return ("runs", i, field), value


def _damage_json(doc: dict, draw) -> tuple[str, dict]:
    doc = copy.deepcopy(doc)
    how = draw(st.sampled_from(["drop", "retype", "range", "duplicate", "config"]))
    if how == "drop":
        *parent, key = draw(st.sampled_from(_required_paths(doc)))
        del _get(doc, parent)[key]
        return f"dropped {parent + [key]}", doc
    if how == "retype":
        path = draw(st.sampled_from(_value_paths(doc)))
        *parent, key = path
        _get(doc, parent)[key] = draw(_other_type(_get(doc, path)))
        return f"retyped {list(path)}", doc
    if how == "range":
        (*parent, key), value = _out_of_range(doc, draw)
        _get(doc, parent)[key] = value
        return f"{parent + [key]} = {value!r}", doc
    if how == "duplicate":
        i = draw(st.integers(0, len(doc["runs"]) - 1))
        doc["runs"].insert(draw(st.integers(0, len(doc["runs"]))), copy.deepcopy(doc["runs"][i]))
        return f"record {i} twice", doc
    key, value = draw(st.sampled_from([("model", "conv2"), ("trials", 3), ("seed", 7), ("scope", "global"),
                                       ("version", "0.0.1"), ("controls", [])]))
    doc["config"][key] = value  # another experiment's file
    return f"config {key} = {value!r}", doc


# --- damages to the files and to state.pt -------------------------------------------------------

def _damage_file(folder: Path, draw) -> str:
    name = draw(st.sampled_from(["results.json", "state.pt", ".lock"]))
    path = folder / name
    how = draw(st.sampled_from(["folder", "link", "dangling link", "empty", "truncated", "foreign"]
                               if name != ".lock" else ["folder", "link", "dangling link"]))
    body = path.read_bytes()
    if how in ("folder", "link", "dangling link"):
        path.unlink()
        if how == "folder":
            path.mkdir()
        else:
            target = folder.parent / f"elsewhere-{name}"
            if how == "link":
                target.write_bytes(body)
            path.symlink_to(target)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(body[:draw(st.integers(1, len(body) - 1))])
    else:
        torch.save({"weights": torch.zeros(3)}, path) if name == "state.pt" else path.write_text('{"a": [1, 2]}')
    return f"{name}: {how}"


def _damage_state(folder: Path, draw) -> str:
    path = folder / "state.pt"
    state = torch.load(path, weights_only=True)
    trial = draw(st.integers(0, 1))
    key = draw(st.sampled_from(sorted(k for k in state["masks"] if k.startswith(f"{trial}/"))))
    layer = draw(st.sampled_from(sorted(state["masks"][key])))
    how = draw(st.sampled_from(["flip", "drop mask", "reshape", "nan", "drop dense", "values"]))
    m = state["masks"][key]
    if how == "flip":
        flat = m[layer].flatten().clone()
        i = draw(st.integers(0, flat.numel() - 1))
        flat[i] = ~flat[i]
        m[layer] = flat.view_as(m[layer])
    elif how == "drop mask":
        del state["masks"][key]
    elif how == "reshape":
        m[layer] = m[layer][:-1]
    elif how == "values":
        m[layer] = m[layer].to(torch.float32) * 2
    elif how == "nan":
        state["dense"][trial][layer].view(-1)[draw(st.integers(0, 9))] = float("nan")
    else:
        del state["dense"][trial]
    resealed = draw(st.booleans())  # as if a foreign tool re-saved it with a matching checksum
    if resealed:
        state["sha256"] = state_digest(state)
    torch.save(state, path)
    return f"state.pt {how} at {key} {layer}" + (" (checksum updated)" if resealed else "")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 40,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_generated_damage_is_refused_in_one_line_and_changes_nothing(base, data):
    doc = json.loads((base / "results.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        shutil.copytree(base, folder, symlinks=True)
        kind = data.draw(st.sampled_from(["json", "file", "state"]))
        if kind == "json":
            what, damaged = _damage_json(doc, data.draw)
            (folder / "results.json").write_text(json.dumps(damaged))
        else:
            what = (_damage_file if kind == "file" else _damage_state)(folder, data.draw)
        before = _snapshot(Path(tmp))
        rc, err = _run(folder)
        assert rc == 2, f"{what}: accepted (exit {rc}) {err[-300:]}"
        assert err.startswith("error: ") and err.strip().count("\n") == 0, f"{what}: {err[-500:]}"
        assert _snapshot(Path(tmp)) == before, f"{what}: the folder changed"


def test_records_in_another_order_resume_to_the_same_run(base, tmp_path):
    """Not damage: a resumed run reads records by (trial, round, condition), whatever their order."""
    folder = tmp_path / "run"
    shutil.copytree(base, folder)
    doc = json.loads((folder / "results.json").read_text())
    doc["runs"] = doc["runs"][::-1]
    (folder / "results.json").write_text(json.dumps(doc))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main([*COMMAND[:8], "3", *COMMAND[9:], "--out", str(folder)])  # one more round
    assert rc == 0, err.getvalue()
    done = json.loads((folder / "results.json").read_text())["runs"]
    key = lambda r: (r["trial"], r["round"], r["condition"])
    assert {key(r): r for r in done if r["round"] < 2} == {key(r): r for r in doc["runs"]}
    assert {key(r) for r in done if r["round"] == 2} == {(t, 2, c) for t in (0, 1) for c in ("ticket", "random_reinit")}


def test_the_appendix_prints_the_format_the_code_checks():
    """The appendix holds a marker that the book's build replaces with the schema's table, so a new
    control or field needs no edit of the page (the built page: tests/test_build.py)."""
    from lt_helpers.tools.sphinx_extension import fill_tables

    page = (Path(__file__).parents[1] / "chapters" / "appendix_full_runs.md").read_text()
    assert "| part | field |" not in page  # no copy to go stale
    filled = fill_tables(page)
    assert schema.markdown() in filled and "<!-- the results format" not in filled


def test_the_writer_refuses_what_the_reader_would(tmp_path):
    """write_results checks before writing: a record missing a field is never written."""
    from lt_helpers.store import write_results

    from lt_helpers.full_runs import full_run_json

    doc = json.loads(full_run_json("conv2-mnist1d-full"))
    del doc["runs"][3]["curve"]
    with pytest.raises(schema.SchemaError, match=r"record 3 \(trial \d, round \d+, \w+\): lacks the field\(s\) curve"):
        write_results(tmp_path / "results.json", doc["config"], doc["runs"])
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("argv, says", [
    (["--precision", "fp16"], "precision 'fp16': this CPU has no fp16"),
    (["--device", "cuda:3"], "no GPU is available"),
])
def test_options_the_machine_cannot_honour_are_refused_before_anything_is_written(tmp_path, argv, says, monkeypatch):
    import torch

    if "fp16" in argv[1] and torch.cpu._is_amx_fp16_supported():
        pytest.skip("this CPU computes fp16 (AMX-FP16)")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = cli.main([*COMMAND, *argv, "--out", str(tmp_path / "run")])
    assert rc == 2 and says in err.getvalue() and err.getvalue().count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_a_gpu_index_beyond_the_machines_is_refused(monkeypatch):
    import torch

    from lt_helpers import device
    from lt_helpers.errors import LTError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    with pytest.raises(LTError, match="has 1 GPU"):
        device.resolve_device("cuda:3")
    with pytest.raises(LTError, match="only emulates bf16"):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: including_emulation)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda d=None: "Tesla T4")
        device.check_precision("bf16", "cuda")
