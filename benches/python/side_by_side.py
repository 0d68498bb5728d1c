"""Side-by-side benchmark, Python half: the official client (azure-confidentialledger, sync)
against the sandbox that benches/side_by_side.sh started, on the same work as the Rust half
(benches/side_by_side.rs). Prints one JSON object.

    side_by_side.py writes  --sandbox FILE --seconds S --threads 1,32
    side_by_side.py status  --sandbox FILE --seconds S --threads 1,32 --id TX
    side_by_side.py latency --sandbox FILE --seconds S --writers W --think T --start-at UNIX
    side_by_side.py range   --sandbox FILE --collection C --from TX --to TX

The client is built as its README says: ConfidentialLedgerCertificateCredential with the
administrator's certificate and key (one PEM file), ledger_certificate_path = the sandbox's
service certificate, everything else default (api-version 2022-05-13, requests transport).
With more than one thread, the threads share one client (Azure SDK clients are thread-safe)
whose connection pool is sized to the thread count; the default pool keeps 10 connections and
would open (and handshake) a new one for every request beyond that.
"""

import argparse
import json
import random
import threading
import time

from azure.confidentialledger import (
    ConfidentialLedgerCertificateCredential,
    ConfidentialLedgerClient,
)
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport

WARM_UP = 0.5
ENTRY_BYTES = 100



def run_threads(target, count, errors):
    """Runs target(0..count) on as many threads, waits for all, re-raises the first error."""
    pool = [threading.Thread(target=target, args=(w,)) for w in range(count)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]

def contents(label, writer, i):
    return f"side-by-side {label} writer {writer:02d} entry {i:08d} ".ljust(ENTRY_BYTES, ".")


def memory_kib():
    """(VmHWM, VmRSS) of this process in KiB."""
    fields = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                fields[name] = int(rest.split()[0])
    return fields.get("VmHWM", 0), fields.get("VmRSS", 0)


class CountRequests(SansIOHTTPPolicy):
    """Counts the requests of each HTTP method the client sends."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {}

    def on_request(self, request):
        method = request.http_request.method
        with self.lock:
            self.counts[method] = self.counts.get(method, 0) + 1


def make_client(info, pool=None, **kwargs):
    if pool is not None and pool > 10:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry

        session = requests.Session()
        # As RequestsTransport sets up its own session, with a larger pool.
        adapter = HTTPAdapter(
            pool_maxsize=pool, max_retries=Retry(total=False, redirect=False, raise_on_status=False)
        )
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        kwargs["transport"] = RequestsTransport(
            session=session,
            session_owner=False,
            connection_verify=info["serviceCertificatePath"],
            connection_cert=info["adminPemPath"],
        )
    return ConfidentialLedgerClient(
        info["ledgerEndpoint"],
        credential=ConfidentialLedgerCertificateCredential(info["adminPemPath"]),
        ledger_certificate_path=info["serviceCertificatePath"],
        **kwargs,
    )


def rate(threads, seconds, op):
    """Runs op(writer, i) on `threads` threads for WARM_UP unmeasured, then for `seconds`;
    returns operations per second and the process's CPU time per operation (as the Rust half
    does)."""
    counter = iter(range(1 << 62))
    lock = threading.Lock()
    errors = []

    def run(window):
        deadline = time.perf_counter() + window
        done = [0] * threads

        def worker(w):
            try:
                while time.perf_counter() < deadline:
                    with lock:
                        i = next(counter)
                    op(w, i)
                    done[w] += 1
            except Exception as e:  # reported below, fails the run
                errors.append(e)

        run_threads(worker, threads, errors)
        return sum(done)

    run(WARM_UP)
    start, cpu = time.perf_counter(), time.process_time()
    done = run(seconds)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"rate": done / elapsed, "cpu_us": cpu * 1e6 / max(1, done)}


def rates(args, op_for):
    out = {}
    for threads in [int(t) for t in args.threads.split(",")]:
        client = make_client(args.info, pool=threads)
        out[str(threads)] = rate(threads, args.seconds, op_for(client))
        client.close()
    return {"python": out}


def writes(args):
    def op_for(client):
        return lambda w, i: client.create_ledger_entry({"contents": contents("python", w, i)})

    return rates(args, op_for)


def status(args):
    def op_for(client):
        return lambda w, i: client.get_transaction_status(transaction_id=args.id)

    return rates(args, op_for)


def latency(args):
    counter = CountRequests()
    client = make_client(args.info, pool=args.writers, per_call_policies=[counter])
    client.get_transaction_status(transaction_id="2.1")  # connect before the clock starts
    time.sleep(max(0.0, args.start_at - time.time()))
    deadline = time.perf_counter() + args.seconds
    before = dict(counter.counts)
    samples = [[] for _ in range(args.writers)]
    errors = []

    def writer(w):
        i = 0
        try:
            while time.perf_counter() < deadline:
                time.sleep(random.random() * args.think)
                t0 = time.perf_counter()
                client.begin_create_ledger_entry({"contents": contents("latency-python", w, i)}).result()
                samples[w].append((time.perf_counter() - t0) * 1000.0)
                i += 1
        except Exception as e:
            errors.append(e)

    run_threads(writer, args.writers, errors)
    all_samples = [s for per in samples for s in per]
    polls = counter.counts.get("GET", 0) - before.get("GET", 0)
    return {
        "writers": args.writers,
        "python_begin_create": all_samples,
        "python_mean_polls": polls / max(1, len(all_samples)),
    }


def ranged(args):
    client = make_client(args.info)
    hwm_before, rss_before = memory_kib()
    start = time.perf_counter()
    count = 0
    size = 0
    for entry in client.list_ledger_entries(
        collection_id=args.collection,
        from_transaction_id=getattr(args, "from"),
        to_transaction_id=args.to,
    ):
        count += 1
        size += len(entry["contents"])
    seconds = time.perf_counter() - start
    hwm, rss = memory_kib()
    return {
        "entries": count,
        "content_bytes": size,
        "seconds": seconds,
        "entries_per_second": count / seconds,
        "hwm_before_kib": hwm_before,
        "rss_before_kib": rss_before,
        "hwm_kib": hwm,
        "rss_kib": rss,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["writes", "status", "latency", "range"])
    parser.add_argument("--sandbox", required=True)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--threads")
    parser.add_argument("--id")
    parser.add_argument("--writers", type=int)
    parser.add_argument("--think", type=float)
    parser.add_argument("--start-at", type=float)
    parser.add_argument("--collection")
    parser.add_argument("--from")
    parser.add_argument("--to")
    parser.add_argument("--round")  # accepted for symmetry with the Rust half
    args = parser.parse_args()
    with open(args.sandbox, encoding="utf-8") as f:
        args.info = json.load(f)
    mode = {"writes": writes, "status": status, "latency": latency, "range": ranged}[args.mode]
    print(json.dumps(mode(args)))


if __name__ == "__main__":
    main()
