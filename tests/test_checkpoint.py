"""A round stopped midway goes on from its checkpoint (lt_helpers.checkpoint), bit for bit."""

import pytest
import torch

from lt_helpers import checkpoint, iterative, train

SETTINGS = dict(model="lenet_300_100", dataset="mnist1d", preset="smoke", rounds=2, trials=3,
                controls=("random_reinit",), progress=False)


def _stop_in_round_2_after(monkeypatch, steps: int) -> None:
    """Make every group of round 2 fail after ``steps`` training steps (each forked group counts
    its own), as a killed run would stop."""
    armed, count = {"on": False}, [0]
    real_train, real_step = iterative.train, train.masked_step

    def train_and_arm(*args, **kwargs):
        armed["on"] = kwargs.get("desc", "").startswith("round 2/")
        return real_train(*args, **kwargs)

    def step(*args, **kwargs):
        if armed["on"]:
            count[0] += 1
            if count[0] > steps:
                raise RuntimeError("stopped")
        return real_step(*args, **kwargs)

    monkeypatch.setattr(iterative, "train", train_and_arm)
    monkeypatch.setattr(train, "masked_step", step)


@pytest.mark.parametrize("groups", [2, 1])  # forked groups; one group in this process
def test_a_round_stopped_midway_goes_on_from_its_checkpoint_bit_for_bit(mnist1d, tmp_path, monkeypatch, groups):
    whole = iterative.run_imp(**SETTINGS, data=mnist1d, groups=groups)
    monkeypatch.setattr(checkpoint, "EVERY_S", 0.0)  # save at every evaluation
    with monkeypatch.context() as stop:
        _stop_in_round_2_after(stop, 110)  # smoke: 150 steps, evaluations every 25
        with pytest.raises(RuntimeError, match="stopped"):
            iterative.run_imp(**SETTINGS, data=mnist1d, groups=groups, out=tmp_path)
    saved = sorted((tmp_path / "partial").rglob("*.pt"))
    assert [p.name for p in saved] == [f"group{g}.pt" for g in range(groups)]
    at = sorted(torch.load(p, weights_only=True)["iteration"] for p in saved)
    assert set(at) <= {50, 75, 100} and 100 in at  # the last evaluation before (a group stopped by its
    # neighbour's failure may be an evaluation behind)
    went_on = tmp_path / "went_on_from.txt"  # written by each group, forked or not
    real = train._restore

    def restore(*args):
        it = real(*args)
        with went_on.open("a") as f:  # closed here: a forked group ends without flushing
            f.write(f"{it}\n")
        return it

    monkeypatch.setattr(train, "_restore", restore)
    again = iterative.run_imp(**SETTINGS, data=mnist1d, groups=groups, out=tmp_path)
    assert sorted(map(int, went_on.read_text().split())) == at  # round 2 went on from its checkpoints
    assert again.runs == whole.runs  # every record, curves included, as if never stopped
    assert not (tmp_path / "partial").exists()  # removed once the round is saved


def test_a_checkpoint_of_other_settings_is_not_used(mnist1d, tmp_path, monkeypatch, capfd):
    whole = iterative.run_imp(**SETTINGS, data=mnist1d)
    monkeypatch.setattr(checkpoint, "EVERY_S", 0.0)
    with monkeypatch.context() as stop:
        _stop_in_round_2_after(stop, 60)
        with pytest.raises(RuntimeError):
            iterative.run_imp(**SETTINGS, data=mnist1d, out=tmp_path)
    files = sorted((tmp_path / "partial").rglob("*.pt"))
    state = torch.load(files[0], weights_only=True)
    torch.save({**state, "identity": "another experiment"}, files[0])  # e.g. other masks
    files[1].write_bytes(b"not a checkpoint")  # cut or foreign
    capfd.readouterr()
    again = iterative.run_imp(**SETTINGS, data=mnist1d, out=tmp_path)
    err = capfd.readouterr().err
    assert "was saved for other settings" in err and "cannot be read" in err and "starts its round over" in err
    assert again.runs == whole.runs


def test_the_identity_changes_with_anything_that_decides_the_training(mnist1d):
    theta0 = iterative.initial_weights("lenet_300_100", mnist1d.input_shape, 0)
    mask = {n: torch.ones(w.shape, dtype=torch.bool) for n, w in theta0.items() if n.endswith("weight")}
    hp = train.Hyper(iterations=10)
    base = checkpoint.identity("lenet_300_100", hp, [1], [theta0], [mask], snapshot_at=None)
    other_mask = {**mask, "layers.0.weight": mask["layers.0.weight"].clone().fill_(False)}
    other_init = {**theta0, "layers.2.bias": theta0["layers.2.bias"] + 1}
    for changed in (checkpoint.identity("lenet_300_100", hp, [2], [theta0], [mask], snapshot_at=None),
                    checkpoint.identity("lenet_300_100", train.Hyper(iterations=11), [1], [theta0], [mask],
                                        snapshot_at=None),
                    checkpoint.identity("lenet_300_100", hp, [1], [theta0], [other_mask], snapshot_at=None),
                    checkpoint.identity("lenet_300_100", hp, [1], [other_init], [mask], snapshot_at=None),
                    checkpoint.identity("lenet_300_100", hp, [1], [theta0], [mask], snapshot_at=5)):
        assert changed != base
    assert checkpoint.identity("lenet_300_100", hp, [1], [theta0], [mask], snapshot_at=None) == base


@pytest.mark.parametrize("kind", ["link", "file"])
def test_a_partial_that_is_not_our_folder_is_refused_before_anything_trains(mnist1d, tmp_path, kind):
    from lt_helpers.errors import ResultsError

    out, elsewhere = tmp_path / "run", tmp_path / "elsewhere"
    out.mkdir()
    elsewhere.mkdir()
    if kind == "link":
        (out / "partial").symlink_to(elsewhere, target_is_directory=True)
    else:
        (out / "partial").write_text("someone's notes")
    with pytest.raises(ResultsError, match="partial is (a symbolic link|not a folder).*left untouched"):
        iterative.run_imp(**SETTINGS, data=mnist1d, out=out)
    assert not (out / "results.json").exists() and not any(elsewhere.iterdir())


def test_a_resumed_run_counts_the_time_its_round_in_progress_had_trained(mnist1d, tmp_path, monkeypatch):
    """The wall time of a run resumed mid-round includes what its checkpoints had trained before the
    stop (the most of its groups'), which a new process would otherwise not know of."""
    monkeypatch.setattr(checkpoint, "EVERY_S", 0.0)
    with monkeypatch.context() as stop:
        _stop_in_round_2_after(stop, 110)
        with pytest.raises(RuntimeError, match="stopped"):
            iterative.run_imp(**SETTINGS, data=mnist1d, groups=2, out=tmp_path)
    import json

    before = json.loads((tmp_path / "results.json").read_text())["config"]["provenance"]["wall_time_s"]
    trained = [torch.load(p, weights_only=True)["seconds"] for p in (tmp_path / "partial").rglob("*.pt")]
    assert len(trained) == 2 and all(s > 0 for s in trained) and checkpoint.seconds(tmp_path / "partial") == max(trained)
    for p in (tmp_path / "partial").rglob("*.pt"):  # as if each group had trained a day before the stop
        saved = torch.load(p, weights_only=True)
        torch.save({**saved, "seconds": 86400.0}, p)
    again = iterative.run_imp(**SETTINGS, data=mnist1d, groups=2, out=tmp_path)
    assert again.config["provenance"]["wall_time_s"] >= before + 86400.0
    assert checkpoint.seconds(tmp_path / "partial") == 0.0  # the folder is gone with the saved round


def test_a_round_in_chunks_keeps_each_finished_chunk_and_trains_only_the_rest(mnist1d, tmp_path, monkeypatch, count_chunks):
    """max_copies=2 trains round 2's six networks (3 tickets, 3 reinitializations) in three
    chunks, in turn; a stop in the second keeps the first (records and next masks, not its groups'
    files), the rerun trains the other two only, and every record and mask is what a run never
    stopped gives with the same chunks."""
    whole = iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path / "whole")
    with monkeypatch.context() as stop:
        count_chunks(stop, "round 2/", stop_at=2)
        with pytest.raises(RuntimeError, match="stopped"):
            iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path / "run")
    partial = tmp_path / "run" / "partial"
    assert sorted(p.relative_to(partial).as_posix() for p in partial.rglob("*.pt")) == ["round1-from0/done.pt"]
    kept = torch.load(partial / "round1-from0" / "done.pt", weights_only=True)
    assert [o["record"]["condition"] for o in kept["outcomes"]] == ["ticket", "random_reinit"]
    assert checkpoint.seconds(partial) == kept["seconds"] > 0  # counted in the resumed run's wall time
    with monkeypatch.context() as count:
        calls = count_chunks(count, "round 2/")
        again = iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path / "run")
    assert calls[0] == 2
    assert again.runs == whole.runs
    digest = lambda run: torch.load(tmp_path / run / "state.pt", weights_only=True)["sha256"]
    assert digest("run") == digest("whole")  # the masks the kept chunk pruned, bit for bit
    assert again.config["provenance"]["max_copies"] == 2


def test_a_kept_chunk_of_other_settings_is_trained_again(mnist1d, tmp_path, monkeypatch, capfd, count_chunks):
    with monkeypatch.context() as stop:
        count_chunks(stop, "round 2/", stop_at=2)
        with pytest.raises(RuntimeError, match="stopped"):
            iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path)
    done = tmp_path / "partial" / "round1-from0" / "done.pt"
    torch.save({**torch.load(done, weights_only=True), "identity": "another experiment"}, done)
    capfd.readouterr()
    with monkeypatch.context() as count:
        calls = count_chunks(count, "round 2/")
        iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path)
    assert calls[0] == 3
    assert "was saved for other settings; this chunk of the round trains again" in capfd.readouterr().err


def test_the_time_of_a_round_in_chunks_adds_its_chunks(tmp_path):
    """Chunks train in turn, so their times add; a chunk's groups train side by side: their most."""
    partial = tmp_path / "partial"
    checkpoint.finish(partial / "round3-from0", "id", {"outcomes": []}, seconds=100.0)
    checkpoint.write(partial / "round3-from2" / "group0.pt", "id", 50, {}, seconds=30.0)
    checkpoint.write(partial / "round3-from2" / "group1.pt", "id", 50, {}, seconds=40.0)
    assert checkpoint.seconds(partial) == 140.0
    checkpoint.finish(partial / "round3-from2", "id", {"outcomes": []}, seconds=45.0)
    assert checkpoint.seconds(partial) == 145.0 and not list((partial / "round3-from2").glob("group*.pt"))


def test_a_kept_chunk_of_the_dense_round_is_not_reused_for_another_experiment(mnist1d, tmp_path, monkeypatch,
                                                                               capfd, count_chunks):
    """Before round 0 is saved there is no results.json to refuse another experiment: the kept
    chunk's identity holds the experiment itself (here rewinding, and the pruning rates)."""
    with monkeypatch.context() as stop:
        count_chunks(stop, "round 1/", stop_at=2)
        with pytest.raises(RuntimeError, match="stopped"):
            iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, out=tmp_path)
    capfd.readouterr()
    with monkeypatch.context() as count:
        calls = count_chunks(count, "round 1/")
        other = iterative.run_imp(**SETTINGS, data=mnist1d, max_copies=2, rewind=20,
                                   rates={"fc": 0.5, "output": 0.2}, out=tmp_path)
    assert calls[0] == 2 and "this chunk of the round trains again" in capfd.readouterr().err
    assert other.rewound.keys() == {0, 1, 2}  # every trial rewinds, the first chunk's included


def test_the_round_in_progress_alone_counts_and_a_finished_chunk_keeps_nothing_else(tmp_path):
    partial = tmp_path / "partial"
    checkpoint.write(partial / "round2-from0" / "group0.pt", "id", 50, {}, seconds=500.0)  # left by a saved round
    checkpoint.write(partial / "round3-from0" / "group0.pt", "id", 50, {}, seconds=30.0)
    assert checkpoint.seconds(partial, 3) == 30.0 and checkpoint.seconds(partial) == 530.0
    checkpoint.write(partial / "round3-from0" / "network1" / "group0.pt", "id", 50, {}, seconds=20.0)  # one at a time
    assert checkpoint.seconds(partial, 3) == 50.0
    checkpoint.finish(partial / "round3-from0", "id", {"outcomes": []}, seconds=60.0)
    assert [p.name for p in (partial / "round3-from0").iterdir()] == ["done.pt"]
    assert checkpoint.seconds(partial, 3) == 60.0
