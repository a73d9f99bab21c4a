"""lessons_lib.figures.scan_plots: the scan's steps for a short sequence and the stored benchmark."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from lessons_lib.figures import scan_plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _count(ax, gid):
    return sum(1 for a in [*ax.patches, *ax.lines] if a.get_gid() == gid)


def test_the_steps_of_eight_elements_one_arrow_per_combination():
    fig = scan_plots.draw_scan_steps(8)
    blelloch, doubling = fig.axes
    assert _count(blelloch, "combine:up-sweep") == 4 + 2 + 1
    assert _count(blelloch, "combine:down-sweep") == 2 * (1 + 2 + 4)          # each pair: a swap and a combination
    assert _count(blelloch, "combine:finish") == 8 and _count(blelloch, "identity") == 1
    assert _count(doubling, "combine:doubling") == 7 + 6 + 4 and _count(doubling, "combine:up-sweep") == 0
    assert blelloch.get_title() == "work-efficient scan (blelloch): 7 steps, 22 combinations"
    assert doubling.get_title() == "recursive doubling (hillis-steele): 3 steps, 17 combinations"
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()] + [ax.get_xlabel() for ax in fig.axes]
    assert all(text == text.lower() for text in labels if not text.startswith("time step"))
    assert [t.get_text() for t in blelloch.get_yticklabels()][:2] == ["elements", "up-sweep, stride 1"]


def test_a_length_that_is_not_a_power_of_two_shows_the_padding():
    fig = scan_plots.draw_scan_steps(5)
    blelloch, doubling = fig.axes
    padded = [line for line in blelloch.lines if line.get_gid() == "element" and line.get_marker() == "s"]
    assert len(padded) == 3 and "padding" in blelloch.get_xlabel()
    assert len([line for line in doubling.lines if line.get_gid() == "element"]) == 5
    # greyscale: every phase differs from the others in line style or it is the only one in its panel
    styles = {phase: s["linestyle"] for phase, s in scan_plots.PHASE_STYLES.items() if phase != "doubling"}
    assert len(set(styles.values())) == len(styles)


ROWS = [{"what": what, "model": model, "method": method, "N": N, "H": H, "T": T, "seconds": 1e-4 * T * (k + 1)}
        for k, (what, model, method) in enumerate([("recurrence", "linear recurrence", "loop"),
                                                   ("recurrence", "linear recurrence", "scan"),
                                                   ("cell", "gru", None)])
        for N, H in ((1, 16), (32, 64)) for T in (100, 1000)]


def test_the_benchmark_plot_has_one_line_per_method_and_size_on_log_axes():
    ax = scan_plots.plot_scan_benchmark({"rows": ROWS})
    assert len(ax.get_lines()) == 3 * 2
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == "sequence length $T$ (steps)" and ax.get_ylabel() == "time per call (s)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "linear recurrence, scan (N = 32, H = 64)" in labels and "gru (N = 1, H = 16)" in labels
    line = ax.get_lines()[0]
    assert list(line.get_xdata()) == [100, 1000] and list(line.get_ydata()) == [0.01, 0.1]
    # greyscale: the sizes differ in line style, the methods in marker
    assert {ln.get_linestyle() for ln in ax.get_lines()[:2]} == {"-", "--"}
    assert len({ln.get_marker() for ln in ax.get_lines()[::2]}) == 3
    only = scan_plots.plot_scan_benchmark(ROWS, what="cell")
    assert len(only.get_lines()) == 2


def test_the_benchmark_plot_refuses_what_it_cannot_draw():
    with pytest.raises(KeyError, match="a dict with 'rows'"):
        scan_plots.plot_scan_benchmark({"experiment": "x"})
    with pytest.raises(ValueError, match="no rows"):
        scan_plots.plot_scan_benchmark([])
    with pytest.raises(KeyError, match=r"lack \['seconds'\]"):
        scan_plots.plot_scan_benchmark([{k: v for k, v in ROWS[0].items() if k != "seconds"}])
    with pytest.raises(ValueError, match=r"no benchmark rows of \['training'\]"):
        scan_plots.plot_scan_benchmark(ROWS, what="training")
