"""A run packed into one file on one machine and unpacked on another goes on as if it had never
moved (lt_helpers.carry; ``python -m lt_helpers pack`` / ``unpack``)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from lt_helpers import carry, iterative
from lt_helpers.errors import ResultsError
from lt_helpers.tools import cli

SMOKE = dict(model="lenet_300_100", dataset="mnist1d", preset="smoke", hyper={"iterations": 60, "eval_every": 20})


def _run(mnist1d, **kw):
    return iterative.run_imp(**{**SMOKE, **kw}, data=mnist1d)


@pytest.mark.parametrize("controls, rewind", [(("random_reinit",), 0), (("random_reinit", "oneshot"), 0),
                                             (("random_reinit",), 20)])
def test_a_carried_run_goes_on_record_for_record(mnist1d, tmp_path, controls, rewind):
    whole = _run(mnist1d, rounds=3, trials=2, controls=controls, rewind=rewind, out=tmp_path / "whole")
    _run(mnist1d, rounds=2, trials=2, controls=controls, rewind=rewind, out=tmp_path / "here")
    carry.pack(tmp_path / "here", tmp_path / "run.npz")
    carry.unpack(tmp_path / "run.npz", tmp_path / "there")
    resumed = _run(mnist1d, rounds=3, trials=2, controls=controls, rewind=rewind, out=tmp_path / "there")
    assert resumed.runs == whole.runs
    assert whole.masks.keys() == resumed.masks.keys()
    for key, m in whole.masks.items():
        assert all(torch.equal(m[n], resumed.masks[key][n]) for n in m)
    with np.load(tmp_path / "run.npz") as npz:  # the trained dense weights travel only where a control uses them
        assert any(k.startswith("dense/") for k in npz.files) == ("oneshot" in controls)
        assert any(k.startswith("rewound/") for k in npz.files) == bool(rewind)


def test_the_packed_file_is_a_fraction_of_the_folder(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=2, out=tmp_path / "run")
    carry.pack(tmp_path / "run", tmp_path / "run.npz")
    folder = sum(p.stat().st_size for p in (tmp_path / "run").iterdir())
    assert (tmp_path / "run.npz").stat().st_size < folder / 4


def test_a_damaged_pack_is_refused_and_writes_nothing(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    carry.pack(tmp_path / "run", tmp_path / "run.npz")
    with np.load(tmp_path / "run.npz") as npz:
        arrays = {k: npz[k] for k in npz.files}
    key = next(k for k in arrays if k.startswith("masks/0/1/"))
    arrays[key] = arrays[key].copy()
    arrays[key][0] ^= 1  # one weight's bit flipped
    np.savez_compressed(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ResultsError, match="bad.npz is damaged"):
        carry.unpack(tmp_path / "bad.npz", tmp_path / "there")
    assert not (tmp_path / "there").exists()
    for junk in (b"not a zip", (tmp_path / "run.npz").read_bytes()[:5000]):  # a cut copy too
        (tmp_path / "junk.npz").write_bytes(junk)
        with pytest.raises(ResultsError, match="junk.npz is not a run packed by lt_helpers, or is damaged"):
            carry.unpack(tmp_path / "junk.npz", tmp_path / "there")
    assert not (tmp_path / "there").exists()


def test_a_stopped_unpack_leaves_no_half_run(mnist1d, tmp_path, monkeypatch):
    """results.json written after state.pt: a stop between them left a folder that unpack refused
    and imp started over in. Now the folder appears whole or not at all."""
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    carry.pack(tmp_path / "run", tmp_path / "run.npz")

    def stopped(*args, **kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(carry, "write_results", stopped)
    with pytest.raises(KeyboardInterrupt):
        carry.unpack(tmp_path / "run.npz", tmp_path / "there")
    assert not (tmp_path / "there").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["run", "run.npz"]


def test_unpacking_never_overwrites_anything(mnist1d, tmp_path):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    carry.pack(tmp_path / "run", tmp_path / "run.npz")
    before = (tmp_path / "run" / "results.json").read_bytes()
    (tmp_path / "a file").write_text("mine")
    (tmp_path / "lock only").mkdir()
    (tmp_path / "lock only" / ".lock").write_text("")
    for there in ("run", "a file", "lock only"):
        with pytest.raises(ResultsError, match="already exists and is not an empty folder"):
            carry.unpack(tmp_path / "run.npz", tmp_path / there)
    assert (tmp_path / "run" / "results.json").read_bytes() == before and (tmp_path / "a file").read_text() == "mine"
    (tmp_path / "empty").mkdir()
    assert (carry.unpack(tmp_path / "run.npz", tmp_path / "empty") / "state.pt").is_file()


def test_a_run_resumed_on_other_kernels_names_both_machines(mnist1d, tmp_path, capsys):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    saved["config"]["provenance"].update(kernel_probe="0123456789abcdef", cpu_capability="AVX2")  # as if made there
    (tmp_path / "run" / "results.json").write_text(json.dumps(saved))
    capsys.readouterr()
    _run(mnist1d, rounds=3, trials=1, out=tmp_path / "run")
    prov = json.loads((tmp_path / "run" / "results.json").read_text())["config"]["provenance"]
    assert [(e["kernel_probe"], e["until_round"]) for e in prov["earlier"]] == [("0123456789abcdef", 1)]
    assert prov["kernel_probe"] != "0123456789abcdef"
    assert "rounds up to 1" in capsys.readouterr().err
    _run(mnist1d, rounds=4, trials=1, out=tmp_path / "run")  # resumed again on the same machine: nothing added
    assert len(json.loads((tmp_path / "run" / "results.json").read_text())["config"]["provenance"]["earlier"]) == 1


def test_a_run_begun_before_cpu_capability_was_recorded_says_it_is_unknown(mnist1d, tmp_path, capsys):
    """A run started by older code lacks cpu_capability: resumed, maybe on another machine with
    the same kernel probe (AVX-512 and AVX2 machines share it), its first rounds say "not recorded"."""
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    del saved["config"]["provenance"]["cpu_capability"]
    (tmp_path / "run" / "results.json").write_text(json.dumps(saved))
    capsys.readouterr()
    _run(mnist1d, rounds=3, trials=1, out=tmp_path / "run")
    prov = json.loads((tmp_path / "run" / "results.json").read_text())["config"]["provenance"]
    assert [(e["cpu_capability"], e["until_round"]) for e in prov["earlier"]] == [("not recorded", 1)]
    assert prov["cpu_capability"] != "not recorded"
    assert "cpu_capability not recorded" in capsys.readouterr().err


def test_the_command_line_packs_and_unpacks(mnist1d, tmp_path, capsys):
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    assert cli.main(["pack", str(tmp_path / "run"), str(tmp_path / "run.npz")]) == 0
    assert cli.main(["unpack", str(tmp_path / "run.npz"), str(tmp_path / "there")]) == 0
    assert (tmp_path / "there" / "state.pt").is_file() and "wrote" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    assert cli.main(["pack", str(tmp_path / "empty"), str(tmp_path / "x.npz")]) == 2
    assert "no results file" in capsys.readouterr().err
    assert cli.main(["pack", str(tmp_path / "run"), str(tmp_path / "new" / "folder" / "run.npz")]) == 0  # made
    (tmp_path / "run" / "partial" / "round2-from0").mkdir(parents=True)  # a round in progress: not carried, said
    assert cli.main(["pack", str(tmp_path / "run"), str(tmp_path / "again.npz")]) == 0
    assert "the round in progress" in capsys.readouterr().err


def test_a_runs_provenance_names_the_kernels_that_computed_it():
    """The kernel probe alone let an AVX-512 machine pass for an AVX2 one whose records it does
    not reproduce: PyTorch's own kernels follow the CPU capability, recorded beside the probe."""
    from lt_helpers import device

    prov = device.provenance("cpu")
    assert prov["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and prov["kernel_probe"]


def test_dense_weights_may_be_left_out_only_where_no_control_is_made_from_them(mnist1d, tmp_path):
    from lt_helpers.results import state_digest

    for controls, accepted in ((("random_reinit",), True), (("oneshot",), False)):
        out = tmp_path / controls[0]
        _run(mnist1d, rounds=2, trials=2, controls=controls, out=out)
        state = torch.load(out / "state.pt", weights_only=True)
        state["dense"] = {}  # what a carried run holds
        state["sha256"] = state_digest(state)
        torch.save(state, out / "state.pt")
        if accepted:
            assert len(_run(mnist1d, rounds=3, trials=2, controls=controls, out=out).runs) == 2 + 4 + 4
        else:
            with pytest.raises(ResultsError, match="trial 0's dense weights missing"):
                _run(mnist1d, rounds=3, trials=2, controls=controls, out=out)


IN_PROGRESS = sorted((Path(__file__).resolve().parents[1] / "results" / "in-progress").glob("*.npz"))


@pytest.mark.parametrize("packed", IN_PROGRESS, ids=lambda p: p.name)
def test_a_committed_run_in_progress_unpacks_to_a_folder_its_command_resumes(packed, tmp_path):
    """results/in-progress holds full runs that train across sessions, packed after each: each one
    unpacks, and passes every check a resumed run makes (records without a gap, masks that follow
    the pruning schedule round by round and match the records)."""
    from lt_helpers import store
    from lt_helpers.results import Results, load_results

    carry.unpack(packed, tmp_path / "run")
    done = load_results(tmp_path / "run")
    fresh = Results(json.loads(json.dumps(done.config)))
    store.resume(fresh, tmp_path / "run")
    assert fresh.runs == done.runs and max(r["round"] for r in done.runs) < done.config["rounds"] - 1


def test_chapter_6s_explorer_says_so_where_a_carried_run_has_no_dense_weights(mnist1d, tmp_path):
    from lt_helpers import widgets
    from lt_helpers.errors import LTError
    from lt_helpers.results import load_results

    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    carry.unpack(carry.pack(tmp_path / "run", tmp_path / "run.npz"), tmp_path / "there")
    with pytest.raises(LTError, match="no trained dense weights for trial 0"):
        widgets.init_vs_final_explorer(load_results(tmp_path / "there"), trial=0)


def test_a_round_in_chunks_carries_its_finished_chunks(mnist1d, tmp_path, monkeypatch, capsys, count_chunks):
    """A run trained a few networks at a time (max_copies) and packed mid-round takes its finished
    chunks along: the other machine trains only the rest, and every record is the same."""
    kw = dict(rounds=3, trials=2, controls=("random_reinit",), max_copies=2)
    whole = _run(mnist1d, **kw, out=tmp_path / "whole")
    with monkeypatch.context() as stop:
        count_chunks(stop, "round 3/", stop_at=2)
        with pytest.raises(RuntimeError, match="stopped"):
            _run(mnist1d, **kw, out=tmp_path / "here")
    assert carry.left_behind(tmp_path / "here") is None  # the finished chunk travels: nothing is left
    (tmp_path / "here" / "partial" / "round2-from2").mkdir()  # the chunk that was training: left behind, said
    done = tmp_path / "here" / "partial" / "round2-from0" / "done.pt"
    kept = torch.load(done, weights_only=True)
    kept["provenance"]["kernel_probe"] = "0123456789abcdef"  # as if computed on another machine
    torch.save(kept, done)
    capsys.readouterr()
    assert cli.main(["pack", str(tmp_path / "here"), str(tmp_path / "run.npz")]) == 0
    assert "starts over where the run goes on; its 1 finished chunk(s) travel" in capsys.readouterr().err
    carry.unpack(tmp_path / "run.npz", tmp_path / "there")
    assert [p.parent.name for p in (tmp_path / "there" / "partial").glob("*/done.pt")] == ["round2-from0"]
    with monkeypatch.context() as count:
        calls = count_chunks(count, "round 3/")
        resumed = _run(mnist1d, **kw, out=tmp_path / "there")
    assert calls[0] == 1 and resumed.runs == whole.runs
    earlier = resumed.config["provenance"]["earlier"]
    assert [(e["chunk"], e["kernel_probe"]) for e in earlier] == [("round2-from0", "0123456789abcdef")]
    assert "chunk round2-from0 of round 2" in capsys.readouterr().err


def test_a_run_resumed_in_other_chunks_says_so(mnist1d, tmp_path, capsys):
    """How many networks train at once decides how they are batched, so how their floats round:
    a run resumed with another max_copies keeps the first one in provenance.earlier."""
    _run(mnist1d, rounds=2, trials=2, out=tmp_path / "run")
    capsys.readouterr()
    _run(mnist1d, rounds=3, trials=2, max_copies=2, out=tmp_path / "run")
    prov = json.loads((tmp_path / "run" / "results.json").read_text())["config"]["provenance"]
    assert [(e["max_copies"], e["until_round"]) for e in prov["earlier"]] == [(32, 1)] and prov["max_copies"] == 2
    assert "max_copies 32" in capsys.readouterr().err


def test_a_run_from_before_max_copies_was_recorded_resumes_as_it_was_made(mnist1d, tmp_path, capsys):
    """Code that did not record max_copies always used 32 from the command line: resumed with it,
    nothing moved, and nothing is said."""
    _run(mnist1d, rounds=2, trials=1, out=tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "results.json").read_text())
    del saved["config"]["provenance"]["max_copies"]
    (tmp_path / "run" / "results.json").write_text(json.dumps(saved))
    capsys.readouterr()
    _run(mnist1d, rounds=3, trials=1, out=tmp_path / "run")
    assert "earlier" not in json.loads((tmp_path / "run" / "results.json").read_text())["config"]["provenance"]
    assert "note:" not in capsys.readouterr().err
