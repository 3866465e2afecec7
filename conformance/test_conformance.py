"""Unit tests of the conformance tooling's logic that needs no cluster: what the driver refuses
and notes, which client settings it keeps, the verdict rules and the timings of conformance/run.
Run with `python3 -m unittest conformance/test_conformance.py` (CI does)."""

import importlib.machinery
import importlib.util
import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "cluster"))

import driver  # noqa: E402


def load_script(name):
    loader = importlib.machinery.SourceFileLoader(name.replace("-", "_"), os.path.join(HERE, name))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


run = load_script("run")


def plan(**changes):
    p = {"scenario": "s", "brokers": 3, "model_config": {}, "faults": [], "producers": [],
         "consumers": [], "network": {"latency_us": 1000, "jitter_us": 0,
                                       "bandwidth_bits_per_s": 1_000_000_000}}
    p.update(changes)
    return p


def fault(kind, text, trigger=None, **fields):
    return {"trigger": trigger or {"at_us": 0}, "fault": dict(kind=kind, **fields), "text": text}


class Refusals(unittest.TestCase):
    def test_a_mappable_plan_is_not_refused(self):
        self.assertEqual(driver.refusals(plan(faults=[fault("Crash", "Crash(broker: 1)", broker=1)])), [])

    def test_a_power_loss_and_old_kafka_models_are_refused_with_the_reason(self):
        why = driver.refusals(plan(
            faults=[fault("Crash", "Crash(broker: 2, lose_unflushed: true)", broker=2, lose_unflushed=True)],
            model_config={"kafkasim.truncation.rule": "high-watermark", "kafkasim.min.isr.hw.gate": "false"}))
        self.assertEqual(len(why), 3)
        self.assertIn("page cache", why[2])
        self.assertIn("KIP-101", why[0])
        self.assertIn("KAFKA-15583", why[1])

    def test_approximations_are_noted(self):
        notes = driver.notes(plan(
            faults=[fault("Crash", "Crash(broker: 1)", trigger={"appended": {"topic": "t", "partition": 0, "offset": 5}})],
            producers=[{"id": "p1", "config": {"security.protocol": "SSL", "acks": "all"},
                        "rate": {"count": 10, "per_us": 1_000_000}}]))
        self.assertTrue(any("Appended" in n for n in notes), notes)
        self.assertTrue(any("security.protocol" in n for n in notes), notes)


class Storage(unittest.TestCase):
    def test_admin_faults_become_admin_commands(self):
        self.assertEqual(driver.reset_offsets_command({"group": "g1", "to": "earliest", "topic": None,
                                                       "partition": None}), "reset-offsets g1 earliest")
        self.assertEqual(driver.reset_offsets_command({"group": "g1", "to": {"offset": 120}, "topic": "orders",
                                                       "partition": 2}), "reset-offsets g1 offset:120 orders 2")
        self.assertEqual(driver.reset_offsets_command({"group": "g1", "to": {"timestamp_us": 5_000_000},
                                                       "topic": "orders", "partition": None}),
                         "reset-offsets g1 timestamp_us:5000000 orders")

    def test_admin_faults_go_to_the_admin_agent(self):
        sent = []

        class Admin:
            def send(self, command):
                sent.append(command)
        d = driver.Driver.__new__(driver.Driver)
        d.admin, d.t0, d.lines = Admin(), 0, []
        d.lock = __import__("threading").Lock()
        d.sent, d.acked, d.begun, d.fired = {}, {}, {}, set()
        d.trigger_lock = __import__("threading").Lock()
        d.plan = plan()
        d.apply(fault("DeleteRecords", "DeleteRecords(...)", topic="orders", partition=0, before=100))
        d.apply(fault("ResetOffsets", "ResetOffsets(...)", group="billing", to="latest", topic=None, partition=None))
        self.assertEqual(sent, ["delete-records orders 0 100", "reset-offsets billing latest"])
        self.assertEqual([l["type"] for l in d.lines], ["fault", "fault"])

    def test_retention_and_the_cleaner_on_their_own_schedule_are_noted(self):
        topics = [{"name": "t", "internal": False, "config": {"cleanup.policy": "compact"}}]
        self.assertTrue(any("own schedule" in n for n in driver.notes(plan(topics=topics))))
        self.assertTrue(any("own schedule" in n for n in driver.notes(
            plan(broker_config={"log.retention.check.interval.ms": "2000"}))))
        plain = [{"name": "t", "internal": False, "config": {"acks": "all"}}]
        self.assertFalse(any("own schedule" in n for n in driver.notes(plan(topics=plain))))


class Transactions(unittest.TestCase):
    PROCESSOR = {"id": "app", "group": "g1", "topics": ["orders"], "output": "totals", "processing_us": 0,
                 "start_us": 0, "consumer_config": {"isolation.level": "read_committed"},
                 "producer_config": {"transactional.id": "app-1", "client.id": "x"}}

    def test_a_processor_is_one_client_though_the_plan_lists_its_consumer_half_too(self):
        p = plan(producers=[{"id": "p1"}], consumers=[{"id": "reader"}, {"id": "app"}],
                 processors=[self.PROCESSOR])
        self.assertEqual(driver.client_ids(p), ["p1", "reader", "app"])
        notes = driver.notes(dict(p, producers=[{"id": "p1", "config": {}, "rate": {"count": 1, "per_us": 1_000_000}}],
                                  consumers=[{"id": "reader", "config": {}}, {"id": "app", "config": {}}]))
        self.assertTrue(any("`app`'s client.id" in n for n in notes), notes)

    def test_the_transaction_version_is_a_storage_format_feature(self):
        self.assertEqual(driver.format_features(plan()), [])
        one = plan(model_config={"kafkasim.transaction.version": "1"})
        self.assertEqual(driver.format_features(one), ["--feature", "transaction.version=1"])
        self.assertEqual(driver.refusals(one), [])
        why = driver.refusals(plan(model_config={"kafkasim.transaction.version": "3"}))
        self.assertEqual(len(why), 1)
        self.assertIn("transaction versions 1 and 2", why[0])

    def test_a_crash_or_restart_names_its_client_by_kind(self):
        self.assertEqual(driver.client_of({"kind": "Crash", "broker": None, "consumer": None,
                                           "producer": "p2", "processor": None}), "p2")
        self.assertEqual(driver.client_of({"kind": "Restart", "processor": "app"}), "app")

    def test_a_restarted_producer_carries_on_after_its_last_send(self):
        d = driver.Driver.__new__(driver.Driver)
        d.lock = __import__("threading").Lock()
        d.lines = [{"type": "send", "producer": "p1", "seq": s} for s in range(7)] + \
                  [{"type": "send", "producer": "p2", "seq": 0}]
        d.begun = {"p1": 2}
        agent = driver.Agent(d, "producer", "p1", {"id": "p1", "start_us": 500})
        self.assertEqual(d.restarted(agent), {"id": "p1", "start_us": 500, "first_seq": 7, "txns_begun": 2})
        proc = driver.Agent(d, "processor", "app", {"id": "app", "start_us": 500})
        self.assertEqual(d.restarted(proc), {"id": "app", "start_us": 0, "first_seq": 0})
        consumer = driver.Agent(d, "consumer", "c1", {"id": "c1", "start_us": 500, "wait_for_join": True})
        self.assertEqual(d.restarted(consumer), {"id": "c1", "start_us": 0, "wait_for_join": False})


class ClientConfig(unittest.TestCase):
    def test_environment_settings_stay_the_drivers_and_the_rest_pass(self):
        kept, dropped = driver.client_config({
            "acks": "all", "bootstrap.servers": "kafka-1:9092", "client.id": "x",
            "sasl.mechanism": "PLAIN", "ssl.truststore.location": "/t", "linger.ms": "5"})
        self.assertEqual(kept, {"acks": "all", "linger.ms": "5"})
        self.assertEqual(dropped, ["bootstrap.servers", "client.id", "sasl.mechanism", "ssl.truststore.location"])


def report(*verdicts):
    """A check-history --json report with `(ok, bound)` per expectation."""
    return {"expectations": [{"text": f"E{i}", "ok": ok, "bound": bound, "found": "0", "why": None if ok is not None else "needs replicas"}
                             for i, (ok, bound) in enumerate(verdicts)]}


class Verdicts(unittest.TestCase):
    def test_a_never_claim_agrees_only_when_both_sides_hold_in_every_run_or_both_miss(self):
        sim = [report((True, "exactly")), report((True, "exactly"))]
        self.assertTrue(run.verdicts(sim, [report((True, "exactly"))] * 3)[0]["agree"])
        mixed = [report((True, "exactly")), report((False, "exactly")), report((True, "exactly"))]
        self.assertFalse(run.verdicts(sim, mixed)[0]["agree"])
        self.assertTrue(run.verdicts([report((False, "exactly"))], mixed)[0]["agree"])

    def test_a_can_happen_claim_agrees_when_it_holds_in_some_run_on_each_side(self):
        sim = [report((False, "at_least")), report((True, "at_least"))]
        self.assertTrue(run.verdicts(sim, [report((False, "at_least")), report((True, "at_least"))])[0]["agree"])
        self.assertFalse(run.verdicts(sim, [report((False, "at_least"))] * 3)[0]["agree"])

    def test_a_state_check_is_compared_like_a_never_claim(self):
        sim = [report((True, None))] * 2
        self.assertFalse(run.verdicts(sim, [report((True, None)), report((False, None))])[0]["agree"])

    def test_what_a_history_cannot_decide_is_not_compared(self):
        v = run.verdicts([report((None, "exactly"))], [report((None, "exactly"))])[0]
        self.assertIsNone(v["agree"])
        self.assertEqual(v["why"], "needs replicas")


class SetOption(unittest.TestCase):
    def test_a_changed_scenario_keeps_its_histories_apart(self):
        self.assertEqual(run.out_name("s", []), "s")
        self.assertEqual(run.out_name("s", ["kafkasim.transaction.version=1"]), "s+kafkasim.transaction.version=1")
        self.assertEqual(run.out_name("s", ["a=b/c", "d=e"]), "s+a=b_c+d=e")


class Timings(unittest.TestCase):
    def test_latency_and_the_time_from_a_leaders_crash_to_the_first_ack_on_its_partitions(self):
        lines = [
            {"type": "partition_state", "at_us": 0, "topic": "t", "partition": 0, "leader": 1, "isr": [1, 2]},
            {"type": "send", "at_us": 0, "producer": "p1", "seq": 0, "topic": "t", "partition": None},
            {"type": "ack", "at_us": 2000, "producer": "p1", "seq": 0, "partition": 0, "offset": 0},
            {"type": "fault", "at_us": 10000, "fault": "Crash(broker: 1)"},
            {"type": "send", "at_us": 11000, "producer": "p1", "seq": 1, "topic": "t", "partition": None},
            {"type": "partition_state", "at_us": 500000, "topic": "t", "partition": 0, "leader": 2, "isr": [2]},
            {"type": "ack", "at_us": 510000, "producer": "p1", "seq": 1, "partition": 0, "offset": 1},
        ]
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            f.write("".join(json.dumps(l) + "\n" for l in lines))
        t = run.timings(f.name)
        self.assertEqual(t["failover_ms"], 500.0)
        self.assertEqual(t["p99_ms"], 499.0)
        self.assertEqual(t["p50_ms"], 499.0)
        with open(f.name, "w") as again:
            again.write("".join(json.dumps(l) + "\n" for l in lines))
        try:
            acks0 = run.timings(f.name, {"p1"})
        finally:
            os.unlink(f.name)
        self.assertNotIn("failover_ms", acks0, "an acks=0 callback is no successor's answer")
        self.assertEqual(acks0["p50_ms"], 499.0)

    def test_ratios_are_medians_real_over_kafkasim(self):
        r = run.ratio([{"p50_ms": 10}, {"p50_ms": 30}, {"p50_ms": 20}], [{"p50_ms": 40}], "p50_ms")
        self.assertEqual((r["kafkasim"], r["real"], r["ratio"]), (20, 40, 2.0))
        self.assertIsNone(run.ratio([{}], [{"p50_ms": 1}], "p50_ms"))


if __name__ == "__main__":
    unittest.main()
