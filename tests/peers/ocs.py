#!/usr/bin/env python3
"""A charging server (OCS) for tests, built on python-diameter (PyPI), which
answers CER, DWR and DPR itself. It answers every Credit-Control-Request with a
configurable Result-Code and keeps a ledger of what it charged.

The ledger (SQLite, shareable between a primary and a secondary server) holds one
row per CCR it *applied*. A CCR whose (Session-Id, CC-Request-Number) was already
applied is a duplicate: with the T flag (RFC 4006 §5.1 retransmission) it is
answered without being applied again; without the T flag it is applied again,
so a client that resends without the T flag shows up as a double charge.

Every CCR received is also appended to --log as a JSON line.

    python3 ocs.py --port 3868 --origin-host ocs1.test.local --realm test.local \
        --client mmsc.test.local --ledger /tmp/ledger.db --log /tmp/ccr.jsonl
"""
import argparse
import json
import logging
import signal
import sqlite3
import sys
import threading
import time

from diameter.message.constants import *  # noqa: F401,F403
from diameter.message.avp.grouped import GrantedServiceUnit
from diameter.node import Node
from diameter.node.application import SimpleThreadingApplication

lock = threading.Lock()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--origin-host", default="ocs.test.local")
    ap.add_argument("--realm", default="test.local")
    ap.add_argument("--client", action="append", default=[],
                    help="Origin-Host of a client allowed to connect (repeatable)")
    ap.add_argument("--result-code", type=int, default=2001)
    ap.add_argument("--grant-units", type=int, default=1)
    ap.add_argument("--ledger", help="SQLite ledger file")
    ap.add_argument("--log", help="JSON lines of every CCR received")
    ap.add_argument("--delay-ms", type=int, default=0, help="answer after this delay")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    db = None
    if args.ledger:
        db = sqlite3.connect(args.ledger, check_same_thread=False, timeout=10)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE IF NOT EXISTS charges (session TEXT, number INT, "
                   "type INT, action INT, server TEXT, t_flag INT, at REAL)")
        db.commit()
    log = open(args.log, "a") if args.log else None

    def handle(app, msg):
        t_flag = bool(msg.header.is_retransmit)
        session = msg.session_id
        number = msg.cc_request_type and msg.cc_request_number
        rtype = msg.cc_request_type
        action = getattr(msg, "requested_action", None)
        subs = [s.subscription_id_data for s in (getattr(msg, "subscription_id", None) or [])]
        entry = {
            "server": args.origin_host, "session_id": session, "type": rtype,
            "number": msg.cc_request_number, "t_flag": t_flag, "action": action,
            "subscription": subs, "service_context_id": msg.service_context_id,
            "origin_host": msg.origin_host.decode() if isinstance(msg.origin_host, bytes) else msg.origin_host,
        }
        applied = False
        with lock:
            if db is not None and args.result_code == 2001:
                seen = db.execute("SELECT COUNT(*) FROM charges WHERE session=? AND number=?",
                                  (session, msg.cc_request_number)).fetchone()[0]
                if seen and t_flag:
                    entry["duplicate"] = True
                else:
                    db.execute("INSERT INTO charges VALUES (?,?,?,?,?,?,?)",
                               (session, msg.cc_request_number, rtype, action,
                                args.origin_host, int(t_flag), time.time()))
                    db.commit()
                    applied = True
            entry["applied"] = applied
            if log:
                log.write(json.dumps(entry) + "\n")
                log.flush()
        if args.delay_ms:
            time.sleep(args.delay_ms / 1000.0)
        answer = app.generate_answer(msg)
        answer.result_code = args.result_code
        answer.cc_request_type = msg.cc_request_type
        answer.cc_request_number = msg.cc_request_number
        if args.result_code == 2001 and rtype in (1, 2, 4) and action != 1:
            answer.granted_service_unit = GrantedServiceUnit(
                cc_service_specific_units=args.grant_units)
        return answer

    node = Node(args.origin_host, args.realm, ip_addresses=["127.0.0.1"], tcp_port=args.port,
                vendor_ids=[0, 10415])
    node.idle_timeout = 3600
    app = SimpleThreadingApplication(APP_DIAMETER_CREDIT_CONTROL_APPLICATION,
                                     is_auth_application=True, request_handler=handle)
    peers = [node.add_peer(f"aaa://{c}", args.realm) for c in (args.client or ["mmsc.test.local"])]
    node.add_application(app, peers)
    node.start()
    print(f"ocs listening on 127.0.0.1:{args.port}", flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.is_set():
        stop.wait(0.5)
    node.stop(wait_timeout=2, force=True)


if __name__ == "__main__":
    main()
