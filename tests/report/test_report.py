"""report.html from a small two-design run: sections, inline SVG only, escaping, numbers that match the run."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from netsim import InputError
from netsim.report import compare_runs, load_run, render
from netsim.report.figures import failure_spans, peak_bin, served_from_table

SECTIONS = ["headline", "backbone", "served", "local", "availability", "rtt", "quality", "cost", "maps", "summary"]


@pytest.fixture(scope="module")
def rendered(run_dir, tmp_path_factory):
    """The run rendered once for the tests that only read the page: (run directory, html)."""
    import shutil

    out = tmp_path_factory.mktemp("rendered") / "run"
    shutil.copytree(run_dir, out)
    path = render(out)
    assert path == out / "report.html"
    return out, path.read_text()


@pytest.fixture
def html(rendered):
    return rendered[1]


def test_every_section_is_there_with_a_figure(html):
    for sec in SECTIONS:
        m = re.search(rf'<section id="{sec}">(.*?)</section>', html, flags=re.S)
        assert m, f"section {sec} missing"
        if sec not in ("headline", "summary"):
            assert "<svg" in m.group(1), f"section {sec} has no figure"
    # 4 time series + served-from + quality by hour + cost + one map per design
    assert html.count("<svg") == 4 + 1 + 1 + 1 + 2
    # one card per design, the reference marked
    assert html.count('class="card"') == 2
    assert "(reference)" in html


def test_self_contained_no_external_references(html):
    assert "<img" not in html
    assert "<link" not in html
    assert not re.search(r'\b(src|href)\s*=\s*["\']?(https?:|//|file:)', html)
    # the only URLs left are XML namespace names inside the SVGs, never fetched
    urls = set(re.findall(r"https?://[^\"'\s<>]+", html))
    assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}, urls


def test_ids_are_unique_and_every_reference_resolves(html):
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})[:5]
    refs = set(re.findall(r'url\(#([^)]+)\)', html)) | set(re.findall(r'href="#([^"]+)"', html))
    assert refs and refs <= set(ids), sorted(refs - set(ids))[:5]


def test_names_from_files_are_escaped(html):
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the node, in the busiest-links table
    # the metro label drawn by matplotlib inside the map SVG is escaped text too
    maps = re.search(r'<section id="maps">.*?</section>', html, flags=re.S).group(0)
    svgs = "".join(re.findall(r"<svg.*?</svg>", maps, flags=re.S))
    assert "&lt;b&gt;metro&lt;/b&gt;" in svgs
    assert "<b>metro</b>" not in html
    # a `$` in a name is drawn literally, not parsed as mathtext
    assert re.search(r">\s*\$x\$\s*<", svgs)


def test_headline_and_table_numbers_come_from_the_summary(rendered):
    out, html = rendered
    summary = json.loads((out / "summary.json").read_text())["designs"]
    base = summary[0]
    # written out here, not with the report's own METRICS table and format_value: Gbps to 0.1, shares in percent
    assert f"{base['backbone_peak_bps'] / 1e9:,.1f} Gbps" in html
    assert f"{100 * base['local_turnaround']:.1f}%" in html
    # the other design is the same network: it removes nothing
    assert "0.0 TB" in html
    assert base["availability_during_failures"] < 1.0  # the failure window really costs traffic in this run
    assert f"{100 * base['availability_during_failures']:.1f}%" in html
    assert "failure window: 00:10–00:20" in html


def test_failure_window_and_peak_bin(fresh_run):
    run = load_run(fresh_run)
    spans = failure_spans(run.bins, 300.0)
    assert spans == [(600.0, 1200.0)]
    b, ts, inside = peak_bin(run)
    assert not inside and b not in (2, 3)
    ref = run.bins.filter(pl.col("design") == "baseline")
    calm = ref.filter(pl.col("failures_active") == 0)
    assert ref.filter(pl.col("bin") == b)["offered_bps"].item() == calm["offered_bps"].max()


def test_served_from_shares_add_up_to_delivered(fresh_run):
    run = load_run(fresh_run)
    t = served_from_table(run, failures_only=False).filter(pl.col("design") == "baseline")
    b = run.bins.filter(pl.col("design") == "baseline")
    assert t["delivered_bytes"].sum() == pytest.approx(b["delivered_bytes"].sum(), rel=1e-9)
    assert t["offered_bytes"].sum() == pytest.approx(b["offered_bytes"].sum(), rel=1e-9)
    f = served_from_table(run, failures_only=True).filter(pl.col("design") == "baseline")
    down = b.filter(pl.col("failures_active") > 0)
    assert f["delivered_bytes"].sum() == pytest.approx(down["delivered_bytes"].sum(), rel=1e-9)


def test_missing_topology_is_a_note_not_a_crash(fresh_run):
    (fresh_run / "topologies" / "other.yaml").unlink()
    text = render(fresh_run).read_text()
    assert "No topology was saved for other" in text
    assert text.count("<svg") == 4 + 1 + 1 + 1 + 1  # no map for the design without a topology


def test_not_a_run_directory(tmp_path):
    with pytest.raises(InputError, match="no such run directory"):
        render(tmp_path / "nope")
    with pytest.raises(InputError, match="not a netsim run output"):
        render(tmp_path)
    (tmp_path / "summary.json").write_text("{not json")
    with pytest.raises(InputError, match="summary.json"):
        render(tmp_path)


def test_missing_table_names_it(fresh_run):
    (fresh_run / "pairs.parquet").unlink()
    with pytest.raises(InputError, match="pairs.parquet"):
        render(fresh_run)


def test_compare_differences_against_the_first_column(fresh_run, tmp_path):
    # a second "run": the same summary with the backbone peak of every design halved
    other = tmp_path / "half"
    other.mkdir()
    doc = json.loads((fresh_run / "summary.json").read_text())
    for rec in doc["designs"]:
        rec["backbone_peak_bps"] /= 2
        rec["availability_during_failures"] = 1.0
    (other / "summary.json").write_text(json.dumps(doc))
    c = compare_runs([fresh_run, other])
    assert [(col["run"] == str(fresh_run), col["design"]) for col in c["columns"]] == [
        (True, "baseline"), (True, "other"), (False, "baseline"), (False, "other")]
    peak = next(m for m in c["metrics"] if m["key"] == "backbone_peak_bps")
    p0 = doc["designs"][0]["backbone_peak_bps"] * 2
    assert peak["delta"][1] == pytest.approx(0.0)
    assert peak["delta"][2] == pytest.approx(-p0 / 2 / 1e9)
    assert peak["relative"][2] == pytest.approx(-0.5)
    assert peak["tone"][2] == "better"
    av = next(m for m in c["metrics"] if m["key"] == "availability_during_failures")
    a0 = av["values"][0]
    assert av["delta"][3] == pytest.approx(100 * (1.0 - a0))  # percentage points
    assert av["relative"][3] is None


def test_cli_report_and_compare(cli, fresh_run, tmp_path):
    r = cli("report", str(fresh_run))
    assert r.returncode == 0, r.stderr
    assert "report.html" in r.stdout and (fresh_run / "report.html").is_file()
    out = tmp_path / "cmp.json"
    r = cli("compare", str(fresh_run), str(fresh_run), "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "backbone peak" in r.stdout and "other" in r.stdout
    # piped (not a terminal): wide enough that the four columns' values are not cut
    assert "…" not in r.stdout and "backbone 95th percentile" in r.stdout
    doc = json.loads(out.read_text())
    assert len(doc["columns"]) == 4
    assert all(d in (None, 0.0) for m in doc["metrics"] for d in m["delta"])


@pytest.mark.parametrize("cmd", ["report", "compare"])
def test_cli_bad_outdir_is_one_line_exit_2(cli, tmp_path, cmd):
    r = cli(cmd, str(tmp_path / "missing"))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and r.stderr.startswith("netsim: error:")
    assert "missing" in r.stderr
    r = cli(cmd, str(tmp_path))  # exists, but no run in it
    assert r.returncode == 2 and "not a netsim run output" in r.stderr


def test_netsim_run_writes_the_report(cli, tmp_path, make_scenario):
    sc = make_scenario(tmp_path)
    r = cli("run", sc, "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "out" / "report.html").is_file()
    assert "report.html" in r.stdout


def test_a_run_without_failures(fresh_run):
    bins = pl.read_parquet(fresh_run / "bins.parquet").with_columns(pl.lit(0, dtype=pl.Int64).alias("failures_active"))
    bins.write_parquet(fresh_run / "bins.parquet")
    doc = json.loads((fresh_run / "summary.json").read_text())
    for rec in doc["designs"]:
        rec["availability_during_failures"] = None
    (fresh_run / "summary.json").write_text(json.dumps(doc))
    text = render(fresh_run).read_text()
    assert "no failures" in text
    assert "During failure windows" not in text  # the served-from figure has one panel
    backbone = re.search(r'<section id="backbone">.*?</section>', text, flags=re.S).group(0)
    assert "<svg" in backbone and "failure window" not in backbone  # no shading, no legend entry


def test_empty_summary_is_an_input_error(tmp_path):
    (tmp_path / "summary.json").write_text(json.dumps({"scenario": "s", "designs": []}))
    with pytest.raises(InputError, match="no designs"):
        render(tmp_path)


def test_rendering_is_deterministic(rendered, fresh_run):
    assert render(fresh_run).read_text() == rendered[1]


def test_headline_marks_a_design_that_removes_nothing(html):
    # "other" is the same network as baseline: ±0% removed, not a green "−0%"
    card = re.search(r'<h3>other</h3>.*?</div>\s*</div>\s*</div>', html, flags=re.S).group(0)
    assert card.count("±0%") == 2 and "−0%" not in card


def test_a_series_identical_to_another_says_so_in_the_legend(run_dir):
    """The fixture's two designs are the same network ("other" = baseline): every per-bin figure must say the
    second line is the same as the first (and dash it), not draw it silently under it; a different one must not."""
    import matplotlib

    matplotlib.use("Agg")
    from netsim.report.figures import _per_bin_lines

    run = load_run(run_dir)
    colors = {d: f"C{i}" for i, d in enumerate(run.designs)}
    spans = []  # no shading needed here
    for value in (lambda b: b["backbone_bps"].to_numpy(), lambda b: b["delivered_bytes"].to_numpy()):
        fig = _per_bin_lines(run, colors, value=value, ylabel="y", spans=spans)
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert "other (same as baseline)" in labels and "baseline" in labels
        styles = {ln.get_label(): ln.get_linestyle() for ln in fig.axes[0].get_lines()}
        assert styles["other (same as baseline)"] != styles["baseline"]
    # a series that differs keeps its plain label
    fig = _per_bin_lines(run, colors, value=lambda b: b["backbone_bps"].to_numpy() * (2.0 if b["design"][0] == "other" else 1.0),
                         ylabel="y", spans=spans)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["baseline", "other"]


def test_rtt_figure_one_panel_per_design_shares_of_offered_bytes(html, run_dir):
    """The RTT figure stacks, per design, the RTT classes and the undelivered rest to 100 % of the offered bytes
    (so a failure shows as bytes not delivered, not as a better RTT mix); an identical panel says so."""
    from netsim.sim.record import RTT_CLASS_COLUMNS, RTT_CLASS_LABELS

    b = pl.read_parquet(run_dir / "bins.parquet")
    split = b.select(pl.sum_horizontal(RTT_CLASS_COLUMNS)).to_series()
    assert (split - b["delivered_bytes"]).abs().max() <= 1e-6 * b["delivered_bytes"].max()
    sec = re.search(r'<section id="rtt">.*?</section>', html, flags=re.S).group(0)
    assert sec.count("<svg") == 1 and "per bin" in sec   # a 30-minute run: drawn per bin, not per hour
    for text in ["baseline", "other (same as baseline)", "not delivered", "failure window",
                 *(f"RTT {lab}".replace(">", "&gt;").replace("<", "&lt;") for lab in RTT_CLASS_LABELS)]:
        assert text in sec, text


# ------------------------------------------------------------------------------------------ partial and mixed runs
def test_a_complete_run_has_a_manifest_and_no_warning(rendered):
    from netsim.sim.manifest import run_status

    out, html = rendered
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["complete"] is True
    assert {"bins.parquet", "summary.json", "scenario.yaml", "topologies/baseline.yaml"} <= set(doc["files"])
    assert run_status(out) == []
    assert 'id="status"' not in html
    assert not any(c["partial"] for c in compare_runs([out])["columns"])


@pytest.mark.parametrize("stop_in, expect", [
    ("other", ["partial run: design other interrupted after 3 of 6 bins"]),
    ("baseline", ["partial run: design baseline interrupted after 3 of 6 bins", "partial run: designs not run: other"]),
])
def test_an_interrupted_run_is_marked_in_report_and_compare(cli, tmp_path, make_scenario, stop_in, expect):
    """Ctrl-C during a design (here: at its third bin) keeps what was done; report and compare say the run is partial,
    and which column is cut short."""
    from netsim.sim.manifest import run_status
    from netsim.sim.run import run

    def stop(design, b, n):
        if design == stop_in and b == 2:
            raise KeyboardInterrupt

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run(make_scenario(tmp_path), out, on_bin=stop)
    assert run_status(out) == expect
    assert json.loads((out / "manifest.json").read_text())["complete"] is False
    sec = re.search(r'<section id="status".*?</section>', render(out).read_text(), flags=re.S).group(0)
    assert all(line in sec for line in expect)
    cols = compare_runs([out])["columns"]
    assert {c["design"]: c["partial"] for c in cols} == ({"baseline": False, "other": True} if stop_in == "other"
                                                          else {"baseline": True})
    r = cli("compare", str(out))
    assert r.returncode == 0 and "(partial: see below)" in r.stdout
    assert all(f"warning: {out}: {line}" in r.stderr for line in expect)


def test_a_directory_mixing_two_runs_or_cut_while_writing_is_marked(cli, fresh_run):
    from netsim.sim.manifest import run_status

    # a table of another run (here: the same one with a bin less) beside this run's summary
    pl.read_parquet(fresh_run / "bins.parquet").filter(pl.col("bin") > 0).write_parquet(fresh_run / "bins.parquet")
    assert run_status(fresh_run) == ["bins.parquet differs from the manifest: it was written by another run, or "
                                     "changed, after this run's files"]
    r = cli("report", str(fresh_run))
    assert r.returncode == 0 and "warning:" in r.stderr and "bins.parquet differs" in r.stderr
    assert 'id="status"' in (fresh_run / "report.html").read_text()
    # killed between the write step's renames: the manifest is removed first and written last
    (fresh_run / "manifest.json").unlink()
    assert run_status(fresh_run)[0].startswith("no manifest.json: the run stopped while writing")
    assert all(c["partial"] for c in compare_runs([fresh_run])["columns"])


def test_a_run_written_before_the_rtt_classes_still_renders(fresh_run):
    bins = pl.read_parquet(fresh_run / "bins.parquet")
    bins.drop([c for c in bins.columns if c.startswith("rtt_") and c.endswith("_bytes")]).write_parquet(
        fresh_run / "bins.parquet")
    sec = re.search(r'<section id="rtt">.*?</section>', render(fresh_run).read_text(), flags=re.S).group(0)
    assert "<svg" in sec and "95th percentile" in sec   # the per-bin percentile lines instead
