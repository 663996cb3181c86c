"""One IMP experiment, whole: :class:`Experiment`.

An experiment is the model and data set, the preset it starts from, how many levels and
trials, which controls train beside the tickets (and at which levels), the seed, the training
hyperparameters, the pruning schedule (rates, scope, rewinding) and the batching groups. One
frozen object holds all of it, and every place that needs an experiment uses it:

* :func:`lt_helpers.iterative.run` runs it (``run_imp`` builds one from keywords);
* ``results.json`` stores it as its ``config`` (:meth:`Experiment.config`), and a run resumed
  from disk is compared with it field by field (:meth:`Experiment.differences`);
* the Ray sweep expands a grid into experiments, checked before any task starts;
* the command line's options and their help are generated from its fields (and
  :class:`~lt_helpers.hparams.Hyper`'s).

:meth:`Experiment.of` is the one place where a preset and a caller's overrides are resolved and
checked: a bad value is one :class:`~lt_helpers.errors.LTError` naming the field, before
anything is loaded, trained or written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from numbers import Integral

from . import presets
from .controls import IMP
from .errors import LTError, check_choice
from .hparams import Hyper
from .masks import SCOPES
from .train import GROUPS

CONTROLS = IMP  # the controls an experiment can train (lt_helpers.controls, one entry each)
# fields a resumed run may change: more rounds extend a finished run
RESUMABLE = ("rounds",)


def _f(default, help: str, from_preset: bool = False, **cli):
    """A field with its default, the help its command-line option shows, and how the option is
    read (``from_preset``: the option's default is the preset's value)."""
    return field(default=default, metadata={"help": help, "cli": cli, "from_preset": from_preset})


@dataclass(frozen=True)
class Experiment:
    """An IMP experiment, resolved: every value set (the preset's where the caller gave none)."""

    model: str = _f("lenet_300_100", "the network: lenet_300_100, conv2, conv4, conv6, resnet20 or vgg19")
    dataset: str = _f("mnist1d", "mnist1d, fashion_mnist, mnist or cifar10; on the command line also auto (on a "
                                 "GPU the paper's dataset when on disk or downloadable; on a CPU mnist1d)")
    preset: str = _f("quick", "smoke (seconds), quick (minutes) or paper (the paper's settings)")
    rounds: int = _f(1, "pruning levels including the dense round 0 (default: the preset's)", True,
                    type=int)
    trials: int = _f(1, "independent trials (default: the preset's)", True, type=int)
    controls: tuple = _f(("random_reinit",), f"controls trained beside each ticket: {', '.join(CONTROLS)} (none: no "
                                             "controls; lt_helpers.controls says what each keeps)", nargs="*")
    control_rounds: tuple | None = _f(None, "train the controls only at these rounds (1 to rounds-1; default: "
                                            "every round); the ticket trains at every round", nargs="+", type=int)
    seed: int = _f(0, "base seed; every run's seed derives from it", type=int)
    hyper: Hyper = field(default_factory=Hyper, metadata={"help": "training hyperparameters"})
    rates: dict = field(default_factory=dict, metadata={"help": "fraction of the remaining weights pruned per "
                                                                "round, by layer kind (the preset's)"})
    scope: str = _f("layer", "prune each layer on its own or rank all layers together (default: the preset's)",
                    True, choices=list(SCOPES))
    rewind: int = _f(0, "reset survivors to the dense run's weights at this iteration (default 0: to θ0)", type=int)
    groups: int = _f(GROUPS, f"on a CPU, split each round's networks into this many batched groups, one process each "
                             f"(default {GROUPS}); part of the experiment: the same seed and groups give the same "
                             "results on any machine, so a many-core machine can ask for more", type=int)

    @classmethod
    def of(cls, model: str = "lenet_300_100", dataset: str = "mnist1d", preset: str = "quick", *,
           rounds=None, trials=None, controls=("random_reinit",), control_rounds=None, seed=0, hyper=None,
           rates=None, scope=None, rewind=0, groups=GROUPS) -> "Experiment":
        """The experiment ``preset`` describes for ``model`` on ``dataset``, with the caller's
        overrides (``None``: the preset's; ``hyper``: a dict of hyperparameters to change),
        every value checked."""
        base = presets.get(model, dataset, preset)
        if hyper is not None and not isinstance(hyper, dict):
            raise LTError(f"hyper must be a dict of hyperparameters such as {{'iterations': 2000}}, got {hyper!r}")
        hp = Hyper.checked({**base.hp.to_dict(), **(hyper or {})})
        if isinstance(controls, str):
            raise LTError(f"controls must be a list of names, such as [{controls!r}], not the string {controls!r}")
        for name, value in (("rounds", rounds), ("trials", trials), ("seed", seed), ("groups", groups)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, Integral)):
                raise LTError(f"{name} must be an integer, got {value!r}")
        exp = cls(model=model, dataset=dataset, preset=preset,
                  rounds=int(base.rounds if rounds is None else rounds),
                  trials=int(base.trials if trials is None else trials),
                  controls=tuple(controls or ()), seed=int(seed), hyper=hp,
                  rates=dict(base.rates if rates is None else rates), scope=base.scope if scope is None else scope,
                  rewind=rewind, groups=int(groups),
                  control_rounds=None if control_rounds is None else tuple(sorted({int(r) for r in control_rounds})))
        return exp.check(asked_control_rounds=control_rounds)

    def check(self, asked_control_rounds=None) -> "Experiment":
        """Raise a clear LTError for any value out of range; return ``self``."""
        if self.rounds < 1:
            raise LTError(f"rounds must be at least 1 (round 0 is the dense network), got {self.rounds}")
        if self.trials < 1:
            raise LTError(f"trials must be at least 1, got {self.trials}")
        if self.seed < 0:
            raise LTError(f"seed must be a non-negative integer, got {self.seed}")
        if self.groups < 1:
            raise LTError(f"groups must be at least 1, got {self.groups}")
        unknown = set(self.controls) - set(CONTROLS)
        if unknown:
            raise LTError(f"unknown control(s) {sorted(unknown)}; choose from {', '.join(CONTROLS)}")
        check_choice("pruning scope", self.scope, SCOPES)
        rewind = self.rewind
        if isinstance(rewind, bool) or not isinstance(rewind, Integral) or not 0 <= rewind < self.hyper.iterations:
            raise LTError(f"rewind must be an iteration in [0, {self.hyper.iterations}) (0 resets to θ0), got {rewind}")
        if self.control_rounds is not None:
            if not self.control_rounds or not all(1 <= r < self.rounds for r in self.control_rounds):
                raise LTError(f"control_rounds must name rounds from 1 to {self.rounds - 1} (round 0 is the dense "
                              f"network, which has no controls), got {list(asked_control_rounds or self.control_rounds)}")
            if not self.controls:
                raise LTError("control_rounds says where the controls train, but no controls were asked for")
        return self

    def controls_at(self, rnd: int) -> list[str]:
        """The controls that round ``rnd`` trains beside each ticket: none in the dense round 0,
        and none in a round that ``control_rounds`` leaves out."""
        with_controls = rnd > 0 and (self.control_rounds is None or rnd in self.control_rounds)
        return list(self.controls) if with_controls else []

    def config(self) -> dict:
        """The experiment as ``results.json`` stores it (``control_rounds`` only when set, so
        the records of runs made before it existed keep their exact form)."""
        config = dict(model=self.model, dataset=self.dataset, preset=self.preset, rounds=self.rounds,
                      trials=self.trials, controls=list(self.controls), seed=self.seed, hyper=self.hyper.to_dict(),
                      rates=dict(self.rates), scope=self.scope, rewind=int(self.rewind), groups=self.groups)
        if self.control_rounds is not None:
            config["control_rounds"] = list(self.control_rounds)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Experiment":
        """The experiment a ``results.json`` config describes (older files too: a field they
        lack takes its default), without re-checking it."""
        known = {f.name for f in fields(Hyper)}
        hyper = Hyper(**{k: v for k, v in config.get("hyper", {}).items() if k in known})
        values = {f.name: config[f.name] for f in fields(cls) if f.name in config and f.name != "hyper"}
        for name in ("controls", "control_rounds"):
            if values.get(name) is not None:
                values[name] = tuple(values[name])
        return cls(**values, hyper=hyper)

    def differences(self, other: "Experiment") -> list[str]:
        """What differs between ``self`` (now) and ``other`` (a run on disk), field by field, as
        ``'field: <other's> there, <self's> now'`` (``hyper.lr: ...`` for a hyperparameter);
        the fields in :data:`RESUMABLE` may differ."""
        found = []
        for f in fields(self):
            if f.name in RESUMABLE:
                continue
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name == "hyper":
                found += [f"hyper.{name}: {theirs_v!r} there, {mine_v!r} now"
                          for name, mine_v, theirs_v in ((h.name, getattr(mine, h.name), getattr(theirs, h.name))
                                                         for h in fields(Hyper)) if mine_v != theirs_v]
            elif mine != theirs:
                found.append(f"{f.name}: {_plain(theirs)!r} there, {_plain(mine)!r} now")
        return found

    @property
    def condition(self) -> str:
        """What a sweep calls this experiment's condition: ``ticket`` alone, or its controls joined by ``+``."""
        return "+".join(self.controls) or "ticket"

    def name(self) -> str:
        """A folder name for this experiment in a sweep: model-dataset-preset-seed-condition."""
        return f"{self.model}-{self.dataset}-{self.preset}-seed{self.seed}-{self.condition}"


def _plain(value):
    return list(value) if isinstance(value, tuple) else value
