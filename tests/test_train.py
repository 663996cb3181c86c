import multiprocessing
import os
import sys
import time

import pytest
import torch

from lt_helpers import batches, device, masks, models, optim, train
from lt_helpers.fast import adam, pool
from lt_helpers.errors import LTError
from lt_helpers.masks import Mask

HP = train.Hyper(iterations=120, batch_size=60, eval_every=20)


def _setup(n, seed=0):
    net = models.build("lenet_300_100", (1, 40))
    inits = [models.build("lenet_300_100", (1, 40), seeds=[seed + k]).get_copy(0) for k in range(n)]
    rates = masks.layer_rates(net, {"fc": 0.5, "output": 0.25})
    ms = [masks.prune(masks.random_scores(Mask.ones_like(net), seed + k), Mask.ones_like(net), rates) for k in range(n)]
    return inits, ms


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_pruned_stay_zero_and_every_kept_weight_trains(mnist1d, optimizer):
    inits, ms = _setup(1)
    hp = train.Hyper(iterations=100, eval_every=50, optimizer=optimizer, lr=1e-3 if optimizer == "adam" else 0.05,
                     weight_decay=1e-4)
    run = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0])[0]
    for name, m in ms[0].items():
        final, start = run.weights[name], inits[0][name]
        assert torch.count_nonzero(final[~m]) == 0, "a pruned weight came back to life"
        moved = final != start
        for sign in (start > 0, start < 0):  # the np.where(w < eps, ...) bug froze every negative weight
            both = m & sign
            assert moved[both].float().mean() > 0.9, f"{name}: kept weights of one sign did not train"


def test_adam_state_cannot_revive_pruned_weights(mnist1d):
    """Pruned weights get zero gradient from the first step, so Adam's moment estimates
    stay zero and no later step moves them: zero mid-run (snapshot) and at the end."""
    inits, ms = _setup(1)
    hp = train.Hyper(iterations=80, eval_every=40, lr=0.05)  # a large step would show any leak
    run = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0], snapshot_at=40)[0]
    for name, m in ms[0].items():
        assert torch.all(run.snapshot[name][~m] == 0) and torch.all(run.weights[name][~m] == 0)
        assert torch.count_nonzero(inits[0][name][~m]) > 0  # they did start non-zero


@pytest.mark.parametrize("n, groups", [(3, 2), (4, 1)])  # (4, 1): one group of 4 (fast.layers._FewOutputs)
def test_batched_matches_one_at_a_time(mnist1d, n, groups):
    inits, ms = _setup(n)
    seeds = list(range(1, n + 1))
    together = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=seeds, groups=groups)
    alone = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=seeds, batched=False)
    for a, b in zip(together, alone):
        assert a.curve["iteration"] == b.curve["iteration"]
        assert a.curve["val_loss"] == pytest.approx(b.curve["val_loss"], rel=1e-4, abs=1e-5)
        assert a.curve["test_acc"] == pytest.approx(b.curve["test_acc"], abs=2e-3)
        for name in a.weights:
            assert torch.allclose(a.weights[name], b.weights[name], atol=1e-3)  # Adam may amplify rounding
    # and the copies really differ from each other (different seeds, masks, data order)
    assert together[0].curve["val_loss"] != together[1].curve["val_loss"]


def test_early_stopping_is_minimum_validation_loss(mnist1d):
    inits, ms = _setup(2)
    for run in train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1]):
        c = run.curve
        assert c["iteration"] == list(range(0, 121, 20))
        best = c["val_loss"].index(min(c["val_loss"]))
        assert run.early_stop_iteration == c["iteration"][best]
        assert run.early_stop_test_acc == c["test_acc"][best]
        assert run.final_test_acc == c["test_acc"][-1]


def test_same_seed_is_bitwise_identical(mnist1d):
    inits, ms = _setup(2)
    a = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[4, 5])
    b = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[4, 5])
    for x, y in zip(a, b):
        assert x.curve == y.curve
        assert all(torch.equal(x.weights[n], y.weights[n]) for n in x.weights)


def test_snapshot_and_test_accuracy(mnist1d):
    inits, ms = _setup(1)
    run = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0], snapshot_at=40)[0]
    assert run.snapshot is not None and not torch.equal(run.snapshot["layers.0.weight"], inits[0]["layers.0.weight"])
    acc = train.test_accuracy("lenet_300_100", mnist1d, [run.weights], ms)
    assert acc[0] == pytest.approx(run.final_test_acc, abs=1e-6)


def test_learning_rate_schedule():
    hp = train.Hyper(lr=0.1, warmup=10, lr_drops=[100, 200])
    assert optim.lr_factor(0, hp) == pytest.approx(0.1)
    assert optim.lr_factor(50, hp) == 1.0
    assert optim.lr_factor(150, hp) == pytest.approx(0.1)
    assert optim.lr_factor(250, hp) == pytest.approx(0.01)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_learning_rate_schedule_is_applied_in_training(mnist1d, optimizer):
    """A drop at iteration 50 leaves the first 50 steps alone and changes the ones after."""
    inits, ms = _setup(1)
    base = dict(iterations=100, eval_every=50, optimizer=optimizer, lr=1e-3 if optimizer == "adam" else 0.05)
    plain, dropped = (train.train("lenet_300_100", mnist1d, inits, ms, train.Hyper(**base, lr_drops=drops),
                                  seeds=[0], snapshot_at=50)[0] for drops in ([], [50]))
    for name in plain.weights:
        assert torch.equal(plain.snapshot[name], dropped.snapshot[name])
    moved = lambda run: sum(float((run.weights[n] - run.snapshot[n]).abs().sum()) for n in run.weights)
    assert moved(dropped) < 0.3 * moved(plain)  # a tenth of the step size after the drop


@pytest.mark.parametrize("weight_decay", [0.0, 1e-2])
@pytest.mark.parametrize("fused", [True, False])  # False: devices without fused kernels (Apple's MPS)
def test_adam_updates_exactly_as_torch_optim_adam(weight_decay, fused):
    """``fast.adam.Adam`` skips torch.optim's per-step bookkeeping but not a bit of the update."""
    torch.manual_seed(0)
    ours = [torch.randn(3, 40, 30, requires_grad=True), torch.randn(3, 1, 30, requires_grad=True)]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    hp = train.Hyper(lr=1e-2, weight_decay=weight_decay)
    opt = (optim.make_optimizer(ours, hp, torch.device("cpu")) if fused  # what the loop uses on a CPU
           else adam.Adam(ours, hp.lr, weight_decay, fused=False))
    ref = torch.optim.Adam(theirs, lr=1e-2, weight_decay=weight_decay, fused=fused or None)
    assert isinstance(opt, adam.Adam) and opt.fused == fused
    for step in range(5):
        grads = [torch.randn_like(p) for p in ours]
        for o, lr in ((opt, 1e-2 / (step + 1)), (ref, 1e-2 / (step + 1))):
            o.zero_grad()
            o.param_groups[0]["lr"] = lr
        for params in (ours, theirs):
            for p, g in zip(params, grads):
                p.grad = g.clone()
        opt.step()
        ref.step()
        assert all(torch.equal(a, b) for a, b in zip(ours, theirs)), f"step {step}"


@pytest.mark.parametrize("major, expected", [(7, torch.float16), (8, torch.bfloat16), (9, torch.bfloat16)])
def test_auto_precision_on_a_gpu(monkeypatch, major, expected):
    """'auto' is bf16 on GPUs that compute it (Ampere and later) and fp16 with loss scaling on
    older ones, such as Colab's T4 (major 7), where torch can only emulate bf16, slowly."""
    # torch's documented answer: native bf16 from compute capability 8; emulated (slowly) below
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: major >= 8 or including_emulation)
    assert optim.half_dtype("auto", torch.device("cuda")) == expected
    assert optim.half_dtype("auto", torch.device("cpu")) is None


@pytest.mark.parametrize("field, value, message", [
    ("iterations", 0, "iterations"), ("batch_size", -1, "batch_size"), ("optimizer", "rmsprop", "optimizer"),
    ("lr", 0.0, "learning rate"), ("eval_every", 0, "eval_every"), ("precision", "int8", "precision")])
def test_bad_hyperparameters(field, value, message):
    with pytest.raises(LTError, match=message):
        train.Hyper(**{field: value}).check()


def test_mismatched_lists_and_big_batch(mnist1d):
    inits, ms = _setup(2)
    with pytest.raises(LTError, match="one entry per run"):
        train.train("lenet_300_100", mnist1d, inits, ms[:1], HP, seeds=[0, 1])
    with pytest.raises(LTError, match="larger than the training set"):
        train.train("lenet_300_100", mnist1d, inits, ms, train.Hyper(batch_size=10_000), seeds=[0, 1])


def test_cuda_request_without_gpu_is_explained(monkeypatch):
    monkeypatch.delenv("LT_DEVICE", raising=False)
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(LTError, match="no GPU"):
        device.resolve_device("cuda")
    assert device.resolve_device("auto").type == "cpu"


def test_bf16_autocast_trains_close_to_fp32(mnist1d):
    inits, ms = _setup(2)
    full = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1])
    half = train.train("lenet_300_100", mnist1d, inits, ms, train.Hyper(**{**HP.to_dict(), "precision": "bf16"}),
                       seeds=[0, 1])
    for a, b in zip(full, half):
        assert a.curve["val_loss"] != b.curve["val_loss"]  # really computed differently
        assert a.curve["val_loss"] == pytest.approx(b.curve["val_loss"], abs=0.05)
        for name, m in ms[0].items():
            assert b.weights[name].dtype == torch.float32  # master weights stay fp32


def test_cpu_groups_do_not_change_results(mnist1d):
    threads = torch.get_num_threads()
    inits, ms = _setup(4)
    one = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2, 3], groups=1)
    two = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2, 3], groups=2)
    for a, b in zip(one, two):
        assert a.curve["val_loss"] == pytest.approx(b.curve["val_loss"], rel=1e-4, abs=1e-5)
    assert torch.get_num_threads() == threads  # the caller's thread count is restored


def test_the_machines_threads_do_not_change_results(mnist1d):
    """Groups are set by the run, not the cores: the same call with 1 or 2 threads gives
    bit-identical networks (one group in this process, and two in child processes)."""
    inits, ms = _setup(3)
    before, got = torch.get_num_threads(), {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            got[threads] = [train.train("lenet_300_100", mnist1d, inits[:k], ms[:k], HP, seeds=[0, 1, 2][:k])
                            for k in (1, 3)]
    finally:
        torch.set_num_threads(before)
    for a, b in zip(sum(got[1], []), sum(got[2], [])):
        assert a.curve == b.curve
        assert all(torch.equal(a.weights[n], b.weights[n]) for n in a.weights)
    with pytest.raises(LTError, match="groups must be at least 1"):
        train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2], groups=0)


@pytest.mark.skipif(sys.platform != "linux", reason="groups train in forked processes on Linux only")
def test_process_groups_equal_thread_groups(mnist1d, monkeypatch):
    inits, ms = _setup(4)
    forked = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2, 3], groups=2, snapshot_at=40)
    monkeypatch.setenv("LT_PROCESSES", "0")
    threaded = train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2, 3], groups=2, snapshot_at=40)
    for a, b in zip(forked, threaded):
        assert a.curve == b.curve and a.early_stop_iteration == b.early_stop_iteration
        for name in a.weights:
            assert torch.equal(a.weights[name], b.weights[name]) and torch.equal(a.snapshot[name], b.snapshot[name])


@pytest.mark.skipif(sys.platform != "linux", reason="groups train in forked processes on Linux only")
def test_children_report_progress_errors_and_deaths():
    seen = []

    def first(report):
        report(5)
        return "a"

    assert pool.run_jobs([first, lambda report: "b"], seen.append) == ["a", "b"]
    assert seen == [5]  # the first child's progress reached the caller
    pids = pool.run_jobs([lambda report: os.getpid()] * 2, None)
    assert os.getpid() not in pids and len(set(pids)) == 2  # each group in a process of its own

    def fails(report):
        raise LTError("mask does not fit")

    start = time.perf_counter()
    with pytest.raises(LTError, match="mask does not fit"):
        pool.run_jobs([lambda report: time.sleep(60), fails], None)
    with pytest.raises(LTError, match=r"died \(exit code 3\)"):
        pool.run_jobs([lambda report: os._exit(3), lambda report: time.sleep(60)], None)
    assert time.perf_counter() - start < 30  # the sleeping siblings were stopped, not waited for
    assert multiprocessing.active_children() == []


def test_a_bad_mask_in_a_group_is_reported(mnist1d):
    inits, ms = _setup(4)
    ms[3] = Mask({name: m[:-1] for name, m in ms[3].items()})  # every layer one row short
    with pytest.raises(LTError, match="shape"):
        train.train("lenet_300_100", mnist1d, inits, ms, HP, seeds=[0, 1, 2, 3], groups=2)


def test_dropout_is_seeded_by_the_runs_and_leaves_the_callers_generator_alone(mnist1d):
    inits, ms = _setup(4)
    inits = [{name: w.clone() for name, w in inits[0].items()}] * 4  # identical networks and masks:
    ms = [ms[0]] * 4                                                # only seeds and dropout differ
    hp = train.Hyper(iterations=40, eval_every=20, dropout=0.5)
    torch.manual_seed(1)
    a = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0, 0, 0, 0], groups=2)
    torch.manual_seed(2)
    state = torch.get_rng_state()
    b = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0, 0, 0, 0], groups=2)
    assert torch.equal(torch.get_rng_state(), state)  # the caller's generator is untouched
    for x, y in zip(a, b):  # the same seeds give the same dropout whatever the global generator held
        assert x.curve == y.curve
    assert a[0].curve != a[1].curve  # copies in one group draw different dropout masks
    assert a[0].curve == a[2].curve  # groups seeded alike draw alike (first copy of each group)


def test_augment_shifts_and_flips_on_device():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    same = batches.augment(x, torch.zeros(2, 2, dtype=torch.long), torch.tensor([False, False]))
    assert torch.equal(same, x)
    flipped = batches.augment(x, torch.zeros(2, 2, dtype=torch.long), torch.tensor([True, False]))
    assert torch.equal(flipped[0], x[0].flip(-1)) and torch.equal(flipped[1], x[1])
    down = batches.augment(x, torch.tensor([[1, 0], [0, -2]]), None)
    assert torch.equal(down[0, 0, :5], x[0, 0, 1:]) and torch.all(down[0, 0, 5] == 0)  # crop moved one row down
    assert torch.equal(down[1, 0, :, 2:], x[1, 0, :, :4]) and torch.all(down[1, 0, :, :2] == 0)
    signal = torch.arange(10, dtype=torch.float32).view(1, 1, 10)
    shifted = batches.augment(signal, torch.tensor([[3]]), None)
    assert torch.equal(shifted[0, 0, :7], signal[0, 0, 3:]) and torch.all(shifted[0, 0, 7:] == 0)


def test_augmented_training_is_seeded_per_run(mnist1d):
    inits, ms = _setup(2)
    hp = train.Hyper(iterations=60, eval_every=30, augment=True)
    a = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0, 1])
    b = train.train("lenet_300_100", mnist1d, inits, ms, hp, seeds=[0, 1], batched=False)
    plain = train.train("lenet_300_100", mnist1d, inits, ms, train.Hyper(iterations=60, eval_every=30), seeds=[0, 1])
    for x, y, z in zip(a, b, plain):
        assert x.curve["val_loss"] == pytest.approx(y.curve["val_loss"], rel=1e-4, abs=1e-5)
        assert x.curve["val_loss"][-1] != z.curve["val_loss"][-1]  # augmentation changed training



def test_cpu_training_flushes_denormals(mnist1d):
    """Denormal floats (SGD + weight decay + warmup left them in a 1-D ResNet) made CPU steps
    ~100x slower; the loop flushes them to zero in the thread that runs the kernels."""
    torch.set_flush_denormal(False)  # earlier tests in this process may have trained already
    try:
        tiny = torch.tensor([1e-39])  # below float32's smallest normal number (1.2e-38)
        assert (tiny * 1.0).item() != 0.0  # denormals are live before training
        inits, ms = _setup(1)
        train.train("lenet_300_100", mnist1d, inits, ms, train.Hyper(iterations=2, eval_every=1), seeds=[0])
        assert (tiny * 1.0).item() == 0.0
    finally:
        torch.set_flush_denormal(False)


@pytest.mark.parametrize("model, groups", [("lenet_300_100", 2), ("conv2", 1)])
def test_fewer_test_evaluations_give_the_same_numbers(mnist1d, model, groups):
    """hp.test_every skips the test set between its points, yet every number a run reports
    (validation curve, early-stopping iteration and its test accuracy, final test accuracy,
    weights) is bit for bit what evaluating the test set at every evaluation gives."""
    net = models.build(model, (1, 40))
    inits = [models.build(model, (1, 40), seeds=[k]).get_copy(0) for k in range(4)]
    rates = masks.layer_rates(net, {"fc": 0.5, "conv": 0.2, "output": 0.2})
    ms = [masks.prune(masks.random_scores(Mask.ones_like(net), k), Mask.ones_like(net), rates) for k in range(4)]
    every = train.Hyper(iterations=300, eval_every=10, lr=1e-2)  # lr 1e-2: minima inside the run
    sparse = train.Hyper(iterations=300, eval_every=10, lr=1e-2, test_every=100)
    full = train.train(model, mnist1d, inits, ms, every, seeds=[0, 1, 2, 3], groups=groups)
    lazy = train.train(model, mnist1d, inits, ms, sparse, seeds=[0, 1, 2, 3], groups=groups)
    stops = [r.early_stop_iteration for r in full]
    assert any(s % 100 for s in stops), f"no early stop between test points: {stops}; the test proves nothing"
    for a, b in zip(full, lazy):
        assert a.curve["val_loss"] == b.curve["val_loss"] and a.curve["val_acc"] == b.curve["val_acc"]
        assert (a.early_stop_iteration, a.early_stop_test_acc, a.final_test_acc) == \
               (b.early_stop_iteration, b.early_stop_test_acc, b.final_test_acc)
        assert all(torch.equal(a.weights[n], b.weights[n]) for n in a.weights)
        for it, x, y in zip(a.curve["iteration"], a.curve["test_acc"], b.curve["test_acc"]):
            if it % 100 == 0 or it == b.early_stop_iteration:
                assert x == y  # measured at the test points, the end and the early stop
            else:
                assert y is None and x is not None  # not measured: no number stands in for it


def test_test_every_must_be_a_multiple_of_eval_every():
    with pytest.raises(LTError, match="multiple of eval_every"):
        train.Hyper(eval_every=100, test_every=250).check()
