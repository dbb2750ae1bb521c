"""The kernel-free (static) form of every widget: frames, Play/Pause, a slider, both mime types.

A cell's stored output holds the widget view and ``application/vnd.plotly.v1+json``; with no
kernel (a notebook opened cold, a static site) the plotly figure plays its frames.
"""

import json

import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from genmod import mcmc, plots, render_static, scene, targets, widgets
from genmod.trajectory import Trajectory

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def gauss():
    return targets.get("gaussian")


def _check_static(box, n_live_traces: int, min_frames: int = 2) -> dict:
    """Both mime types in the bundle; the figure has frames, Play/Pause, a slider per frame."""
    bundle = box._repr_mimebundle_()
    assert WIDGET_MIME in bundle and render_static.PLOTLY_MIME in bundle
    spec = bundle[render_static.PLOTLY_MIME]
    json.dumps(spec)  # plain JSON (typed arrays as base64 dicts)
    fig = go.Figure(spec)  # plotly's validators accept it
    assert len(fig.frames) >= min_frames
    buttons = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert buttons == ["Play", "Pause"]
    assert [s.label for s in fig.layout.sliders[0].steps] == [f.name for f in fig.frames]
    assert len(fig.data) == n_live_traces
    for f in fig.frames:  # every frame names every trace (plotly.js hides traces a frame omits)
        assert list(f.traces) == list(range(n_live_traces))
    return spec


def _decode(arr) -> np.ndarray:
    if isinstance(arr, dict):
        return np.frombuffer(
            __import__("base64").b64decode(arr["bdata"]), dtype=np.dtype(arr["dtype"])
        )
    return np.asarray(arr, dtype=float)


def test_animation_static_form_plays_every_panel(gauss):
    chain = mcmc.sample(gauss, "mala", n_chains=60, n_steps=50, step_size=0.5, seed=0)
    a_map = Trajectory(torch.linspace(3, 1, 8)[:, None, None] * torch.randn(60, 2), kind="map")
    anim = widgets.animate(chain, a_map, target=gauss)
    n_live = sum(len(f.data) for f in anim.figures)
    spec = _check_static(anim, n_live)
    assert len(spec["frames"]) == 36  # 51 frames, downsampled to the default budget
    first, last = spec["frames"][0], spec["frames"][-1]
    offset = len(anim.figures[0].data)
    for p, off in zip(anim.panels, (0, offset)):  # the particles of each panel move
        i = off + p.idx["particles"]
        assert not np.array_equal(_decode(first["data"][i]["x"]), _decode(last["data"][i]["x"]))
    # the readout (quality, acceptance) is text on the figure in each frame
    texts = [a["text"] for a in last["layout"]["annotations"] if a.get("name") == "readout"]
    assert len(texts) == 2 and "distance / noise floor" in texts[0] and "acceptance" in texts[0]
    assert (
        texts[0]
        != [a["text"] for a in first["layout"]["annotations"] if a.get("name") == "readout"][0]
    )
    assert "images" in spec["layout"] and len(spec["layout"]["images"]) == 2  # one density each


def test_static_readout_matches_the_live_one(gauss):
    chain = mcmc.sample(gauss, "rwm", n_chains=40, n_steps=20, step_size=0.8, seed=1)
    anim = widgets.animate(chain, target=gauss)
    spec = anim.static_spec()
    anim.slider.value = 20
    live = render_static.plain_text(anim.readouts[0].value)
    static = [
        a["text"] for a in spec["frames"][-1]["layout"]["annotations"] if a.get("name") == "readout"
    ]
    assert static == [live]


def test_bad_input_gets_a_bounded_fallback_that_says_so(gauss):
    many = Trajectory(torch.randn(3, 100_000, 2), kind="map", label="100k")
    long = Trajectory(torch.cumsum(0.05 * torch.randn(3000, 20, 2), 0), kind="chain", label="long")
    anim = widgets.animate(many, long, target=gauss, readout=False)
    spec = render_static.figure_json(anim.static_spec())
    size = len(json.dumps(spec))
    assert len(spec["frames"]) == scene.DEFAULT_BUDGET.max_frames
    particles = _decode(spec["frames"][-1]["data"][anim.panels[0].idx["particles"]]["x"])
    assert len(particles) == scene.DEFAULT_BUDGET.max_particles
    assert size < 600_000, size  # 36 frames of at most 250 particles, whatever the input
    title = spec["layout"]["title"]["text"]
    assert "250 of 100,000 particles" in title and "36 of 3,000 frames" in title


def test_budget_and_frame_picking():
    assert scene.pick_frames(5, 10) == [0, 1, 2, 3, 4]
    picked = scene.pick_frames(3000, 36)
    assert len(picked) == 36 and picked[0] == 0 and picked[-1] == 2999
    with pytest.raises(ValueError, match="max_frames"):
        scene.Budget(max_frames=1)
    assert scene.downsample_notice(10, 10, 5, 5) == ""


def test_the_last_slider_label_stays_inside_the_figure():
    # the last step's label is centred on the slider's right end, which is the plot's right
    # edge minus the slider's right padding; the label must end inside the 500 px figure
    base = go.Figure(go.Scatter(x=[0], y=[0])).update_layout(margin=dict(r=20), width=500)
    patches = [scene.Patch({0: {"x": [k]}}) for k in range(2)]
    for last in ("b", "a much longer last label"):
        (slider,) = render_static.static_spec(base, patches, ["a", last])["layout"]["sliders"]
        pad = slider["pad"].get("r", 0)
        assert 500 - 20 - pad + plots.text_width(last) / 2 <= 500, (last, pad)
        assert (pad > 0) == (last != "b")  # short labels: the slider is left as it was


def test_explorers_carry_a_static_form():
    from genmod import inverse, score, widgets_maps, widgets_mcmc, widgets_scores

    box = widgets.target_explorer(names=["gaussian", "banana"], n=200)
    spec = _check_static(box, len(box.figure.data))
    assert [f["name"] for f in spec["frames"]] == ["gaussian", "banana"]
    box = widgets_mcmc.step_size_explorer(n_chains=10, n_steps=30)
    spec = _check_static(box, len(box.figure.data), min_frames=6)
    rows = [
        a["text"]
        for f in spec["frames"]
        for a in f["layout"]["annotations"]
        if a.get("name") == "readout"
    ]
    assert len(set(rows)) == 6 and all("acceptance" in r for r in rows)  # one per step size
    inv = inverse.InverseCDF1D(lambda x: -(x**2) / 2, -5.0, 5.0)
    box = widgets_maps.inverse_1d_explorer(inv, n=100)
    _check_static(box, len(box.figure.data), min_frames=7)
    mix = targets.get("separated_mixture")
    sig = score.geometric_sigmas(10, 0.1, 12)
    box = widgets_scores.noise_explorer(mix, sig, n_points=50)
    spec = _check_static(box, len(box.figure.data), min_frames=8)
    assert len(spec["frames"]) == 8  # 12 noise levels, 8 kept


def test_annealed_animation_static_form_shows_sigma():
    from genmod import langevin, score, widgets_scores

    sep = targets.get("separated_mixture")
    sig = score.geometric_sigmas(20, 0.05, 4)
    x0 = sep.sample(30, seed=0)
    exact = score.from_sigma(lambda x, s: sep.perturbed(s).score(x), sig)
    tr = langevin.annealed(exact, sig, x0, n_steps=5)
    box = widgets_scores.annealed_animation(tr, target=sep)
    spec = _check_static(box, len(box.animation.figures[0].data))
    texts = [
        a["text"] for a in spec["frames"][0]["layout"]["annotations"] if a.get("name") == "readout"
    ]
    assert "sigma = 20" in texts[0]
