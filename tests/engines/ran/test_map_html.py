"""``map.html``: self-contained, bounded, and its layers render in a real browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
from delivery_fixtures import GIS, make_grid, make_result
from lxml import html as lxml_html

from opsforge.engines.ran.mapviz import LAYER_IDS, build_map_data, write_map_html

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _big_grid(num_bins: int) -> pl.DataFrame:
    alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"
    codes = [
        "9xj6" + alphabet[i // 1024 % 32] + alphabet[i // 32 % 32] + alphabet[i % 32]
        for i in range(num_bins)
    ]
    return pl.DataFrame(
        {
            "grid": codes,
            "cell_id": [101] * num_bins,
            "rsrp_dbm": [-100.0 - (i % 30) for i in range(num_bins)],
            "rsrq_db": [None] * num_bins,
            "sinr_db": [None] * num_bins,
            "event_count": [1 + i % 7 for i in range(num_bins)],
        },
        schema_overrides={"rsrq_db": pl.Float64, "sinr_db": pl.Float64},
    )


def test_page_is_self_contained_and_has_every_layer(tmp_path: Path) -> None:
    path = write_map_html(make_result(), GIS, make_grid(), tmp_path / "map.html")
    text = path.read_text()
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", text), "no external resources"
    assert "cdn" not in text.lower()
    for layer in LAYER_IDS:
        assert f'id="{layer}"' in text or f"id='{layer}'" in text, layer
    doc = lxml_html.fromstring(text.encode())
    rose = doc.get_element_by_id("chart-traffic-rose")
    # one rose per recommended cell with measurements (202 has none in make_grid)
    assert len(rose.findall(".//g[@class='rose']")) == 3


def test_bins_are_sampled_to_bound_the_file(tmp_path: Path) -> None:
    grid = _big_grid(6000)
    data = build_map_data(make_result(), GIS, grid, max_bins=500, seed=1)
    assert len(data["bins"]["lon"]) == 500
    assert all(-106 < lon < -103 for lon in data["bins"]["lon"])  # lon, not lat
    small = write_map_html(make_result(), GIS, grid, tmp_path / "a.html", max_bins=500)
    large = write_map_html(make_result(), GIS, grid, tmp_path / "b.html", max_bins=5000)
    assert small.stat().st_size < large.stat().st_size
    assert data["swaps"] == [[201, 202]]


def test_script_injection_in_names_is_escaped(tmp_path: Path) -> None:
    gis = GIS.with_columns(
        pl.when(pl.col("cell_id") == 101)
        .then(pl.lit("</script><script>alert(1)</script>"))
        .otherwise(pl.col("cell_name"))
        .alias("cell_name")
    )
    text = write_map_html(make_result(), gis, make_grid(), tmp_path / "m.html").read_text()
    assert "</script><script>alert(1)" not in text


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed")
def test_layers_render_in_headless_chromium(tmp_path: Path) -> None:
    path = write_map_html(make_result(), GIS, make_grid(), tmp_path / "map.html")
    profile = tmp_path / "profile"
    cmd = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--virtual-time-budget=3000",
        "--dump-dom", path.as_uri(),
    ]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = lxml_html.fromstring(out.stdout.encode())
    assert doc.find("body").get("data-rendered") == "true", "the inline script did not finish"

    def children(layer_id: str) -> list[lxml_html.HtmlElement]:
        return list(doc.get_element_by_id(layer_id))

    cells = children("layer-cells")
    assert len(cells) == 6
    assert all(c.tag == "path" for c in cells)
    issues = {c.get("data-cell"): c.get("class") for c in cells}
    assert issues["101"] == "cell issue-overshooting"
    assert issues["102"] == "cell issue-none"
    assert len(children("layer-bins")) >= 1
    assert [c.tag for c in children("layer-swaps")] == ["line"]
    assert [c.tag for c in children("layer-zones")] == ["polygon"]
    assert len(children("layer-coverage-before")) == 3
    assert len(children("layer-coverage-after")) == 3
    for chart in ("chart-distance-cdf", "chart-rsrp-distance", "chart-traffic-rose"):
        assert len(children(chart)) > 3, chart
    viewbox = doc.get_element_by_id("map").get("viewbox")  # the HTML parser lower-cases
    assert viewbox is not None
    assert len(viewbox.split()) == 4
