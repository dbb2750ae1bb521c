"""The No-U-Turn Sampler, multinomial variant as in Stan, vectorized over chains.

One transition (Hoffman & Gelman 2014; Betancourt 2017, arXiv:1701.02434, appendix A):
draw a momentum p ~ N(0, I), then double a leapfrog trajectory, each time in a random
direction, until it makes a U-turn, diverges or reaches ``max_depth`` doublings. The
next state is drawn from the trajectory's states with weights exp(-H), H = -log p(x) +
|p|^2 / 2: within each new subtree in proportion to the weights (multinomial), and
between the old trajectory and the new subtree with Stan's biased progressive sampling
(take the subtree's pick with probability min(1, W_new / W_old)), which favours states
far from the start.

The U-turn test is Stan's generalized criterion on a (sub)trajectory with momentum sum
rho and end momenta p-, p+: continue while rho . p- > 0 and rho . p+ > 0, applied to every
subtree of every size and, when two halves A, B are joined, also to A with B's first
state and B with A's last (Stan >= 2.23's extra checks).

Vectorized by masking: all chains still running take the same doubling together; a chain
whose new subtree turned or diverged is carried along without effect until the subtree
ends (only the leapfrog steps it would have taken in Stan are counted in ``n_leapfrog``).
"""

from __future__ import annotations

import torch

from genmod.arrays import check_n
from genmod.guards import MAX_LEAPFROG
from genmod.kernels import MAX_ENERGY_ERROR, Step, randn
from genmod.potentials import Potential

MAX_DEPTH = 10


def check_depth(max_depth) -> int:
    """max_depth as an int in 1..MAX_DEPTH: a transition takes up to 2^max_depth - 1 leapfrog
    steps, and 2^10 - 1 = 1023 is within ``guards.MAX_LEAPFROG`` (Stan's default depth)."""
    depth = check_n(max_depth, "max_depth")
    if depth > MAX_DEPTH:
        raise ValueError(
            f"max_depth must be an integer in 1..{MAX_DEPTH} (up to 2^max_depth - 1 leapfrog "
            f"steps per transition, guards.MAX_LEAPFROG = {MAX_LEAPFROG}), got {max_depth!r}"
        )
    return depth


def _joined_ok(rho_a, rho_b, a_first, a_last, b_first, b_last):
    """(m,) U-turn checks when subtrajectory A is followed by B (in the order travelled).

    No U-turn on A + B (rho_a + rho_b with its end momenta), nor on A with B's first state,
    nor on B with A's last; each "no U-turn" is rho . p- > 0 and rho . p+ > 0 (unit mass).
    """
    rhos = torch.stack([rho_a + rho_b, rho_a + b_first, rho_b + a_last])  # (3, m, d)
    ends = torch.stack([a_first, b_last, a_first, b_first, a_last, b_last])
    dots = (rhos[:, None] * ends.view(3, 2, *ends.shape[1:])).sum(-1)  # (3, 2, m)
    return (dots > 0).flatten(0, 1).all(0)


class _Subtree:
    """A subtree of 2^j leapfrog steps from one end of the trajectory, for m chains.

    Each step stores its state (x, log p, grad side by side in ``states``) and log weight;
    :meth:`finish` then draws the subtree's state (Gumbel-max over the log weights: state i
    with probability w_i / sum w, the multinomial choice Stan makes by merging halves) and
    sums the acceptance statistic.
    """

    def __init__(self, x, p, grad, h, h0, size: int, g: torch.Generator):
        m, d = x.shape
        self.x, self.p, self.grad, self.logp = x, p, grad, None
        self.h, self.half, self.h0, self.size = h, 0.5 * h, h0, size
        self.u = torch.rand((size, m), generator=g, dtype=x.dtype)  # for the multinomial draw
        self.states = x.new_empty((size, m, 2 * d + 1))  # [x, log p, grad] of each step
        self.log_ws = x.new_full((size, m), -torch.inf)
        self.ps = x.new_empty((size, m, d))  # momenta in the order travelled
        self.prefix = x.new_zeros((size + 1, m, d))  # prefix[i] = ps[:i].sum(0)
        self.valid = torch.ones(m, dtype=torch.bool)
        self.divergent = torch.zeros(m, dtype=torch.bool)
        self.n_used = torch.zeros(m, dtype=torch.long)

    def advance(self, fn: Potential, i: int) -> None:
        """Leapfrog step i (0-based) of the subtree, its weight, its checks."""
        # x, p and the log weight are written straight into their rows of the record
        p = torch.addcmul(self.p, self.half, self.grad)
        d = p.shape[1]
        x = torch.addcmul(self.x, self.h, p, out=self.states[i, :, :d])
        logp, grad = fn(x)
        p = torch.addcmul(p, self.half, grad, out=self.ps[i])
        # log weight H0 - H; NaN or +inf (a diverged state) -> -inf
        log_w = torch.nan_to_num(
            logp - 0.5 * (p * p).sum(-1) + self.h0,
            nan=-torch.inf,
            posinf=-torch.inf,
            out=self.log_ws[i],
        )
        live = self.valid
        self.n_used += live
        self.valid = live & (log_w > -MAX_ENERGY_ERROR)  # also catches -inf and NaN
        self.divergent |= live ^ self.valid  # was running, now diverged
        self.x, self.p, self.grad, self.logp = x, p, grad, logp
        torch.cat([logp[:, None], grad], 1, out=self.states[i, :, d:])
        torch.add(self.prefix[i], p, out=self.prefix[i + 1])
        self._check_blocks(i + 1)

    def finish(self) -> None:
        """The subtree's drawn state, total log weight and acceptance statistic sum."""
        steps = torch.arange(self.size)[:, None]
        used = steps < self.n_used[None]  # (size, m): the steps each chain really took
        log_w = torch.where(used, self.log_ws, -torch.inf)
        self.sum_acc = torch.where(used, log_w.clamp(max=0).exp(), 0.0).sum(0)
        self.log_w = torch.logsumexp(log_w, 0)
        k = (log_w - torch.log(-torch.log(self.u))).argmax(0)  # Gumbel-max
        self.pick = self.states[k, torch.arange(len(k))]  # (m, 2d + 1): x, log p, grad

    def _check_blocks(self, c: int) -> None:
        """Every block [c - 2^l, c) completed by state c - 1 gets its U-turn checks."""
        if c % 2:
            return
        # the block of 2 states: A + B, A + B's first and B + A's last are one sum
        pair = self.ps[c - 2 : c]
        self.valid &= (((pair[0] + pair[1]) * pair).sum(-1) > 0).all(0)
        size, pre, ps = 4, self.prefix, self.ps
        while c % size == 0:
            a, mid = c - size, c - size // 2
            ok = _joined_ok(
                pre[mid] - pre[a], pre[c] - pre[mid], ps[a], ps[mid - 1], ps[mid], ps[c - 1]
            )
            self.valid &= ok
            size *= 2


class _Tree:
    """The trajectory of every chain: both ends, the state drawn so far, the stop flags."""

    def __init__(self, x, logp, grad, p0):
        n, self.d = x.shape
        self.h0 = -logp + 0.5 * (p0 * p0).sum(-1)  # H at the start; log weights are H0 - H
        end = torch.cat([x, p0, grad], 1)
        self.ends = {+1: end, -1: end}  # (n, 3d): [x, p, grad] at each end
        self.pick = torch.cat([x, logp[:, None], grad], 1)  # (n, 2d + 1): the state drawn
        self.log_w = x.new_zeros(n)
        self.rho = p0.clone()
        self.done = torch.zeros(n, dtype=torch.bool)
        self.depth = torch.zeros(n, dtype=torch.long)
        self.n_lf = torch.zeros(n, dtype=torch.long)
        self.sum_acc = x.new_zeros(n)
        self.divergent = torch.zeros(n, dtype=torch.bool)

    def grow(self, fn, step_size, j: int, g, rec) -> bool:
        """Double every running chain's trajectory once (2^j new states); False if none ran."""
        idx = (~self.done).nonzero().squeeze(1)
        if len(idx) == 0:
            return False
        v = torch.where(torch.rand(len(self.done), generator=g) < 0.5, -1.0, 1.0)[idx]
        fwd = (v > 0)[:, None]
        start, d = torch.where(fwd, self.ends[1][idx], self.ends[-1][idx]), self.d
        h = (v * step_size)[:, None]
        sub = _Subtree(
            start[:, :d], start[:, d : 2 * d], start[:, 2 * d :], h, self.h0[idx], 2**j, g
        )
        for i in range(2**j):
            sub.advance(fn, i)
            if not sub.valid.any():
                break
        rec.subtree(rec.row(idx), sub, j, v)
        sub.finish()
        self._merge(idx, fwd, sub, g)
        return True

    def _merge(self, idx, fwd, sub: _Subtree, g) -> None:
        self.n_lf[idx] += sub.n_used
        self.sum_acc[idx] += sub.sum_acc
        self.divergent[idx] |= sub.divergent
        self.depth[idx] += 1
        ok = sub.valid
        # biased progressive sampling: take the subtree's pick w.p. min(1, W_new / W_old)
        u = torch.rand(len(idx), generator=g, dtype=self.log_w.dtype)
        take = ok & (u.log() < sub.log_w - self.log_w[idx])
        self.pick = self.pick.index_put(
            (idx,), torch.where(take[:, None], sub.pick, self.pick[idx])
        )
        self.log_w[idx] = torch.where(
            ok, torch.logaddexp(self.log_w[idx], sub.log_w), self.log_w[idx]
        )
        # join: A = the old trajectory, B = the subtree, in the order travelled
        d = self.d
        back, front = self.ends[-1][idx, d : 2 * d], self.ends[1][idx, d : 2 * d]
        a_first, a_last = torch.where(fwd, back, front), torch.where(fwd, front, back)
        rho_b = sub.prefix[-1] if ok.all() else torch.where(ok[:, None], sub.prefix[-1], 0.0)
        turned = ~_joined_ok(self.rho[idx], rho_b, a_first, a_last, sub.ps[0], sub.ps[-1])
        self.rho[idx] += rho_b
        new = torch.cat([sub.x, sub.p, sub.grad], 1)
        for side, on in ((1, fwd & ok[:, None]), (-1, ~fwd & ok[:, None])):
            old = self.ends[side]
            self.ends[side] = old.index_put((idx,), torch.where(on, new, old[idx]))
        self.done[idx] |= ~ok | turned


def step(x, logp, grad, fn: Potential, step_size, max_depth: int, g, record_chain=0):
    """One NUTS transition of every chain. x: (n, d), logp: (n,), grad: (n, d).

    Returns
    -------
    Step (proposal = the state drawn; accept_prob = Stan's adaptation statistic, the mean
    of min(1, exp(H0 - H)) over the new trajectory's states) and a record: ``n_leapfrog``
    (n,) leapfrog steps (= gradient and density evaluations), ``tree_depth`` (n,) doublings,
    and for chain ``record_chain`` (None: none) ``doubling``: a dict with ``start`` (d,),
    ``states`` (L, d) positions in the order built, ``depth`` (L,) the doubling that added
    each, ``direction`` (per doubling, +1 forward in time, -1 backward) and ``selected``.
    """
    tree = _Tree(x, logp, grad, randn(x, g))
    rec = _Recorder(x, record_chain)
    for j in range(max_depth):
        if not tree.grow(fn, step_size, j, g, rec):
            break
    d = x.shape[1]
    pick = tree.pick
    x_new, logp_new, grad_new = (
        pick[:, :d].contiguous(),
        pick[:, d].contiguous(),
        pick[:, d + 1 :].contiguous(),
    )
    moved = (x_new != x).any(-1)
    prob = tree.sum_acc / tree.n_lf.clamp(min=1)
    out = Step(x_new, logp_new, grad_new, x_new, moved, tree.divergent, prob)
    record = {"n_leapfrog": tree.n_lf, "tree_depth": tree.depth}
    if record_chain is not None:
        record["doubling"] = rec.result(x_new)
    return out, record


class _Recorder:
    """Collects the states one chain visits while its trajectory doubles (for animation)."""

    def __init__(self, x, chain):
        self.chain, self.start = chain, None if chain is None else x[chain].clone()
        self.states, self.depth, self.directions = [], [], []

    def row(self, idx):
        """The chain's row among the running chains ``idx``, or None."""
        if self.chain is None:
            return None
        hit = (idx == self.chain).nonzero()
        return int(hit[0, 0]) if len(hit) else None

    def subtree(self, r, sub, j, v):
        """After doubling j: the states the chain built (its first n_used steps), its way."""
        if r is not None:
            n = int(sub.n_used[r])
            self.states.extend(sub.states[:n, r, : self.start.shape[0]].clone().unbind(0))
            self.depth += [j] * n
            self.directions.append(int(v[r]))

    def result(self, x_new):
        d = self.start.shape[0]
        states = torch.stack(self.states) if self.states else self.start.new_empty((0, d))
        return {
            "start": self.start,
            "states": states,
            "depth": torch.tensor(self.depth, dtype=torch.long),
            "direction": torch.tensor(self.directions, dtype=torch.long),
            "selected": x_new[self.chain].clone(),
        }
