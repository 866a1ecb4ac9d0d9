"""draw_topology on a caller's Axes (the report's maps): nothing written, utilisation colours, literal text."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from netsim import load_topology  # noqa: E402
from netsim.topology.plot import _utilisation_cmap, draw_topology  # noqa: E402


def test_draw_on_axes_colours_links_by_utilisation(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    g = load_topology("examples/two_as")
    fig, ax = plt.subplots()
    draw_topology(g, ax=ax, edge_values={("a1", "t1"): 1.0, ("t2", "a3"): 0.5}, title="cost $5 and $6")
    assert list(tmp_path.iterdir()) == []  # drew on the Axes, wrote nothing
    assert len(fig.axes) == 2  # the map and its colour bar
    lines = ax.collections[0]
    colors = [tuple(c) for c in lines.get_colors()]
    cmap = _utilisation_cmap()
    full, half, idle = cmap(1.0), cmap(0.5), cmap(0.0)
    # three different colours, or the assertions below could not tell the links apart
    assert len({tuple(round(x, 3) for x in c[:3]) for c in (full, half, idle)}) == 3
    # one segment per duplex pair (6 links); the busiest is drawn last (on top)
    assert len(colors) == 6
    assert colors[-1][:3] == pytest.approx(full[:3])
    assert colors[-2][:3] == pytest.approx(half[:3])  # (t2, a3) counts for the pair a3-t2
    assert all(c[:3] == pytest.approx(idle[:3]) for c in colors[:-2])
    assert ax.get_title() == r"cost \$5 and \$6"  # escaped: drawn as written, not as mathtext
    fig.canvas.draw()  # would raise on bad mathtext
    plt.close(fig)


def test_needs_a_path_or_axes():
    with pytest.raises(ValueError, match="path"):
        draw_topology(load_topology("examples/two_as"))
