import io

import pytest

from imports.pipeline import PHASES, ImportOptions, run_import


@pytest.mark.django_db
def test_progress_is_reported_on_every_phase_change_with_records_and_bytes():
    data = b"sku,name\n" + "".join(f"sku-{n},Name {n}\n" for n in range(5000)).encode()
    seen = []

    run_import(
        source=io.BytesIO(data),
        options=ImportOptions(),
        bytes_total=len(data),
        on_progress=seen.append,
    )

    assert tuple(dict.fromkeys(p.phase for p in seen)) == PHASES
    assert [p.phase for p in seen if p.phase in ("parsing", "loading")] == ["parsing", "loading"]
    assert seen[-1].records_processed == 5000
    assert seen[-1].bytes_processed == seen[-1].bytes_total == len(data)
    assert all(
        a.records_processed <= b.records_processed for a, b in zip(seen, seen[1:], strict=False)
    )


@pytest.mark.django_db
def test_a_merge_reports_its_steps(settings):
    settings.IMPORT_REBUILD_MIN_ROWS = 50
    data = b"sku,name\n" + "".join(f"sku-{n},Name {n}\n" for n in range(200)).encode()
    seen = []

    run_import(source=io.BytesIO(data), options=ImportOptions(), on_progress=seen.append)

    steps = [p.step for p in seen if p.phase == "merging" and p.step]
    assert "comparing 200 products with the catalogue" in steps
    assert "writing the merged catalogue into a new table" in steps
    building = [step for step in steps if step.startswith("building index ")]
    assert building[0].startswith("building index 1 of ") and len(building) >= 8
    assert any(step.endswith(" (search on description)") for step in building)
    assert any(step.endswith(" (unique sku)") for step in building)
    assert steps[-1] == "switching to the new catalogue"
    assert all(p.step is None for p in seen if p.phase != "merging")
