#!/usr/bin/env python3
"""Runs one kafkasim scenario on a real Kafka 4.0.1 cluster and records its history.

    driver.py --plan PLAN.json --classpath CP --work DIR --history OUT.jsonl [--label TEXT]

PLAN.json is `kafkasim plan <scenario>`'s output. The driver starts a KRaft controller and one
JVM per broker, each in its own network namespace (netns.py), creates the topics with the plan's
replica lists and configs, starts one JVM per producer and consumer (kafkasim.cluster.Agent, in
its own namespace, with the plan's configs), starts the workload at t0 and applies the faults in
real time. At the end it reads every partition's log and writes the history (kafkasim's history
format, book chapter "History files"), which `kafkasim check-history` checks.

Exit status: 0 when the run completed, 2 when the plan cannot be mapped onto a real cluster (the
reasons are printed) or the cluster could not be set up. Every process and namespace it started
is gone when it exits, also on failure or Ctrl-C."""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import netns

CONTROLLER_ID = 100
CLUSTER_ID = "a2Fma2FzaW0tY29uZm9ybQ"  # any 22-character base64 UUID
STARTUP_TIMEOUT_S = 180
FINAL_READ_TIMEOUT_S = 300


def epoch_us():
    return time.time_ns() // 1000


def last_lines(path, n=3):
    """The first lines of an exception in a log (or its last lines), for an error message."""
    try:
        with open(path, errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
    except OSError:
        return "(no log)"
    first = next((i for i, l in enumerate(lines) if "Exception" in l), None)
    chosen = lines[first:first + n] if first is not None else lines[-n:]
    return "\n  ".join(chosen)


def refusals(plan):
    """Why the plan cannot run on a real cluster (empty when it can)."""
    why = []
    if plan["brokers"] > 99:
        why.append(f"{plan['brokers']} brokers: the driver's address plan has room for 99")
    model = plan["model_config"]
    if model.get("kafkasim.transaction.version", "2") not in TRANSACTION_VERSIONS:
        why.append(f"kafkasim.transaction.version={model['kafkasim.transaction.version']}: Kafka 4.0.1 "
                   "has transaction versions 1 and 2 (its 0 is no transactions protocol kafkasim models)")
    if model.get("kafkasim.truncation.rule", "leader-epoch") != "leader-epoch":
        why.append("kafkasim.truncation.rule=high-watermark replays Kafka before 0.11 (KIP-101); "
                   "Kafka 4.0.1 always truncates by leader epoch")
    if model.get("kafkasim.min.isr.hw.gate", "true") != "true":
        why.append("kafkasim.min.isr.hw.gate=false replays Kafka 3.6 and older (KAFKA-15583); "
                   "Kafka 4.0.1 always gates the high watermark")
    for f in plan["faults"]:
        kind = f["fault"]["kind"]
        if kind == "Crash" and f["fault"].get("lose_unflushed"):
            why.append(f"`{f['text']}`: a power loss drops the page cache; a real broker's host "
                       "cannot lose it here (only kill -9, which keeps it)")
        if kind in ("Pause", "Isolate") and "client" in f["fault"]["node"] \
                and f["fault"]["node"]["client"] not in client_ids(plan):
            why.append(f"`{f['text']}`: no such client")
    return why


# Client settings that describe the application's environment, not Kafka's behaviour: the driver
# sets its own (bootstrap servers, client id, serializers, its commit recorder), and the test
# cluster is PLAINTEXT, so security settings cannot apply.
ENVIRONMENT_KEYS = {"bootstrap.servers", "client.id", "client.dns.lookup", "key.serializer",
                    "value.serializer", "key.deserializer", "value.deserializer",
                    "interceptor.classes", "metric.reporters", "security.protocol"}
ENVIRONMENT_PREFIXES = ("sasl.", "ssl.")


def client_config(config):
    """A client's config without its environment settings, and the keys left out."""
    kept = {k: v for k, v in config.items()
            if k not in ENVIRONMENT_KEYS and not k.startswith(ENVIRONMENT_PREFIXES)}
    return kept, sorted(set(config) - set(kept))


def client_of(fault):
    """The client a Crash or Restart names (consumer, producer or processor)."""
    return next(fault[k] for k in ("consumer", "producer", "processor") if fault.get(k) is not None)


def client_ids(plan):
    """Every client of the plan, each once: a processor is listed among the consumers too (its
    consumer half), but runs as one application."""
    procs = processor_ids(plan)
    return ([p["id"] for p in plan["producers"]] + [c["id"] for c in plan["consumers"] if c["id"] not in procs]
            + procs)


def processor_ids(plan):
    return [p["id"] for p in plan.get("processors", [])]


# `kafkasim.transaction.version` → the storage format's `--feature transaction.version=N`
# (kafka.tools.StorageTool: a new 4.0 cluster formats with the release's default, version 2;
# TransactionVersion.java in server-common).
TRANSACTION_VERSIONS = {"1", "2"}


def format_features(plan):
    """The `--feature` arguments of the storage format for this plan."""
    version = plan["model_config"].get("kafkasim.transaction.version")
    return ["--feature", f"transaction.version={version}"] if version else []


def notes(plan):
    """What the real run cannot reproduce exactly, printed with every run."""
    out = []
    net = plan["network"]
    out.append("latency is added per Kafka frame by a proxy in user space (the kernel has no "
               "netem): a frame is held back whole, not packet by packet")
    costs = sorted(k for k in plan["model_config"] if k.endswith((".us", ".per.s")))
    if costs:
        out.append(f"the model's request costs ({', '.join(costs)}) are the simulator's; "
                   "the real brokers take what they take")
    if net["bandwidth_bits_per_s"] != 1_000_000_000:
        out.append("the links' bandwidth limit is not applied")
    if len(plan["producers"]) > 1 or any(p["rate"]["count"] * 1_000_000 > 20_000 * p["rate"]["per_us"]
                                         for p in plan["producers"]):
        out.append("at high rates the proxy's own cost shapes throughput and latency: timings are "
                   "not comparable")
    configs = [(c["id"], c["config"]) for c in plan["producers"] + plan["consumers"]
               if c["id"] not in processor_ids(plan)]
    for p in plan.get("processors", []):
        configs.append((p["id"], {**p["consumer_config"], **p["producer_config"]}))
    for cid, config in configs:
        _, dropped = client_config(config)
        if dropped:
            out.append(f"`{cid}`'s {', '.join(dropped)} are the driver's own (PLAINTEXT, "
                       "its bootstrap list and client id)")
    tasks = [k for k in BACKGROUND_TASKS if k in plan.get("broker_config", {})]
    storage = any(any(k in t["config"] for k in ("retention.ms", "retention.bytes", "cleanup.policy"))
                  for t in plan.get("topics", []) if not t["internal"])
    if tasks or storage:
        out.append("the brokers' retention checks and log cleaners run on their own schedule from each "
                   "broker's start (the first retention check 30 s after it), not from the run's start: "
                   "records are deleted or cleaned at other moments than in kafkasim")
    for f in plan["faults"]:
        if f["fault"]["kind"] == "Restart" and (f["fault"].get("producer") or f["fault"].get("processor")):
            out.append(f"`{f['text']}` starts a new JVM (about a second) that carries on after the "
                       "last record its crashed instance handed to send()")
        if "appended" in f["trigger"]:
            out.append(f"`after: Appended(...)` of `{f['text']}` fires on the first ack at or past "
                       "that offset (a client does not see appends)")
    return out


def reset_offsets_command(fault):
    """The admin agent's `reset-offsets` command for a `ResetOffsets` fault of the plan."""
    to = fault["to"]
    if isinstance(to, dict):
        (kind, value), = to.items()
        to = f"{kind}:{value}"
    words = ["reset-offsets", fault["group"], to]
    if fault.get("topic") is not None:
        words.append(fault["topic"])
        if fault.get("partition") is not None:
            words.append(str(fault["partition"]))
    return " ".join(words)


# Broker settings of the log's background tasks. A real broker schedules its retention check
# (`log.retention.check.interval.ms`) from its own start (LogManager.startup: first after
# `log.initial.task.delay.ms`, 30 s), and its cleaner polls from its start; kafkasim's brokers
# start at the run's start.
BACKGROUND_TASKS = ("log.retention.check.interval.ms", "log.cleaner.backoff.ms")


class Agent:
    """One agent JVM (producer, consumer or admin): its stdin takes commands, its stdout lines
    are history lines or driver messages (`_ready`, `_done`, `_closed`)."""

    def __init__(self, driver, role, name, spec, node=None):
        self.driver = driver
        self.role = role
        self.name = name
        self.spec = spec
        self.node = node
        self.proc = None
        self.ready = threading.Event()
        self.done = threading.Event()
        self.exited = threading.Event()

    def start(self):
        cmd = ["java", "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
               "-cp", self.driver.classpath, "kafkasim.cluster.Agent", self.role, json.dumps(self.spec)]
        if self.node:
            cmd = list(self.node.exec(*cmd))
        log = open(os.path.join(self.driver.work, f"{self.name}.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
        self.ready.clear()
        self.exited.clear()
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def await_ready(self, timeout_s):
        """True once the agent is ready; False if it exits or times out first."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.ready.wait(0.2):
                return True
            if self.exited.is_set():
                return False
        return False

    def _read(self, proc):
        for raw in proc.stdout:
            line = json.loads(raw)
            kind = line["type"]
            if kind == "_ready":
                self.ready.set()
            elif kind in ("_done", "_closed"):
                self.done.set()
            else:
                self.driver.record(line)
        self.exited.set()

    def send(self, command):
        if self.proc is None:
            return
        try:
            self.proc.stdin.write((command + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def signal(self, sig):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Server:
    """The controller or a broker: a `kafka.Kafka` JVM in its namespace."""

    def __init__(self, driver, name, node, props):
        self.driver = driver
        self.name = name
        self.node = node
        self.props_file = os.path.join(driver.work, f"{name}.properties")
        with open(self.props_file, "w") as f:
            for k, v in props.items():
                f.write(f"{k}={v}\n")
        self.proc = None

    def format(self):
        netns.sh("java", "-cp", self.driver.classpath, "kafka.tools.StorageTool", "format",
                 "-t", CLUSTER_ID, "-c", self.props_file, *format_features(self.driver.plan))

    def start(self):
        log = open(os.path.join(self.driver.work, f"{self.name}.log"), "ab")
        cmd = self.node.exec("java", "-Xmx512m", "-XX:+UseSerialGC",
                             "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
                             "-Dorg.slf4j.simpleLogger.showDateTime=true",
                             "-cp", self.driver.classpath, "kafka.Kafka", self.props_file)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.running():
            self.proc.send_signal(sig)

    def kill(self):
        if self.running():
            self.proc.kill()
            self.proc.wait()


class Driver:
    def __init__(self, plan, classpath, work, label):
        self.plan = plan
        self.classpath = classpath
        self.work = work
        self.label = label
        self.lines = []
        self.lock = threading.Lock()
        self.t0 = None
        self.sent = {}
        self.acked = {}
        self.begun = {}
        self.fired = set()
        self.trigger_lock = threading.Lock()
        self.stopping = False
        self.nodes = self._nodes()
        self.net = netns.Network(self.nodes)
        self.servers = {}
        self.agents = {}
        self.admin = None

    # Nodes and addresses.
    def _nodes(self):
        nodes = {("controller",): netns.Node("ctl", f"10.77.0.{CONTROLLER_ID}", netns.CONTROLLER_PORT)}
        for b in range(1, self.plan["brokers"] + 1):
            nodes[("broker", b)] = netns.Node(f"b{b}", f"10.77.0.{b}", netns.BROKER_PORT)
        for k, cid in enumerate(client_ids(self.plan)):
            nodes[("client", cid)] = netns.Node(f"c{k}", f"10.77.0.{101 + k}")
        return nodes

    @staticmethod
    def key(node_ref):
        if node_ref == "controller":
            return ("controller",)
        if "broker" in node_ref:
            return ("broker", node_ref["broker"])
        return ("client", node_ref["client"])

    def bootstrap(self):
        return ",".join(f"10.77.0.{b}:{netns.BROKER_PORT}" for b in range(1, self.plan["brokers"] + 1))

    def links(self):
        """Every (src, dst) connection the run makes, all through the proxy: clients to brokers,
        brokers to brokers (replication) and brokers to the controller."""
        brokers = [k for k in self.nodes if k[0] == "broker"]
        clients = [k for k in self.nodes if k[0] == "client"]
        pairs = {(c, b) for c in clients for b in brokers}
        pairs |= {(a, b) for a in brokers for b in brokers if a != b}
        pairs |= {(b, ("controller",)) for b in brokers}
        return pairs

    # The history.
    def record(self, line):
        with self.lock:
            self.lines.append(line)
        kind = line["type"]
        if kind == "send":
            self.sent[line["producer"]] = self.sent.get(line["producer"], 0) + 1
            self.check_triggers()
        elif kind == "ack":
            self.acked[line["producer"]] = self.acked.get(line["producer"], 0) + 1
            self.check_triggers(line)
        elif kind == "txn_begin":
            self.begun[line["producer"]] = self.begun.get(line["producer"], 0) + 1

    def check_triggers(self, ack=None):
        with self.trigger_lock:
            for i, f in enumerate(self.plan["faults"]):
                t = f["trigger"]
                if i in self.fired or "at_us" in t:
                    continue
                hit = False
                if "sent" in t:
                    hit = self.sent.get(t["sent"]["producer"], 0) >= t["sent"]["records"]
                elif "acked" in t:
                    hit = self.acked.get(t["acked"]["producer"], 0) >= t["acked"]["records"]
                elif "appended" in t and ack is not None and ack.get("offset") is not None:
                    a = t["appended"]
                    topic = next((p["topic"] for p in self.plan["producers"] if p["id"] == ack["producer"]),
                                 next((p["output"] for p in self.plan.get("processors", [])
                                       if p["id"] == ack["producer"]), None))
                    hit = (topic == a["topic"] and ack["partition"] == a["partition"]
                           and ack["offset"] >= a["offset"])
                if hit:
                    self.fired.add(i)
                    threading.Thread(target=self.apply, args=(f,), daemon=True).start()

    # Setup.
    def broker_props(self, b):
        node = self.nodes[("broker", b)]
        props = {
            "process.roles": "broker",
            "node.id": b,
            "controller.quorum.voters": f"{CONTROLLER_ID}@10.77.0.{CONTROLLER_ID}:{netns.CONTROLLER_PORT}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"PLAINTEXT://{node.ip}:{netns.BROKER_PORT}",
            "advertised.listeners": f"PLAINTEXT://{node.ip}:{netns.BROKER_PORT}",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": os.path.join(self.work, f"b{b}-data"),
        }
        props.update(self.plan["broker_config"])
        return props

    def controller_props(self):
        node = self.nodes[("controller",)]
        props = {
            "process.roles": "controller",
            "node.id": CONTROLLER_ID,
            "controller.quorum.voters": f"{CONTROLLER_ID}@{node.ip}:{netns.CONTROLLER_PORT}",
            "controller.listener.names": "CONTROLLER",
            "listeners": f"CONTROLLER://{node.ip}:{netns.CONTROLLER_PORT}",
            "log.dirs": os.path.join(self.work, "ctl-data"),
        }
        # The controller decides elections and fencing: it reads the same cluster-wide settings
        # (unclean.leader.election.enable, min.insync.replicas, broker.session.timeout.ms, ...).
        props.update(self.plan["broker_config"])
        return props

    def setup(self):
        self.net.up()
        net = self.plan["network"]
        self.net.proxy_links(self.links(), net["latency_us"], net["jitter_us"])
        self.servers["ctl"] = Server(self, "ctl", self.nodes[("controller",)], self.controller_props())
        for b in range(1, self.plan["brokers"] + 1):
            self.servers[f"b{b}"] = Server(self, f"b{b}", self.nodes[("broker", b)], self.broker_props(b))
        for s in self.servers.values():
            s.format()
        for s in self.servers.values():
            s.start()
        topics = [t for t in self.plan["topics"] if not t["internal"]]
        self.admin = Agent(self, "admin", "admin", {
            "bootstrap": self.bootstrap(), "brokers": self.plan["brokers"],
            "topics": [{"name": t["name"], "replicas": t["replicas"], "config": t["config"]} for t in topics],
            "offsets_topic": any(t["internal"] and t["name"] == "__consumer_offsets" for t in self.plan["topics"]),
            "transaction_state_topic": any(t["internal"] and t["name"] == "__transaction_state"
                                           for t in self.plan["topics"]),
        })
        self.admin.start()
        joining = {f["fault"]["consumer"] for f in self.plan["faults"] if f["fault"]["kind"] == "ConsumerJoin"}
        for p in self.plan["producers"]:
            spec = dict(p, bootstrap=self.bootstrap(), config=client_config(p["config"])[0])
            self.agents[p["id"]] = Agent(self, "producer", p["id"], spec, self.nodes[("client", p["id"])])
        procs = processor_ids(self.plan)
        for p in self.plan.get("processors", []):
            spec = dict(p, bootstrap=self.bootstrap(), consumer_config=client_config(p["consumer_config"])[0],
                        producer_config=client_config(p["producer_config"])[0])
            self.agents[p["id"]] = Agent(self, "processor", p["id"], spec, self.nodes[("client", p["id"])])
        for c in self.plan["consumers"]:
            if c["id"] in procs:
                continue
            spec = dict(c, bootstrap=self.bootstrap(), config=client_config(c["config"])[0],
                        wait_for_join=c["id"] in joining)
            self.agents[c["id"]] = Agent(self, "consumer", c["id"], spec, self.nodes[("client", c["id"])])
        if not self.admin.await_ready(STARTUP_TIMEOUT_S):
            raise RuntimeError(f"the cluster did not come up (logs in {self.work}: admin.log, ctl.log, b*.log)")
        # A client crashed at 0 ms never starts (kafkasim crashes it before its first step; a
        # real one would race its own kill): it starts on its Restart.
        crashed_at_start = {client_of(f["fault"]) for f in self.plan["faults"]
                            if f["fault"]["kind"] == "Crash" and f["fault"].get("broker") is None
                            and f["trigger"].get("at_us") == 0}
        for a in self.agents.values():
            if a.name not in crashed_at_start:
                a.start()
        for a in self.agents.values():
            if a.name in crashed_at_start:
                continue
            if not a.await_ready(STARTUP_TIMEOUT_S):
                raise RuntimeError(f"client {a.name} did not start: {last_lines(os.path.join(self.work, a.name + '.log'))}")

    # The run.
    def run(self):
        self.t0 = epoch_us() + 500_000
        for a in [self.admin, *self.agents.values()]:
            a.send(f"go {self.t0}")
        timed = sorted((f["trigger"]["at_us"], i, f) for i, f in enumerate(self.plan["faults"])
                       if "at_us" in f["trigger"])
        for at, i, f in timed:
            self.sleep_until(at)
            self.fired.add(i)
            self.apply(f)
        self.sleep_until(self.plan["duration_us"])
        end = {"type": "end", "at_us": self.plan["duration_us"]}
        for a in self.agents.values():
            a.send("stop")
        for a in self.agents.values():
            a.kill()
        self.admin.send("final")
        if not self.admin.done.wait(FINAL_READ_TIMEOUT_S):
            raise RuntimeError("the final read of the logs did not finish")
        return end

    def sleep_until(self, at_us):
        left = self.t0 + at_us - epoch_us()
        if left > 0:
            time.sleep(left / 1e6)

    def apply(self, f):
        fault = f["fault"]
        kind = fault["kind"]
        at = max(0, epoch_us() - self.t0)
        self.record({"type": "fault", "at_us": at, "fault": f["text"]})
        if kind == "Crash":
            if fault.get("broker") is not None:
                self.servers[f"b{fault['broker']}"].kill()
            else:
                self.agents[client_of(fault)].kill()
        elif kind == "Restart":
            if fault.get("broker") is not None:
                self.servers[f"b{fault['broker']}"].start()
            else:
                agent = self.agents[client_of(fault)]
                agent.spec = self.restarted(agent)
                agent.start()
                if agent.await_ready(60):
                    agent.send(f"go {self.t0}")
        elif kind == "ControlledShutdown":
            self.servers[f"b{fault['broker']}"].signal(signal.SIGTERM)
        elif kind == "Pause":
            target = self.process_of(self.key(fault["node"]))
            target.signal(signal.SIGSTOP)
            timer = threading.Timer(fault["for_us"] / 1e6, target.signal, args=(signal.SIGCONT,))
            timer.daemon = True
            timer.start()
        elif kind == "Isolate":
            me = self.key(fault["node"])
            for other in self.nodes:
                self.net.cut(me, other)
        elif kind == "Partition":
            sides = [[self.key(n) for n in g] for g in fault["groups"]]
            for i, a_side in enumerate(sides):
                for b_side in sides[i + 1:]:
                    for a in a_side:
                        for b in b_side:
                            self.net.cut(a, b)
        elif kind == "Heal":
            self.net.heal()
        elif kind == "SlowLink":
            a, b = (self.key(n) for n in fault["nodes"])
            self.net.proxy.slow(a, b, fault["extra_latency_us"])
        elif kind == "DropRequests":
            self.net.proxy.drop(("client", fault["client"]), ("broker", fault["broker"]), requests=fault["count"])
        elif kind == "DropResponses":
            self.net.proxy.drop(("client", fault["client"]), ("broker", fault["broker"]), responses=fault["count"])
        elif kind == "Reset":
            self.net.proxy.reset(("client", fault["client"]), ("broker", fault["broker"]))
        elif kind == "AddPartitions":
            replicas = ";".join(",".join(map(str, r)) for r in fault.get("replicas", []))
            self.admin.send(f"add-partitions {fault['topic']} {fault['count']} {replicas}".rstrip())
        elif kind == "DeleteRecords":
            self.admin.send(f"delete-records {fault['topic']} {fault['partition']} {fault['before']}")
        elif kind == "ResetOffsets":
            self.admin.send(reset_offsets_command(fault))
        elif kind == "ConsumerJoin":
            self.agents[fault["consumer"]].send("join")
        elif kind == "ConsumerLeave":
            self.agents[fault["consumer"]].send("leave")

    def restarted(self, agent):
        """A restarted client's spec. A consumer starts polling at once. A producer or processor
        carries on after the last record its crashed instance handed to send() (kafkasim's
        `Producer::resume`): the workload's own times, its transactions numbered on."""
        if agent.role == "consumer":
            return dict(agent.spec, start_us=0, wait_for_join=False)
        with self.lock:
            first = 1 + max((l["seq"] for l in self.lines
                             if l["type"] == "send" and l["producer"] == agent.name), default=-1)
        if agent.role == "processor":
            return dict(agent.spec, start_us=0, first_seq=first)
        return dict(agent.spec, first_seq=first, txns_begun=self.begun.get(agent.name, 0))

    def process_of(self, key):
        if key[0] == "controller":
            return self.servers["ctl"]
        if key[0] == "broker":
            return self.servers[f"b{key[1]}"]
        return self.agents[key[1]]

    def history(self, end):
        header = {"type": "header", "format": "kafkasim-history", "version": 1,
                  "source": f"kafka 4.0.1 cluster, {self.label}", "scenario": self.plan["scenario"]}
        with self.lock:
            lines = list(self.lines)
        finals = [l for l in lines if l["type"] == "final_log"]
        timed = [l for l in lines if l["type"] != "final_log" and l["at_us"] <= end["at_us"]]
        timed.sort(key=lambda l: l["at_us"])
        return [header, *timed, end, *finals]

    def teardown(self):
        for a in self.agents.values():
            a.kill()
        if self.admin:
            self.admin.kill()
        for s in self.servers.values():
            s.signal(signal.SIGCONT)
            s.kill()
        self.net.down()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", required=True)
    ap.add_argument("--classpath", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--history", required=True)
    ap.add_argument("--label", default="run 1")
    args = ap.parse_args()
    with open(args.plan) as f:
        plan = json.load(f)
    why = refusals(plan)
    if why:
        print(f"error: scenario `{plan['scenario']}` cannot run on a real cluster:", file=sys.stderr)
        for w in why:
            print(f"  - {w}", file=sys.stderr)
        sys.exit(2)
    for n in notes(plan):
        print(f"note: {n}", file=sys.stderr)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    driver = Driver(plan, args.classpath, args.work, args.label)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt(signum)
    signal.signal(signal.SIGTERM, interrupted)
    try:
        driver.setup()
        end = driver.run()
        lines = driver.history(end)
    except KeyboardInterrupt:
        print("interrupted: cleaning up", file=sys.stderr)
        sys.exit(130)
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    finally:
        driver.teardown()
    with open(args.history, "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
