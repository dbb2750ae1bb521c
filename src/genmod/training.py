"""One seeded training loop for every learned model, with a progress bar and loss history.

Every model module's ``fit(data, *, ..., seed)`` calls :func:`fit`; randomness comes from
local generators seeded with ``seed``, never from torch's global generator.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable

import torch
from tqdm import tqdm

from genmod import config
from genmod.arrays import as_points, check_n


class WeightAverage:
    """An exponential moving average of parameters (Polyak averaging), for ``ema=`` options.

    ``update(step)`` after each optimizer step; the decay ramps up as
    min(decay, (1 + step) / (10 + step)) so early weights are forgotten. ``copy_to()``
    writes the average into the parameters (at the end of training).
    """

    def __init__(self, params, decay: float):
        self.params = [p for p in params if p.requires_grad]
        self.decay = float(decay)
        self.avg = [p.detach().clone() for p in self.params]

    @torch.no_grad()
    def update(self, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        torch._foreach_lerp_(self.avg, [p.detach() for p in self.params], 1 - decay)

    @torch.no_grad()
    def copy_to(self) -> None:
        for p, avg in zip(self.params, self.avg, strict=True):
            p.copy_(avg)


@config.fitting_threads  # small nets: a second thread saves little, costs a lot if shared
def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
    data,
    *,
    n_steps: int = 2000,
    batch_size: int = 256,
    lr: float = 2e-3,
    progress: bool = True,
    desc: str = "training",
    weight_decay: float = 0.0,
    clip: float | None = 1.0,
    labels=None,
    ema: float | None = None,
    warmup: int = 0,
    fused: bool = False,
    seed: int = 0,
) -> list[float]:
    """Adam on minibatches of ``data``, cosine-decayed learning rate; returns the loss history.

    Parameters
    ----------
    model: the module whose parameters are trained (initialize it under a seed first).
    loss_fn: ``loss_fn(batch, generator) -> scalar``; draw any noise from ``generator``
        so that the run is reproducible.
    data: (n, d) tensor of training samples.
    labels: optional (n,) tensor; then ``loss_fn`` gets ``(batch, batch_labels)`` as its batch.
    n_steps, batch_size, lr: optimisation budget; clip: gradient-norm clipping (None: off).
    ema: None or 0 (off), or the decay of an exponential moving average of the weights, which
        replace the last iterate at the end (:class:`WeightAverage`).
    warmup: steps of linear learning-rate warm-up before the cosine decay (0: none).
    fused: Adam's fused kernel, one update for all parameter tensors (same maths, float
        rounding differs; pays off for nets of many small tensors such as a flow's).
    seed: seeds minibatch choice and the generator handed to ``loss_fn``.
    progress: show a tqdm text progress bar on stdout (a notebook stores its last state
        as text, so a cold notebook shows the finished bar, not a widget's text repr).
    """
    data = as_points(data, "data", dim=None, finite=True, min_n=1).float()
    if labels is not None:
        labels = torch.as_tensor(labels)
        if labels.shape != (data.shape[0],):
            raise ValueError(f"labels must have shape ({data.shape[0]},), got {labels.shape}")
    steps, batch_size = check_n(n_steps, "n_steps"), check_n(batch_size, "batch_size")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr}")
    g = torch.Generator().manual_seed(int(seed))
    if isinstance(warmup, bool) or not (isinstance(warmup, int) and 0 <= warmup < steps):
        raise ValueError(f"warmup must be an integer in [0, n_steps), got {warmup!r}")
    # fused=None (not False) keeps torch's default: the for-loop Adam on CPU
    opt = torch.optim.Adam(
        model.parameters(), lr=lr, weight_decay=weight_decay, fused=True if fused else None
    )
    if warmup:  # lr * min(1, (k + 1) / warmup) * (1 + cos(pi k / n_steps)) / 2 at step k
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda k: min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * k / steps))
        )
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    history: list[float] = []
    average = WeightAverage(model.parameters(), ema) if ema else None
    model.train()
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5, file=sys.stdout)
    for step in bar:
        idx = torch.randint(data.shape[0], (min(batch_size, data.shape[0]),), generator=g)
        loss = loss_fn(data[idx] if labels is None else (data[idx], labels[idx]), g)
        if not torch.isfinite(loss):
            raise FloatingPointError(
                f"loss became {loss.item()} at step {step} although the data are finite; "
                f"lower lr (now {lr:g}) or raise clip"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        sched.step()
        if average is not None:
            average.update(step)
        history.append(loss.item())
        if step % 100 == 0:
            bar.set_postfix(loss=f"{history[-1]:.4f}", refresh=False)
    if average is not None:
        average.copy_to()
    model.eval()
    return history
