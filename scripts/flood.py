#!/usr/bin/env python3
"""Measure what a flood of anonymous console sign-ins does to a Rollcall server, on loopback.

Sets up an org, an admin with an API token and a teacher in a fresh database, starts `rollcall
serve`, then runs sign-in workers (wrong passwords, unknown logins, a few right passwords) while
one probe calls the users API back to back and another samples the server's RSS. Workers sign in
from distinct 127.x addresses (--clients), as the throttle counts per address. Prints a table
and two verdicts; exits 0 whatever the numbers (a measurement), non-zero only if setup fails.

    python3 scripts/flood.py --bin target/debug/rollcall --sign-ins 20 --seconds 5
"""

import argparse
import asyncio
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT_TIMEOUT = 30.0
BASELINE_SECONDS = 3.0
ORG = "demo"
ADMIN = ("admin", "correct-horse-battery-9")
TEACHER = ("teacher", "purple-monkey-dishwasher-7")
RSS_BAR_MB = 300
P99_BAR_MS = 500


class SetupError(Exception):
    """Setting up the database or starting the server failed."""


@dataclass
class Tally:
    """What the sign-in workers saw."""

    posts: Counter = field(default_factory=Counter)  # POST /sign-in status -> count
    forms: Counter = field(default_factory=Counter)  # GET /sign-in non-200 status -> count
    errors: Counter = field(default_factory=Counter)  # "stage: exception" -> count
    no_retry_after: int = 0  # 429/503 answers without a Retry-After header


async def http(port, method, path, headers=None, body=b"", source=None):
    """One request on a fresh connection (from address `source` if given), within
    CLIENT_TIMEOUT; returns (status, headers with lower-cased names, set-cookie a list, body)."""

    async def exchange():
        local = (source, 0) if source else None
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=local)
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}",
                     "Connection: close", f"Content-Length: {len(body)}"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            raise ConnectionError(f"incomplete response ({len(raw)} bytes)")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {"set-cookie": []}
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                parsed["set-cookie"].append(value.strip())
            else:
                parsed[name.lower()] = value.strip()
        return int(status_line.split()[1]), parsed, rest

    return await asyncio.wait_for(exchange(), CLIENT_TIMEOUT)


def pick_credentials(rng):
    """A login and password: ~5% right, ~50% wrong for the teacher, the rest unknown logins."""
    roll = rng.random()
    if roll < 0.05:
        return TEACHER
    if roll < 0.55:
        return TEACHER[0], f"wrong-guess-{rng.randrange(10**9)}"
    return f"ghost{rng.randrange(10**6)}", f"wrong-guess-{rng.randrange(10**9)}"


def client_address(worker, clients):
    """The loopback address worker number `worker` connects from: one of `clients`."""
    k = worker % clients
    return f"127.1.{k // 200}.{k % 200 + 1}"


def read_form(body, headers):
    """The form's _csrf value and the `rollcall_csrf=...` cookie to send back with it."""
    match = re.search(rb'name="_csrf" value="([^"]*)"', body)
    cookies = [c.split(";")[0] for c in headers["set-cookie"] if c.startswith("rollcall_csrf=")]
    if not match or not cookies:
        raise ValueError("sign-in form without _csrf field or rollcall_csrf cookie")
    return match.group(1).decode(), cookies[0]


async def sign_in_worker(number, port, source, deadline, tally):
    """Loops GET /sign-in then POST /sign-in until the deadline, tallying what comes back."""
    rng = random.Random(number)
    while time.monotonic() < deadline:
        stage = "GET /sign-in"
        try:
            status, headers, body = await http(port, "GET", "/sign-in", source=source)
            if status != 200:
                tally.forms[status] += 1
                continue
            token, cookie = read_form(body, headers)
            login, password = pick_credentials(rng)
            form = urllib.parse.urlencode(
                {"_csrf": token, "org": ORG, "login": login, "password": password}).encode()
            stage = "POST /sign-in"
            headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
            status, headers, _ = await http(port, "POST", "/sign-in", headers, form, source)
            tally.posts[status] += 1
            if status in (429, 503) and "retry-after" not in headers:
                tally.no_retry_after += 1
        except (OSError, TimeoutError, ValueError) as err:
            tally.errors[f"{stage}: {type(err).__name__}"] += 1
            await asyncio.sleep(0.05)  # do not spin if the server refuses connections


async def probe_api(port, token, stop):
    """Calls GET /api/v1/users?limit=20 back to back until `stop` is set; returns (latency in
    ms of every attempt, failed ones too, so a timeout shows in the max; Counter of failures)."""
    latencies, failures = [], Counter()
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status, _, _ = await http(port, "GET", "/api/v1/users?limit=20", headers)
            if status != 200:
                failures[f"HTTP {status}"] += 1
        except (OSError, TimeoutError, ValueError) as err:
            failures[type(err).__name__] += 1
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies, failures


def rss_mb(pid):
    """The process's resident set size in MB (VmRSS), or None if it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


async def sample_rss(pid, stop):
    """Samples the RSS every 100 ms until `stop` is set; returns the samples in MB."""
    samples = []
    while not stop.is_set():
        value = rss_mb(pid)
        if value is not None:
            samples.append(value)
        await asyncio.sleep(0.1)
    return samples


async def measure(args, port, token, pid):
    """The idle baseline, then the flood; returns a dict of everything to report."""
    await asyncio.sleep(1)
    idle_rss = rss_mb(pid)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(BASELINE_SECONDS, stop.set)
    idle_api = await probe_api(port, token, stop)

    stop, tally = asyncio.Event(), Tally()
    rss_task = asyncio.create_task(sample_rss(pid, stop))
    probe_task = asyncio.create_task(probe_api(port, token, stop))
    started = time.monotonic()
    deadline = started + args.seconds
    await asyncio.gather(*(sign_in_worker(n, port, client_address(n, args.clients), deadline,
                                          tally) for n in range(args.sign_ins)))
    flood_seconds = time.monotonic() - started
    stop.set()
    flood_rss, flood_api = await rss_task, await probe_task
    await asyncio.sleep(2)
    return {"idle_rss": idle_rss, "peak_rss": max(flood_rss, default=None),
            "after_rss": rss_mb(pid), "idle_api": idle_api, "flood_api": flood_api,
            "tally": tally, "flood_seconds": flood_seconds}


def percentile(values, pct):
    """Nearest-rank percentile of `values`, or None when there are none."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)] if ordered else None


def show(value):
    """A number with one decimal, or '-' when missing."""
    return "-" if value is None else f"{value:.1f}"


def report(args, results):
    """Prints the table and the verdict lines."""
    (idle_lat, idle_fail), (flood_lat, flood_fail) = results["idle_api"], results["flood_api"]
    tally, seconds = results["tally"], results["flood_seconds"]
    row = "{:<24}{:>14}{:>16}{:>14}".format
    print(f"\nRollcall sign-in flood: {args.sign_ins} workers from {args.clients} addresses for "
          f"{args.seconds:g} s (took {seconds:.1f} s), {args.bin}")
    print(row("", "idle", "during flood", "2 s after"))
    print(row("RSS MB", show(results["idle_rss"]), show(results["peak_rss"]) + " peak",
              show(results["after_rss"])))
    for name, pct in (("API p50 ms", 50), ("API p99 ms", 99), ("API max ms", 100)):
        print(row(name, show(percentile(idle_lat, pct)), show(percentile(flood_lat, pct)), ""))
    print(row("API calls", len(idle_lat), len(flood_lat), ""))
    print(row("API errors", sum(idle_fail.values()), sum(flood_fail.values()), ""))
    for name, count in sorted((idle_fail + flood_fail).items()):
        print(f"  API error {name}: {count}")
    posts = sum(tally.posts.values())
    print(f"\nSign-in POSTs: {posts} ({posts / seconds:.1f}/s)")
    for status, count in sorted(tally.posts.items()):
        print(f"  {status}: {count}")
    print(f"  429/503 without Retry-After: {tally.no_retry_after}")
    for status, count in sorted(tally.forms.items()):
        print(f"Sign-in form GET {status}: {count}")
    print(f"Request errors: {sum(tally.errors.values())}")
    print("".join(f"  {name}: {count}\n" for name, count in sorted(tally.errors.items())), end="")
    peak, p99 = results["peak_rss"] or math.inf, percentile(flood_lat, 99) or math.inf
    print(f"\nRSS under {RSS_BAR_MB} MB: {'yes' if peak < RSS_BAR_MB else 'no'}")
    print(f"API p99 under {P99_BAR_MS} ms: {'yes' if p99 < P99_BAR_MS else 'no'}")


def run_cli(args, *words):
    """Runs one `rollcall` setup command; returns its stdout or raises SetupError."""
    command = [args.bin, "--database-url", args.database_url, *words]
    env = dict(os.environ, NO_COLOR="1", RUST_BACKTRACE="0")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    if done.returncode != 0:
        raise SetupError(f"{' '.join(words[:2])} failed ({done.returncode}): "
                         f"{done.stderr.strip()}")
    return done.stdout


def set_up(args):
    """Creates the org, the admin, the teacher and an API token; returns the token."""
    run_cli(args, "org", "create", ORG, "--name", "Demo School")
    for (username, password), role in ((ADMIN, "admin"), (TEACHER, "teacher")):
        given = role.capitalize()
        run_cli(args, "user", "add", "--org", ORG, "--username", username, "--given-name", given,
                "--family-name", "Flood", "--role", role, "--password", password)
    out = run_cli(args, "token", "create", "--org", ORG, "--user", ADMIN[0], "--name", "flood")
    if not out.split():
        raise SetupError("token create printed no secret on stdout")
    return out.split()[-1]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(server, port, stderr_path):
    """Polls GET /healthz until it answers 200 (60 s at most), or raises SetupError."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SetupError(f"server exited with {server.returncode}:\n{tail(stderr_path)}")
        try:
            if asyncio.run(http(port, "GET", "/healthz"))[0] == 200:
                return
        except (OSError, TimeoutError, ValueError):
            pass
        time.sleep(0.2)
    raise SetupError(f"/healthz did not answer 200 within 60 s:\n{tail(stderr_path)}")


def log_lines(path):
    """The server's log lines, without colour codes."""
    with open(path, errors="replace") as log:
        return [re.sub(r"\x1b\[[0-9;]*m", "", line.rstrip()) for line in log]


def tail(path):
    """The last 20 lines of the server's log."""
    return "\n".join(log_lines(path)[-20:])


def problems(path):
    """The server log's WARN, ERROR and panic lines, counted by text with timestamps, client
    addresses and latencies left out, most frequent first."""
    counts = Counter(re.sub(r'^\S+Z\s+| ?client="[^"]*"|(?<=latency=)\d+', "", line)
                     for line in log_lines(path) if re.search(r"\b(WARN|ERROR)\b|panicked", line))
    return [f"{count:>7} x {text}" for text, count in counts.most_common(20)]


def stop_server(server):
    """SIGINT, then up to 10 s to exit, then SIGKILL; prints how it went."""
    started = time.monotonic()
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=10)
        print(f"server exited {server.returncode} {time.monotonic() - started:.1f} s after SIGINT")
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()
        print("server did not stop within 10 s of SIGINT; killed")


def parse_args():
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=os.path.join(REPO, "target/release/rollcall"),
                        help="the rollcall binary (default: target/release/rollcall)")
    parser.add_argument("--sign-ins", type=int, default=300, help="concurrent sign-in workers")
    parser.add_argument("--seconds", type=float, default=20, help="how long the flood lasts")
    parser.add_argument("--clients", type=int, help="distinct loopback addresses the workers "
                        "sign in from, as the throttle counts per address (default: one each)")
    parser.add_argument("--database-url", help="an empty database (default: fresh sqlite file)")
    parser.add_argument("--port", type=int, help="port to serve on (default: a free one)")
    return parser.parse_args()


def main():
    """Sets up, serves, measures, reports and cleans up."""
    args = parse_args()
    args.clients = max(1, min(args.clients or args.sign_ins, 200 * 256))
    workdir = tempfile.mkdtemp(prefix="rollcall-flood-")
    args.database_url = args.database_url or f"sqlite://{workdir}/flood.db"
    port = args.port or free_port()
    stderr_path = os.path.join(workdir, "server.stderr")
    server = None
    try:
        try:
            token = set_up(args)
            with open(stderr_path, "w") as stderr:
                server = subprocess.Popen(
                    [args.bin, "--database-url", args.database_url, "serve",
                     "--bind", f"127.0.0.1:{port}"],
                    stdout=subprocess.DEVNULL, stderr=stderr, env=dict(os.environ, NO_COLOR="1"))
            wait_healthy(server, port, stderr_path)
        except (SetupError, OSError, subprocess.TimeoutExpired) as err:
            print(f"setup failed: {err}", file=sys.stderr)
            return 1
        print(f"serving on 127.0.0.1:{port} (pid {server.pid}); baseline {BASELINE_SECONDS:g} s, "
              f"then {args.sign_ins} sign-in workers for {args.seconds:g} s", flush=True)
        results = asyncio.run(measure(args, port, token, server.pid))
        if server.poll() is not None:
            print(f"server exited during the run with {server.returncode}")
        report(args, results)
    finally:
        if server is not None:
            stop_server(server)
            found = problems(stderr_path)
            print("\n".join(["server log WARN/ERROR/panic lines:", *found]) if found
                  else "server log: no WARN, ERROR or panic lines")
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
