#!/usr/bin/env python3
"""A VASP's MM7 endpoint for tests: records every POST (N.body, then N.json with the
operation, Content-Type and Authorization) and answers the matching *Rsp in the
namespace of the request with --status (1000 by default).

    python3 vasp_server.py --port 0 --dir /tmp/vasp [--status 1000]

Prints "READY <port>" once listening."""
import argparse
import http.server
import json
import os
import re
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--dir", required=True)
ap.add_argument("--status", type=int, default=1000)
args = ap.parse_args()
os.makedirs(args.dir, exist_ok=True)
lock = threading.Lock()
count = [0]
DEFAULT_NS = "http://www.3gpp.org/ftp/Specs/archive/23_series/23.140/schema/REL-6-MM7-1-4"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(n)
        text = body.decode("utf-8", "replace")
        m = re.search(r'<(?:[\w-]+:)?(DeliverReq|DeliveryReportReq|ReadReplyReq)\b[^>]*?xmlns(?::[\w-]+)?="([^"]+)"', text)
        op, ns = (m.group(1), m.group(2)) if m else ("Unknown", DEFAULT_NS)
        t = re.search(r"TransactionID[^>]*>\s*([^<\s]+)", text)
        tx = t.group(1) if t else "unknown"
        with lock:
            count[0] += 1
            k = count[0]
        with open(os.path.join(args.dir, f"{k}.body"), "wb") as f:
            f.write(body)
        meta = {"op": op, "ns": ns, "content_type": self.headers.get("content-type", ""),
                "authorization": self.headers.get("authorization"), "path": self.path}
        tmp = os.path.join(args.dir, f"{k}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(meta, f)
        os.rename(tmp, os.path.join(args.dir, f"{k}.json"))
        rsp = op.replace("Req", "Rsp") if op != "Unknown" else "VASPErrorRsp"
        status = args.status if op != "Unknown" else 4003
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
            f'<SOAP-ENV:Header><mm7:TransactionID xmlns:mm7="{ns}" SOAP-ENV:mustUnderstand="1">{tx}</mm7:TransactionID></SOAP-ENV:Header>'
            f'<SOAP-ENV:Body><mm7:{rsp} xmlns:mm7="{ns}"><MM7Version>6.8.0</MM7Version>'
            f"<Status><StatusCode>{status}</StatusCode><StatusText>test VASP</StatusText></Status>"
            f"</mm7:{rsp}></SOAP-ENV:Body></SOAP-ENV:Envelope>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(xml)))
        self.end_headers()
        self.wfile.write(xml)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"READY {srv.server_address[1]}", flush=True)
srv.serve_forever()
