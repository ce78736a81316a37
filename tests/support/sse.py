"""Reading server-sent events in tests, as an EventSource would."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


def events(lines: Iterable[str]) -> Iterator[tuple[str, dict | None]]:
    """(event name, parsed JSON data) for each event in a stream of lines; comments
    (keep-alives) and the retry field are skipped."""
    name, data = "message", []
    for line in lines:
        if line == "":
            if data:
                yield name, json.loads("\n".join(data))
            name, data = "message", []
        elif line.startswith(":") or line.startswith("retry:"):
            continue
        elif line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data.append(line.removeprefix("data:").strip())
