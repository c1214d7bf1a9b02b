#!/usr/bin/env python3
"""Decodes MM1 PDUs with python-messaging and prints what it saw as JSON.

Used by the Rust oracle tests (shared/src/codec/mm1/tests/oracle.rs) as an
independent decoder. Usage: pm_decode.py FILE...  (prints one JSON list).
Needs `pip install python-messaging` (only its decoder is used).
"""
import array
import datetime
import json
import sys

from messaging.mms.message import MMSMessage


def plain(value):
    if isinstance(value, (bool, int, float)) or value is None:
        return value
    if isinstance(value, datetime.datetime):
        # python-messaging builds naive datetimes in UTC.
        return value.replace(tzinfo=datetime.timezone.utc).isoformat()
    if isinstance(value, (tuple, list)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (bytes, bytearray, array.array)):
        return bytes(value).hex()
    return str(value)


def decode(path):
    with open(path, "rb") as f:
        data = array.array("B", f.read())
    mms = MMSMessage.from_data(data)
    parts = []
    for part in mms.data_parts:
        raw = bytes(part.data) if not isinstance(part.data, str) else part.data.encode("latin-1")
        parts.append({
            "content_type": part.content_type,
            "params": plain(part.content_type_parameters),
            "length": len(raw),
            "hex": raw.hex(),
        })
    return {"file": path, "headers": plain(mms.headers), "parts": parts}


if __name__ == "__main__":
    out = []
    for path in sys.argv[1:]:
        try:
            out.append(decode(path))
        except Exception as e:  # report, do not hide, decoder failures
            out.append({"file": path, "error": "%s: %s" % (type(e).__name__, e)})
    json.dump(out, sys.stdout, ensure_ascii=False)
