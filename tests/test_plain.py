"""The plain reference (torch.nn, torch.nn.utils.prune, torch.optim) trains the same networks as
the fast loop: held to the records of an IMP run on the smoke preset."""

import pytest
import torch

from lt_helpers import iterative, plain
from lt_helpers.batches import Batches
from lt_helpers.errors import LTError
from lt_helpers.experiment import Experiment
from lt_helpers.hparams import Hyper


@pytest.fixture(scope="module")
def smoke_run(mnist1d):
    return iterative.run_imp("lenet_300_100", "mnist1d", "smoke", trials=2, controls=(), data=mnist1d,
                             progress=False)


def test_the_plain_reference_gives_the_records_of_the_fast_loop(smoke_run, mnist1d):
    """Every ticket of the run (dense, then pruned twice), retrained by the plain reference from its
    θ0, mask and data seed. The two compute the same sums in a different order, and Adam amplifies
    rounding (a tiny gradient's sign decides a full step), so the curves part slowly: measured
    here at most 2e-4 (relative) through iteration 75 and 2e-3 by 150. A wrong mask, θ0, loss or
    first batch shows from iteration 25; a wrong second epoch (a DataLoader's order) shows 7e-3
    at iteration 75."""
    hp = Experiment.from_config(smoke_run.config).hyper
    assert len(smoke_run.runs) == 6 and {r["round"] for r in smoke_run.runs} == {0, 1, 2}
    for r in smoke_run.runs:
        t, rnd = r["trial"], r["round"]
        out = plain.train_masked(mnist1d, smoke_run.theta0[t], smoke_run.masks[(t, rnd)], hp,
                                 iterative.data_seed(0, t, rnd))
        fast, ref = r["curve"], out["curve"]
        assert ref["iteration"] == fast["iteration"] == list(range(0, 151, 25))
        early = [e for e, it in enumerate(fast["iteration"]) if it <= 75]
        assert [ref["val_loss"][e] for e in early] == pytest.approx([fast["val_loss"][e] for e in early], rel=1e-3)
        assert ref["val_loss"] == pytest.approx(fast["val_loss"], rel=2e-2)
        for key in ("val_acc", "test_acc"):
            assert ref[key] == pytest.approx(fast[key], abs=0.02)
        assert out["early_stop_iteration"] == r["early_stop_iteration"]
        assert out["early_stop_test_acc"] == pytest.approx(r["early_stop_test_acc"], abs=0.02)
    assert smoke_run.runs[0]["percent_remaining"] == 100 and smoke_run.runs[-1]["percent_remaining"] < 70


def test_its_batches_are_the_fast_loops_over_several_epochs():
    ours = plain.batches(130, 60, seed=7)
    theirs = Batches(130, 60, [7], "cpu")
    for _ in range(7):  # three and a half epochs of two batches each
        assert torch.equal(next(ours), theirs.next()[0][0])


def test_a_pruned_weight_is_never_used_or_moved(mnist1d):
    """Through torch.nn.utils.prune: the effective weight is zero where the mask is, from the start."""
    theta0 = iterative.initial_weights("lenet_300_100", mnist1d.input_shape, 3)
    mask = {n: torch.rand(w.shape, generator=torch.Generator().manual_seed(1)) < 0.3
            for n, w in theta0.items() if n.endswith("weight")}
    hp = Hyper(iterations=50, eval_every=25, lr=0.05)
    masked = plain.train_masked(mnist1d, theta0, mask, hp, seed=0)
    dense = plain.train_masked(mnist1d, theta0, {n: torch.ones_like(m) for n, m in mask.items()}, hp, seed=0)
    assert masked["curve"]["val_loss"][0] != dense["curve"]["val_loss"][0]  # the mask applies at iteration 0
    for name, keep in mask.items():
        assert torch.count_nonzero(masked["weights"][name][~keep]) == 0
        assert (masked["weights"][name][keep] != theta0[name][keep]).float().mean() > 0.9  # the rest trained
        assert masked["weights"][name].shape == theta0[name].shape


@pytest.mark.parametrize("change, named", [({"optimizer": "sgd"}, "optimizer"), ({"warmup": 10}, "warmup"),
                                           ({"dropout": 0.5}, "dropout"), ({"precision": "bf16"}, "precision")])
def test_what_it_leaves_out_is_refused_by_name(mnist1d, change, named):
    theta0 = iterative.initial_weights("lenet_300_100", mnist1d.input_shape, 0)
    mask = {n: torch.ones(w.shape, dtype=torch.bool) for n, w in theta0.items() if n.endswith("weight")}
    with pytest.raises(LTError, match=f"leaves out {named}.*lt_helpers.train.train"):
        plain.train_masked(mnist1d, theta0, mask, Hyper(iterations=10, **change), seed=0)
