"""Importers: nfdump CSV flow exports, libCacheSim CSV and binary oracleGeneral request traces."""

import struct

import pytest

from netsim.errors import InputError
from netsim.traffic import read_trace
from netsim.traffic.importers import PrefixTable

NFDUMP_HEADER = ("ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,"
                 "svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,"
                 "ra,eng,exid,tr")
PREFIXES = {"10.0.0.0/8": "a1", "10.2.0.0/16": "a2", "10.2.3.0/24": "a3", "2001:db8::/32": "a2"}


def _nf_row(ts, sa, da, sp, dp, ibyt):
    fields = [ts, ts, "0.500", sa, da, str(sp), str(dp), "TCP", "...AP.SF", "0", "0", "10", str(ibyt), "0", "0",
              "0", "0", "0", "0", "0", "0", "0", "0", "0.0.0.0", "0.0.0.0", "0", "0", "00:00:00:00:00:00",
              "00:00:00:00:00:00", "00:00:00:00:00:00", "00:00:00:00:00:00"] + ["0-0-0"] * 10 + \
             ["0.000", "0.000", "0.000", "0.0.0.0", "0/0", "1", "1970-01-01 09:00:00.000"]
    return ",".join(fields)


def _nfdump(tmp_path, rows, summary=True):
    p = tmp_path / "flows.csv"
    text = NFDUMP_HEADER + "\n" + "\n".join(_nf_row(*r) for r in rows) + "\n"
    if summary:
        text += "Summary\nflows,bytes,packets,avg_bps,avg_pps,avg_bpp\n3,1000,30,0,0,0\n"
    p.write_text(text)
    return p


def test_prefix_table_longest_match_v4_v6():
    t = PrefixTable(PREFIXES)
    assert [t.lookup(a) for a in ("10.9.9.9", "10.2.9.9", "10.2.3.4", "2001:db8::1", "192.0.2.1", "junk")] == \
        ["a1", "a2", "a3", "a2", None, None]


def test_nfdump_flows_mapped_by_longest_prefix(tmp_path, two_as):
    p = _nfdump(tmp_path, [
        ("2024-11-01 21:00:00.000", "10.1.1.1", "10.2.3.9", 51000, 443, 125_000),
        ("2024-11-01 21:00:02.250", "10.2.0.7", "2001:db8::5", 3074, 40000, 800),
        ("2024-11-01 21:00:10.000", "10.2.3.1", "10.5.0.1", 6881, 6882, 9_000_000),
    ])
    df = read_trace(p, two_as, format="nfdump", options={"prefixes": PREFIXES}).collect()
    assert df["ts"].to_list() == [0.0, 2.25, 10.0]
    assert df["src"].to_list() == ["a1", "a2", "a3"]
    assert df["dst"].to_list() == ["a3", "a2", "a1"]
    assert df["bytes"].to_list() == [125_000, 800, 9_000_000]
    assert df["service"].to_list() == ["web", "game", "p2p"]
    assert df["provider"].null_count() == 3 and df["obj"].null_count() == 3


def test_nfdump_prefix_table_from_csv_file(tmp_path):
    p = _nfdump(tmp_path, [("2024-11-01 21:00:00", "10.1.1.1", "10.2.3.9", 1, 2, 10)], summary=False)
    table = tmp_path / "prefixes.csv"
    table.write_text("prefix,node\n10.0.0.0/8,a1\n10.2.3.0/24,a3\n")
    df = read_trace(p, format="nfdump", options={"prefixes": str(table)}).collect()
    assert df.row(0)[:3] == (0.0, "a1", "a3")


def test_nfdump_unmapped_address_is_an_error_or_a_counted_drop(tmp_path):
    p = _nfdump(tmp_path, [
        ("2024-11-01 21:00:00", "10.1.1.1", "10.2.3.9", 1, 443, 10),
        ("2024-11-01 21:00:01", "10.1.1.1", "192.0.2.7", 1, 443, 10),
    ])
    with pytest.raises(InputError) as e:
        read_trace(p, format="nfdump", options={"prefixes": PREFIXES})
    assert "row 1 (line 3), column da" in str(e.value) and "'192.0.2.7'" in str(e.value)
    with pytest.warns(UserWarning, match="dropped 1 of 2 flows"):
        df = read_trace(p, format="nfdump", options={"prefixes": PREFIXES, "unmapped": "drop"}).collect()
    assert df.height == 1


def test_nfdump_bad_bytes_and_missing_option(tmp_path):
    p = _nfdump(tmp_path, [("2024-11-01 21:00:00", "10.1.1.1", "10.2.3.9", 1, 443, "12 M")])
    with pytest.raises(InputError, match=r"row 0 \(line 2\), column ibyt"):
        read_trace(p, format="nfdump", options={"prefixes": PREFIXES})
    with pytest.raises(InputError, match="needs the option"):
        read_trace(p, format="nfdump")


def test_libcachesim_csv_with_names_and_time_unit(tmp_path):
    p = tmp_path / "reqs.csv"
    p.write_text("time,obj_id,obj_size,extra\n1000,5,100,x\n1500,6,200,y\n1500,5,100,z\n")
    df = read_trace(p, format="libcachesim-csv", options={"src": "a1", "provider": "video", "time_unit_s": 1e-3}).collect()
    assert df["ts"].to_list() == [0.0, 0.5, 0.5]
    assert df["obj"].to_list() == [5, 6, 5] and df["bytes"].to_list() == [100, 200, 100]
    assert set(df["service"]) == {"video"} and set(df["provider"]) == {"video"} and df["dst"].null_count() == 3


def test_libcachesim_csv_by_column_number_without_header(tmp_path):
    p = tmp_path / "reqs.txt"
    p.write_text("7\t10\t1\n7\t11\t2\n9\t10\t1\n")
    opts = {"src": "a2", "provider": "web", "columns": {"time": 3, "obj": 2, "size": 1}, "has_header": False, "delimiter": "\t"}
    with pytest.raises(InputError, match="service must be one of"):
        read_trace(p, format="libcachesim-csv", options={**opts, "service": "nope"})
    with pytest.raises(InputError, match=r"row 2 \(line 3\), column ts.*backwards"):
        read_trace(p, format="libcachesim-csv", options=opts)
    df = read_trace(p, format="libcachesim-csv", options=opts, sort=True).collect()
    assert df["ts"].to_list() == [0.0, 0.0, 1.0]
    assert df["obj"].to_list() == [10, 10, 11] and df["bytes"].to_list() == [7, 9, 7]


def test_libcachesim_csv_wrong_type_names_row(tmp_path):
    p = tmp_path / "reqs.csv"
    p.write_text("time,obj_id,obj_size\n1,5,100\n2,abc,200\n")
    with pytest.raises(InputError, match=r"row 1 \(line 3\), column obj.*'abc'"):
        read_trace(p, format="libcachesim-csv", options={"src": "a1", "provider": "video"})
    df = read_trace(p, format="libcachesim-csv", options={"src": "a1", "provider": "video", "obj_id_is_num": False}).collect()
    assert df["obj"].null_count() == 0 and df["obj"][0] != df["obj"][1]


def test_oracle_general_binary(tmp_path, two_as):
    p = tmp_path / "trace.oracleGeneral"
    recs = [(100, 1, 4096, 2), (100, 2, 512, -1), (103, 1, 4096, -1)]
    p.write_bytes(b"".join(struct.pack("<IQIq", *r) for r in recs))
    df = read_trace(p, two_as, options={"src": "a3", "provider": "game", "time_unit_s": 2.0}).collect()
    assert df["ts"].to_list() == [0.0, 0.0, 6.0]
    assert df["obj"].to_list() == [1, 2, 1] and df["bytes"].to_list() == [4096, 512, 4096]
    assert set(df["src"]) == {"a3"} and set(df["service"]) == {"game"}


def test_oracle_general_truncated_file_and_zero_size(tmp_path):
    p = tmp_path / "t.bin"
    p.write_bytes(struct.pack("<IQIq", 1, 1, 10, -1) + b"\x00" * 5)
    with pytest.raises(InputError, match="not a multiple of the 24-byte"):
        read_trace(p, options={"src": "a1", "provider": "web"})
    p.write_bytes(struct.pack("<IQIq", 1, 1, 10, -1) + struct.pack("<IQIq", 2, 2, 0, -1))
    with pytest.raises(InputError, match="row 1, column bytes: bytes must be > 0, found 0"):
        read_trace(p, format="oracle-general", options={"src": "a1", "provider": "web"})


def test_oracle_general_agrees_with_libcachesim_reader(tmp_path):
    import libcachesim as lcs
    import numpy as np

    rng = np.random.default_rng(1)
    n = 2000
    t = np.sort(rng.integers(1_600_000_000, 1_600_003_600, n)).astype(np.uint32)
    obj = rng.zipf(1.3, n).astype(np.uint64)
    size = rng.integers(1, 2**31, n).astype(np.uint32)
    p = tmp_path / "z.oracleGeneral"
    p.write_bytes(b"".join(struct.pack("<IQIq", int(a), int(b), int(c), -1) for a, b, c in zip(t, obj, size)))
    theirs = [(q.clock_time, q.obj_id, q.obj_size) for q in lcs.TraceReader(str(p), lcs.TraceType.ORACLE_GENERAL_TRACE)]
    ours = read_trace(p, options={"src": "a1", "provider": "web"}).collect()
    assert [o for _, o, _ in theirs] == ours["obj"].to_list()
    assert [s for _, _, s in theirs] == ours["bytes"].to_list()
    assert [c - theirs[0][0] for c, _, _ in theirs] == ours["ts"].cast(int).to_list()
