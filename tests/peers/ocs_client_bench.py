#!/usr/bin/env python3
"""python-diameter's own client against a charging server, for comparison with
our sidecar: CONC threads each send CCR EVENT requests back to back for SECS
seconds over one python-diameter Node connection. Prints
"python-diameter client: N CCR/s, p50 X ms, p99 Y ms".

    python3 ocs_client_bench.py --port 3868 --conc 16 --secs 5
"""
import argparse
import threading
import time

from diameter.message.constants import *  # noqa: F401,F403
from diameter.message.commands.credit_control import CreditControlRequest
from diameter.message.avp.grouped import SubscriptionId
from diameter.node import Node
from diameter.node.application import SimpleThreadingApplication


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--conc", type=int, default=16)
    ap.add_argument("--secs", type=float, default=5)
    ap.add_argument("--origin-host", default="pyclient.test.local")
    ap.add_argument("--server-host", default="ocs.test.local")
    ap.add_argument("--realm", default="test.local")
    a = ap.parse_args()
    node = Node(a.origin_host, a.realm)
    app = SimpleThreadingApplication(APP_DIAMETER_CREDIT_CONTROL_APPLICATION, is_auth_application=True)
    peer = node.add_peer(f"aaa://{a.server_host}:{a.port};transport=tcp", a.realm,
                         ip_addresses=["127.0.0.1"], is_persistent=True, is_default=True)
    node.add_application(app, [peer])
    node.start()
    app.wait_for_ready(timeout=10)
    lat = []
    lock = threading.Lock()
    stop = time.monotonic() + a.secs
    counter = [0]

    def work(i):
        mine = []
        while time.monotonic() < stop:
            with lock:
                counter[0] += 1
                n = counter[0]
            ccr = CreditControlRequest()
            ccr.session_id = f"{a.origin_host};bench;{i};{n}"
            ccr.origin_host = a.origin_host.encode()
            ccr.origin_realm = a.realm.encode()
            ccr.destination_realm = a.realm.encode()
            ccr.auth_application_id = APP_DIAMETER_CREDIT_CONTROL_APPLICATION
            ccr.service_context_id = "32270@3gpp.org"
            ccr.cc_request_type = E_CC_REQUEST_TYPE_EVENT_REQUEST
            ccr.cc_request_number = 0
            ccr.requested_action = 0
            ccr.subscription_id = [SubscriptionId(subscription_id_type=0, subscription_id_data="447700900123")]
            t = time.monotonic()
            app.send_request(ccr, timeout=10)
            mine.append(time.monotonic() - t)
        with lock:
            lat.extend(mine)

    start = time.monotonic()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(a.conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    node.stop(wait_timeout=2, force=True)
    lat.sort()
    if not lat:
        print("python-diameter client: no answers")
        return
    p = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000
    print(f"python-diameter client: {len(lat) / wall:.0f} CCR/s, p50 {p(0.5):.2f} ms, p99 {p(0.99):.2f} ms ({len(lat)} requests, {a.conc} concurrent)")


if __name__ == "__main__":
    main()
