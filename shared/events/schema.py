"""Write the JSON Schema of every event type to ``shared/events/schemas/`` (``make schemas``).

Department systems consume ``dept.<code>`` topics directly; these files are their contract. Each schema describes
the structured-mode CloudEvent (attributes + ``data``); on Kafka the attributes travel as ``ce_*`` headers and
``data`` is the message value. A test fails when a committed schema differs from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from shared.events import EVENT_TYPES

SCHEMA_DIR = Path(__file__).with_name("schemas")


def schemas() -> dict[str, dict[str, Any]]:
    out = {}
    for type_name, cls in EVENT_TYPES.items():
        schema = cls.model_json_schema(mode="serialization")
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
                  "$id": f"https://linkage.example/schemas/{type_name}.json", **schema}
        schema["title"] = type_name
        schema["description"] = (
            f"CloudEvents 1.0 event `{type_name}`. On Kafka (binary mode): headers ce_specversion, ce_id, ce_type, "
            "ce_source, ce_time, ce_subject (the report id) and content-type: application/json; the message key is "
            "the report id and the value is `data`. " + (cls.model_fields["data"].annotation.__doc__ or "").strip())
        out[type_name] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for type_name, schema in schemas().items():
        path = SCHEMA_DIR / f"{type_name}.json"
        path.write_text(render(schema))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
