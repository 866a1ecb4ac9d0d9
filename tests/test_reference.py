"""docs/reference.md is generated from the models and current; every key of every model is described."""

from __future__ import annotations

from pathlib import Path

from netsim.reference import DESCRIPTIONS, reference_markdown, undescribed

DOC = Path(__file__).resolve().parent.parent / "docs" / "reference.md"


def test_every_scenario_and_topology_key_is_described():
    assert undescribed() == []


def test_no_description_for_a_key_that_no_longer_exists():
    text = reference_markdown()
    gone = [k for k in DESCRIPTIONS if f"`{k.split('.', 1)[1]}`" not in text]
    assert gone == []


def test_the_page_is_current():
    assert DOC.read_text() == reference_markdown(), "regenerate: python -m netsim.reference > docs/reference.md"


def test_the_page_reads_bounds_and_defaults_from_the_models():
    text = reference_markdown()
    assert "| `bin_s` | number | 300.0 | > 0 |" in text
    assert "| `quality.placement` | text | regional | matching ^(regional|tokyo)$ |" in text
    assert "| `links[].capacity_gbps` | number | required | > 0, <= 1e9 |" in text
    assert "| `nodes[].asn` | integer | required | >= 0, <= 4294967295 |" in text
    assert "- **`access`**`(members=None, pops=None, set=None)`" in text
