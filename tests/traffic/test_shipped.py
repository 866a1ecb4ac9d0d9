"""The shipped traces: recipes made on first use, checked against their digests, valid on their topologies."""

import os
import shlex
from pathlib import Path

import polars as pl
import pytest

from netsim.cli import main
from netsim.data import resolve_path, shipped_names
from netsim.errors import InputError
from netsim.traffic import read_trace, trace_meta
from netsim.traffic import recipes as rc

REPO_TRACES = Path(rc._recipes_path()).parent


def test_every_shipped_trace_is_a_recipe_and_no_large_file_is_committed():
    assert set(rc.recipes()) == {"tochigi-1d", "tochigi-prev-1d", "japan-1h"}
    assert set(rc.recipes()) <= set(shipped_names("traces"))
    for p in REPO_TRACES.iterdir():
        assert p.stat().st_size < 1_000_000, p
    for r in rc.recipes().values():
        assert r.digest and len(r.digest) == 64 and r.rows and r.rows > 1_000_000


@pytest.mark.parametrize("name, topology", [("tochigi-1d", "tochigi"), ("tochigi-prev-1d", "tochigi"), ("japan-1h", "japan")])
def test_shipped_trace_is_valid_on_its_topology(name, topology):
    path = resolve_path("traces", name)   # generated into the cache on first use
    r = rc.recipes()[name]
    assert path.is_file() and r.digest[:16] in path.name
    meta = trace_meta(name)
    assert meta["topology"] == topology and meta["sample_rate"] == r.sample_rate and meta["scale"] == 1 / r.sample_rate
    df = read_trace(name, topology).select("ts", "provider").collect()
    assert df.height == r.rows and df["ts"].is_sorted()
    assert set(df["provider"].drop_nulls()) == {"game", "overseas-video", "update", "video", "web"}


def test_the_documented_command_makes_the_recipe_s_trace(tmp_path):
    """The command the README shows (recipe_command) gives exactly the recorded trace: same digest."""
    r = rc.recipes()["tochigi-1d"]
    cmd = rc.recipe_command(r, str(tmp_path / "regen.parquet"))
    readme = (REPO_TRACES / "README.md").read_text()
    assert rc.recipe_command(r, "tochigi-1d.parquet") in readme
    with pytest.raises(SystemExit) as e:
        main(shlex.split(cmd)[1:])
    assert e.value.code in (0, None)
    assert rc.trace_digest(tmp_path / "regen.parquet") == r.digest


def test_digest_is_of_values_not_bytes(tmp_path):
    src = resolve_path("traces", "tochigi-1d")
    df = pl.read_parquet(src).head(5000)
    meta = trace_meta(src)
    from netsim.traffic.io import write_trace

    write_trace(df, tmp_path / "a.parquet", meta=meta)
    write_trace(df, tmp_path / "b.parquet", meta=meta, compression="lz4", row_group_rows=700)  # other bytes
    assert (tmp_path / "a.parquet").read_bytes() != (tmp_path / "b.parquet").read_bytes()
    assert rc.trace_digest(tmp_path / "a.parquet") == rc.trace_digest(tmp_path / "b.parquet")
    changed = df.with_columns(pl.when(pl.int_range(pl.len()) == 17).then(pl.col("bytes") + 1).otherwise(pl.col("bytes")))
    write_trace(changed, tmp_path / "c.parquet", meta=meta)
    assert rc.trace_digest(tmp_path / "c.parquet") != rc.trace_digest(tmp_path / "a.parquet")
    renamed = df.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(pl.lit("isp-b-oyama")).otherwise(pl.col("src"))
                              .alias("src"))
    write_trace(renamed, tmp_path / "d.parquet", meta=meta)
    assert rc.trace_digest(tmp_path / "d.parquet") != rc.trace_digest(tmp_path / "a.parquet")


@pytest.fixture
def tiny_recipes(tmp_path, monkeypatch):
    """A recipes file with one tiny recipe, and an empty cache directory."""
    folder = tmp_path / "traces"
    folder.mkdir()
    monkeypatch.setenv("NETSIM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(rc, "_recipes_path", lambda: folder / "recipes.yaml")

    def write(digest: str, rows: int) -> None:
        (folder / "recipes.yaml").write_text(
            "tiny:\n  topology: examples/two_as\n  duration: 10m\n  seed: 3\n  sample_rate: 0.01\n"
            f"  rows: {rows}\n  digest: {digest}\n")
        os.utime(folder / "recipes.yaml", (1, len(rc._CACHE) + 2 + rows))  # a new mtime: re-read
    return write


def _tiny_reference(tmp_path) -> tuple[Path, int]:
    """What the tiny recipe makes, generated here directly: (file, rows)."""
    from netsim.topology import load_topology
    from netsim.traffic.generators import mixed

    ref = tmp_path / "ref.parquet"
    return ref, mixed(load_topology("examples/two_as"), duration_s=600, seed=3, sample_rate=0.01).write(ref)


def test_first_use_generates_then_reuses_and_remakes_a_damaged_file(tiny_recipes, tmp_path):
    ref, rows = _tiny_reference(tmp_path)
    tiny_recipes(rc.trace_digest(ref), rows)
    p = rc.materialize("tiny")
    assert p.parent == tmp_path / "cache" / "traces" and rc.trace_digest(p) == rc.trace_digest(ref)
    stamp = p.stat().st_mtime_ns
    assert rc.materialize("tiny") == p and p.stat().st_mtime_ns == stamp  # reused, not made again
    p.write_bytes(b"not parquet")   # damaged in the cache: detected and made again
    q = rc.materialize("tiny")
    assert q == p and rc.trace_digest(q) == rc.trace_digest(ref)
    assert rc.materialize("no-such-recipe") is None


def test_a_trace_that_differs_from_its_recipe_is_an_error(tiny_recipes, monkeypatch):
    tiny_recipes("f" * 64, 1)
    with pytest.raises(InputError, match="differs from the one the repository records"):
        rc.materialize("tiny")
    assert not list((Path(os.environ["NETSIM_CACHE_DIR"]) / "traces").glob("*.parquet"))  # nothing half-made left
    monkeypatch.setenv("NETSIM_ACCEPT_TRACE_DIGEST", "1")
    with pytest.warns(UserWarning, match="differs"):
        p = rc.materialize("tiny")
    assert p.is_file()


def test_a_bad_recipes_file_is_a_located_error(tiny_recipes, tmp_path):
    (tmp_path / "traces" / "recipes.yaml").write_text("tiny:\n  topology: x\n  duration: 1h\n  seed: -1\n  sample_rate: 2\n")
    with pytest.raises(InputError, match=r"recipes.yaml.*tiny"):
        rc.recipes()


def test_documented_command_regenerates_the_shipped_history(tmp_path):
    readme = REPO_TRACES / "README.md"
    (line,) = [ln.strip()[2:] for ln in readme.read_text().splitlines() if ln.strip().startswith("$ netsim trace history")]
    argv = shlex.split(line)[1:]
    i = argv.index("-o")
    shipped = resolve_path("traces", argv[i + 1].split("/")[-1])
    argv[i + 1] = str(tmp_path / "regen.csv")
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code in (0, None)
    assert (tmp_path / "regen.csv").read_bytes() == shipped.read_bytes()


def test_a_variant_at_another_rate_is_made_once_and_kept(tiny_recipes, tmp_path):
    ref, rows = _tiny_reference(tmp_path)
    tiny_recipes(rc.trace_digest(ref), rows)
    p = rc.materialize("tiny@0.05")
    assert trace_meta(p)["sample_rate"] == 0.05 and pl.read_parquet(p).height > rows
    stamp = p.stat().st_mtime_ns
    assert rc.materialize("tiny@0.05") == p and p.stat().st_mtime_ns == stamp
    with open(p, "r+b") as f:   # changed in place (same size): the digest taken when it was made catches it
        f.seek(p.stat().st_size // 2)
        f.write(b"\0\0\0\0")
    q = rc.materialize("tiny@0.05")
    assert q == p and p.stat().st_mtime_ns != stamp
    for bad in ("tiny@0", "tiny@x", "tiny@1.5"):
        with pytest.raises(InputError, match="NAME@RATE"):
            rc.materialize(bad)
