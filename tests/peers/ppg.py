#!/usr/bin/env python3
"""A push proxy gateway for tests: accepts PAP submissions the way Kannel's PPG
does (HTTP POST, multipart/related with the PAP XML control entity and the push
content), decodes the pushed MMS PDU with python-messaging's decoder, and writes
each push to <dir>/<n>.json (address, push id, application id, the decoded MMS
headers and the raw PDU in hex). Answers with a PAP push-response, code 1001.

Usage: ppg.py --dir DIR [--port N] [--user U --password P] [--fail N]
Prints "READY <port>" when listening.
"""
import argparse
import base64
import json
import os
import re
import sys
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from messaging.mms.message import MMSMessage

lock = threading.Lock()
state = {"n": 0, "fail": 0}


def split_multipart(body, boundary):
    delim = b"--" + boundary.encode()
    parts = []
    for chunk in body.split(delim)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, _, data = chunk.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        parts.append((headers, data))
    return parts


def jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    return str(v)


def decode_mms(pdu):
    m = MMSMessage.from_data(bytearray(pdu))
    out = {"headers": jsonable(dict(m.headers)), "parts": []}
    for part in m.data_parts:
        out["parts"].append(
            {
                "content_type": jsonable(part.content_type),
                "headers": jsonable(part.headers),
                "size": len(part.data),
            }
        )
    return out


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, code, text, content_type="application/xml"):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        if ARGS.user:
            expect = "Basic " + base64.b64encode(
                f"{ARGS.user}:{ARGS.password}".encode()
            ).decode()
            if self.headers.get("Authorization") != expect:
                return self.answer(401, "unauthorised", "text/plain")
        with lock:
            if state["fail"] < ARGS.fail:
                state["fail"] += 1
                return self.answer(503, "busy", "text/plain")
        ctype = self.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        if not ctype.lower().startswith("multipart/related") or not m:
            return self.answer(400, "<pap><badmessage-response code=\"2000\"/></pap>")
        parts = split_multipart(body, m.group(1))
        if len(parts) != 2:
            return self.answer(400, "<pap><badmessage-response code=\"2000\"/></pap>")
        (ch, control), (ph, content) = parts
        root = ET.fromstring(control)
        msg = root.find("push-message")
        address = msg.find("address").get("address-value")
        push_id = msg.get("push-id")
        record = {
            "address": address,
            "push_id": push_id,
            "control_type": ch.get("content-type"),
            "content_type": ph.get("content-type"),
            "application_id": ph.get("x-wap-application-id"),
            "pdu_hex": content.hex(),
            # X-Mms-Message-Type's value octet, for types python-messaging (MMS 1.0
            # only) does not name.
            "type": content[1] if len(content) > 1 else None,
        }
        try:
            record["mms"] = decode_mms(content)
        except Exception as e:  # the test sees the failure
            record["decode_error"] = repr(e)
        with lock:
            state["n"] += 1
            n = state["n"]
            tmp = os.path.join(ARGS.dir, f".{n}.json")
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.rename(tmp, os.path.join(ARGS.dir, f"{n}.json"))
        self.answer(
            202,
            '<?xml version="1.0"?><!DOCTYPE pap PUBLIC "-//WAPFORUM//DTD PAP 2.0//EN" '
            '"http://www.wapforum.org/DTD/pap_2.0.dtd"><pap><push-response push-id="%s">'
            '<response-result code="1001" desc="Accepted for processing"/></push-response></pap>'
            % push_id,
        )


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--user")
    p.add_argument("--password")
    p.add_argument("--fail", type=int, default=0, help="answer 503 to the first N pushes")
    ARGS = p.parse_args()
    os.makedirs(ARGS.dir, exist_ok=True)
    srv = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    print(f"READY {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
