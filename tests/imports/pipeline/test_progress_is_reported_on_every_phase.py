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

    assert [p.phase for p in seen if p.phase != "validating"] == ["parsing", "loading", "merging"]
    assert tuple(dict.fromkeys(p.phase for p in seen)) == PHASES
    assert seen[-1].records_processed == 5000
    assert seen[-1].bytes_processed == seen[-1].bytes_total == len(data)
    assert all(
        a.records_processed <= b.records_processed for a, b in zip(seen, seen[1:], strict=False)
    )
