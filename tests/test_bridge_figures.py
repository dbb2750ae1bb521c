"""The bridge figures and the three-ways explorer: they build, and they show what they say."""

import plotly.graph_objects as go

from genmod import figures_bridge, oned, render_static, sde, targets, three_ways, widgets_bridge

MIX = oned.Mixture1D([-2.0, 1.5], [0.3, 0.5], [0.3, 0.7])


def test_pt_heatmap_draws_both_kinds_of_path():
    fig = figures_bridge.pt_heatmap(MIX, sde.VP(), n_paths=3)
    names = [tr.name for tr in fig.data[1:]]
    assert names.count("reverse SDE") == 3 and names.count("PF-ODE") == 3
    # every drawn path ends at t = EPS, inside the data's range
    ends = [tr.y[-1] for tr in fig.data[1:]]
    assert all(-3.5 < y < 3.5 for y in ends)


def test_inverse_transform_figure_points_lie_on_the_curve():
    fig = figures_bridge.inverse_transform_figure(MIX, sde.VP(), n=11)
    ode, grid = fig.data[2], fig.data[1]
    assert max(abs(a - b) for a, b in zip(ode.y, grid.y, strict=True)) < 1e-3


def test_three_ways_explorer_static_form_has_every_seed():
    t = targets.GaussianMixture([[0.0, 0.0]], [0.7])
    vp = sde.VP()
    sf = sde.exact_score(t, vp)
    chain, numbers = three_ways.chain(sf, t.sample(4, seed=0), n_steps=80, step_size=0.3)
    maps = three_ways.same_start(sf, vp, n_starts=1, n_seeds=4, n_steps=40)
    box = widgets_bridge.three_ways_explorer(t, chain, numbers, maps)
    bundle = box._repr_mimebundle_()  # the kernel-free form: Play/Pause and a frame per seed
    fig = go.Figure(bundle[render_static.PLOTLY_MIME])
    assert [f.name for f in fig.frames] == ["0", "1", "2", "3"]
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["Play", "Pause"]
    assert all(list(f.traces) == list(range(len(fig.data))) for f in fig.frames)
    # the ODE's end is the same in every frame, the SDE's is not
    box.controls["seed"].value = 3
    fig = box.figure
    assert abs(fig.data[11].x[0] - float(maps["ode"][3, 0, 0])) < 1e-6
    assert fig.data[8].x[0] != maps["sde"][0, 0, 0]
