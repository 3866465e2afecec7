"""The run's network: one Linux network namespace per node (controller, brokers, clients) on one
bridge, cuts made with iptables inside the namespaces, and a user-space proxy for the links that
need more than a cut (extra latency, dropped requests or responses, a reset connection).

Addresses: broker i is 10.77.0.i, the controller 10.77.0.100, client k (0-based) 10.77.0.(101+k);
the driver (and its observer, the admin agent) stays in the root namespace on 10.77.0.254,
outside every fault.

Why a proxy for latency: `tc qdisc ... netem` is the usual tool, but not every kernel has
sch_netem (this project's CI kernel does not: "Specified qdisc kind is unknown"). Traffic from a
node to a peer's Kafka port is redirected (iptables DNAT in the node's namespace) to a proxy port
in the root namespace, which forwards it to the peer, holding each Kafka frame back by the link's
latency (the scenario's `latency`, a draw of its `jitter`, and a `SlowLink`'s extra), dropping
whole frames when asked, or resetting the connections."""

import asyncio
import random
import socket
import struct
import subprocess
import threading
import time

BRIDGE = "ksbr0"
PREFIX = "ks-"
VETH_PREFIX = "ksv-"
HOST_IP = "10.77.0.254"
BROKER_PORT = 9092
CONTROLLER_PORT = 9093
PROXY_BASE_PORT = 30000


def sh(*args, check=True):
    """Runs a command; raises with its stderr when it fails and `check` is set."""
    done = subprocess.run(args, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")
    return done


def cleanup_stale():
    """Removes namespaces and the bridge that an earlier, killed run left behind."""
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.strip() else ""
        if name.startswith(PREFIX):
            sh("ip", "netns", "del", name, check=False)
    for line in sh("ip", "-o", "link", "show", check=False).stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0] if ":" in line else ""
        if name.startswith(VETH_PREFIX):
            sh("ip", "link", "del", name, check=False)
    sh("ip", "link", "del", BRIDGE, check=False)


class Node:
    """One host of the run: a namespace with one address."""

    def __init__(self, name, ip, port=None):
        self.name = name
        self.ns = PREFIX + name
        self.ip = ip
        self.port = port  # the port it serves Kafka on, if any

    def exec(self, *args):
        return ("ip", "netns", "exec", self.ns) + args


class Network:
    """The bridge, the namespaces, cuts and proxied links."""

    def __init__(self, nodes):
        self.nodes = nodes  # key (e.g. ("broker", 1)) -> Node
        self.cuts = set()  # frozenset({key_a, key_b})
        self.proxy = None

    def up(self):
        cleanup_stale()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", HOST_IP + "/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for node in self.nodes.values():
            veth = VETH_PREFIX + node.name
            sh("ip", "netns", "add", node.ns)
            sh("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", node.ns)
            sh("ip", "link", "set", veth, "master", BRIDGE, "up")
            sh(*node.exec("ip", "addr", "add", node.ip + "/24", "dev", "eth0"))
            sh(*node.exec("ip", "link", "set", "eth0", "up"))
            sh(*node.exec("ip", "link", "set", "lo", "up"))

    def down(self):
        if self.proxy:
            self.proxy.stop()
        for node in self.nodes.values():
            sh("ip", "netns", "del", node.ns, check=False)
        sh("ip", "link", "del", BRIDGE, check=False)

    # Cuts: iptables in both namespaces, matched on the connection's original addresses so that
    # proxied connections (whose packets leave for the proxy) are cut too.
    def _rules(self, a, b, op):
        na, nb = self.nodes[a], self.nodes[b]
        for here, peer in ((na, nb), (nb, na)):
            for chain in ("INPUT", "OUTPUT"):
                for match in ("--ctorigdst", "--ctorigsrc"):
                    sh(*here.exec("iptables", op, chain, "-m", "conntrack", match, peer.ip, "-j", "DROP"))

    def cut(self, a, b):
        pair = frozenset((a, b))
        if a != b and pair not in self.cuts:
            self.cuts.add(pair)
            self._rules(a, b, "-A")

    def heal(self):
        for pair in sorted(self.cuts, key=lambda p: sorted(map(str, p))):
            a, b = sorted(pair, key=str)
            self._rules(a, b, "-D")
        self.cuts.clear()
        if self.proxy:
            self.proxy.heal()

    def proxy_links(self, pairs, latency_us, jitter_us):
        """Routes traffic from `src` to `dst`'s Kafka port through the proxy, for each
        (src, dst) in `pairs`, each direction delayed by `latency_us` plus a uniform draw up to
        `jitter_us`. Must run before the nodes connect."""
        if not pairs:
            return
        self.proxy = Proxy(latency_us, jitter_us)
        for i, (src, dst) in enumerate(sorted(pairs, key=str)):
            s, d = self.nodes[src], self.nodes[dst]
            port = PROXY_BASE_PORT + i
            self.proxy.add(port, (src, dst), d.ip, d.port)
            sh(*s.exec("iptables", "-t", "nat", "-A", "OUTPUT", "-d", d.ip, "-p", "tcp",
                       "--dport", str(d.port), "-j", "DNAT", "--to-destination", f"{HOST_IP}:{port}"))
        self.proxy.start()


class Link:
    """What the proxy does to one direction-pair of traffic (src -> dst and its answers)."""

    def __init__(self, target):
        self.target = target
        self.extra_us = 0
        self.drop_requests = 0
        self.drop_responses = 0
        self.conns = set()


class Proxy:
    """Forwards each proxied link's connections, in a thread running an asyncio loop."""

    def __init__(self, latency_us, jitter_us):
        self.latency_us = latency_us
        self.jitter_us = jitter_us
        self.links = {}  # (src, dst) -> Link
        self.ports = {}  # port -> (src, dst)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.servers = []

    def add(self, port, pair, ip, dport):
        self.ports[port] = pair
        self.links[pair] = Link((ip, dport))

    def start(self):
        self.thread.start()
        for port, pair in self.ports.items():
            fut = asyncio.run_coroutine_threadsafe(
                asyncio.start_server(
                    lambda r, w, pair=pair: self._serve(pair, r, w), HOST_IP, port), self.loop)
            self.servers.append(fut.result(10))

    def stop(self):
        def close():
            for s in self.servers:
                s.close()
            for link in self.links.values():
                for w in list(link.conns):
                    w.transport.abort()
            self.loop.stop()
        self.loop.call_soon_threadsafe(close)
        self.thread.join(5)

    def _call(self, fn):
        done = threading.Event()

        def run():
            fn()
            done.set()
        self.loop.call_soon_threadsafe(run)
        done.wait(5)

    def links_between(self, a, b):
        return [l for (s, d), l in self.links.items() if {s, d} == {a, b}]

    def slow(self, a, b, extra_us):
        def set_():
            for l in self.links_between(a, b):
                l.extra_us = extra_us
        self._call(set_)

    def drop(self, client, broker, requests=0, responses=0):
        def set_():
            link = self.links.get((client, broker))
            link.drop_requests += requests
            link.drop_responses += responses
        self._call(set_)

    def reset(self, client, broker):
        def run():
            for w in list(self.links[(client, broker)].conns):
                sock = w.get_extra_info("socket")
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                w.transport.abort()
        self._call(run)

    def heal(self):
        def set_():
            for l in self.links.values():
                l.extra_us = 0
        self._call(set_)

    async def _serve(self, pair, reader, writer):
        link = self.links[pair]
        try:
            up_r, up_w = await asyncio.open_connection(*link.target)
        except OSError:
            writer.transport.abort()
            return
        link.conns.update((writer, up_w))
        conn = {"dead": False}
        await asyncio.gather(
            self._pump(link, conn, reader, up_w, "drop_requests"),
            self._pump(link, conn, up_r, writer, "drop_responses"),
            return_exceptions=True)
        link.conns.discard(writer)
        link.conns.discard(up_w)
        for w in (writer, up_w):
            w.transport.abort()

    async def _pump(self, link, conn, reader, writer, drop_attr):
        """Copies whole Kafka frames (4-byte size, then the body) from reader to writer: each is
        stamped when it arrives and written once the link's latency has passed (never before an
        earlier one), or dropped."""
        queue = asyncio.Queue()

        async def write():
            while True:
                due, frame = await queue.get()
                if frame is None:
                    return
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(frame)
                await writer.drain()

        writing = asyncio.ensure_future(write())
        last = 0.0
        try:
            while True:
                head = await reader.readexactly(4)
                (size,) = struct.unpack(">i", head)
                body = await reader.readexactly(size)
                if conn["dead"] or getattr(link, drop_attr) > 0:
                    # A frame lost on a live TCP connection stalls everything behind it (TCP
                    # delivers in order or not at all): the connection is silently dead, both
                    # ways, until a side gives up on it, as kafkasim models a dropped request or
                    # response ("connection silently dead" in its trace).
                    if not conn["dead"]:
                        setattr(link, drop_attr, getattr(link, drop_attr) - 1)
                    conn["dead"] = True
                    continue
                delay_us = self.latency_us + random.randint(0, self.jitter_us) + link.extra_us
                last = max(time.monotonic() + delay_us / 1e6, last)
                queue.put_nowait((last, head + body))
        finally:
            # The reader's side closed (a broker killed, a client gone): deliver what is on its
            # way, then close the other side too, as the peer's kernel would, so it notices now
            # rather than at its request timeout.
            queue.put_nowait((0.0, None))
            try:
                await writing
            finally:
                writer.close()


if __name__ == "__main__":
    import sys
    if sys.argv[1:] != ["--cleanup"]:
        sys.exit("usage: netns.py --cleanup   (removes the namespaces and bridge a run left)")
    cleanup_stale()
