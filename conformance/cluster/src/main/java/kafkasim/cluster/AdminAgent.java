package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * The observer of a run, outside every fault (the driver's own network namespace): creates the
 * topics with the scenario's replica lists and configs, records each partition's leader and ISR
 * as `partition_state` lines and its log start offset as `log_start` lines (both polled every
 * 100 ms, from `go` on), grows topics on `add-partitions <topic> <count>`, deletes records on
 * `delete-records <topic> <partition> <before>` (what kafka-delete-records does), resets a
 * group's offsets on `reset-offsets <group> <to> [<topic> [<partition>]]` (what
 * kafka-consumer-groups --reset-offsets --execute does), and on `final` reads every partition's
 * log from its start to its high watermark (`final_log` lines).
 */
final class AdminAgent {
    private static final long POLL_MS = 100;
    private final JsonNode spec;
    private final String bootstrap;
    private final Admin admin;
    private final List<String> topics = new ArrayList<>();
    private final Map<String, String> seen = new TreeMap<>();
    private final Map<String, Integer> partitionCounts = new HashMap<>();
    private final Map<TopicPartition, Long> logStarts = new HashMap<>();

    AdminAgent(JsonNode spec) {
        this.spec = spec;
        bootstrap = spec.get("bootstrap").asText();
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "kafkasim-observer");
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        admin = Admin.create(p);
        spec.get("topics").forEach(t -> topics.add(t.get("name").asText()));
    }

    void run() throws Exception {
        awaitBrokers(spec.get("brokers").asInt());
        createTopics();
        if (spec.path("offsets_topic").asBoolean(false)) {
            createOffsetsTopic();
        }
        if (spec.path("transaction_state_topic").asBoolean(false)) {
            createTransactionStateTopic();
        }
        Agent.ready();
        Agent.awaitGo();
        long next = History.epochUs();
        while (true) {
            String[] c = Agent.pollCommand();
            if (c != null && c[0].equals("add-partitions")) {
                addPartitions(c);
            } else if (c != null && c[0].equals("delete-records")) {
                deleteRecords(c);
            } else if (c != null && c[0].equals("reset-offsets")) {
                resetOffsets(c);
            } else if (c != null && c[0].equals("final")) {
                finalLogs();
                History.emit(History.line("_done"));
                return;
            }
            observe();
            next += POLL_MS * 1000;
            Agent.sleepUntil(next);
        }
    }

    /**
     * `add-partitions <topic> <count> [r,r;r,r;...]`: `Admin.createPartitions`, with the new
     * partitions' replica lists when given (kafkasim's placement; Kafka's own is random).
     */
    private void addPartitions(String[] c) throws Exception {
        int count = Integer.parseInt(c[2]);
        NewPartitions grow = NewPartitions.increaseTo(count);
        if (c.length > 3) {
            List<List<Integer>> lists = new ArrayList<>();
            for (String list : c[3].split(";")) {
                List<Integer> ids = new ArrayList<>();
                for (String id : list.split(",")) {
                    ids.add(Integer.parseInt(id));
                }
                lists.add(ids);
            }
            grow = NewPartitions.increaseTo(count, lists);
        }
        admin.createPartitions(Map.of(c[1], grow)).all().get(10, TimeUnit.SECONDS);
    }

    /**
     * `delete-records <topic> <partition> <before>`: Admin.deleteRecords, as kafka-delete-records
     * (DeleteRecordsCommand) does. A refusal (OFFSET_OUT_OF_RANGE past the high watermark, ...) is
     * a `fault` line with Kafka's error.
     */
    private void deleteRecords(String[] c) {
        TopicPartition tp = new TopicPartition(c[1], Integer.parseInt(c[2]));
        long before = Long.parseLong(c[3]);
        try {
            admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(before))).all().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            refused("DeleteRecords of " + tp + " before " + before, e);
        }
    }

    /**
     * `reset-offsets <group> <to> [<topic> [<partition>]]`, `to` one of `earliest`, `latest`,
     * `offset:N`, `timestamp_us:T` (after the run's start): what kafka-consumer-groups
     * --reset-offsets --execute does (ConsumerGroupCommand.resetOffsets): refused unless the
     * group is Empty or Dead, with the tool's message; else the group's committed partitions (or
     * the topic's), each offset from ListOffsets (`--to-offset` clamped into the log by
     * checkOffsetsRange; `--to-datetime` falls back to the log end where no record is that
     * recent), written with Admin.alterConsumerGroupOffsets. Each written offset is a `commit`
     * line without a consumer, as kafkasim writes an admin's reset.
     */
    private void resetOffsets(String[] c) {
        String group = c[1];
        String to = c[2];
        try {
            String state = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group)
                    .get(5, TimeUnit.SECONDS).groupState().toString();
            if (!state.equals("Empty") && !state.equals("Dead")) {
                String message = "Assignments can only be reset if the group '" + group
                        + "' is inactive, but the current state is " + state + ".";
                System.err.println(message);
                ObjectNode n = History.line("fault");
                n.put("fault", "ResetOffsets of group " + group + " refused: " + message);
                History.emit(n);
                return;
            }
            List<TopicPartition> tps = new ArrayList<>();
            if (c.length > 3) {
                for (TopicPartitionInfo pi : admin.describeTopics(List.of(c[3])).allTopicNames()
                        .get(5, TimeUnit.SECONDS).get(c[3]).partitions()) {
                    if (c.length < 5 || pi.partition() == Integer.parseInt(c[4])) {
                        tps.add(new TopicPartition(c[3], pi.partition()));
                    }
                }
            } else {
                tps.addAll(admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
                        .get(5, TimeUnit.SECONDS).keySet());
            }
            tps.sort(GroupMember.ORDER);
            Map<TopicPartition, Long> earliest = listOffsets(tps, OffsetSpec.earliest());
            Map<TopicPartition, Long> latest = listOffsets(tps, OffsetSpec.latest());
            Map<TopicPartition, Long> chosen = new TreeMap<>(GroupMember.ORDER);
            if (to.equals("earliest")) {
                chosen.putAll(earliest);
            } else if (to.equals("latest")) {
                chosen.putAll(latest);
            } else if (to.startsWith("offset:")) {
                long o = Long.parseLong(to.substring("offset:".length()));
                tps.forEach(tp -> chosen.put(tp, Math.max(earliest.get(tp), Math.min(latest.get(tp), o))));
            } else if (to.startsWith("timestamp_us:")) {
                long at = (History.startEpochUs() + Long.parseLong(to.substring("timestamp_us:".length()))) / 1000;
                Map<TopicPartition, Long> found = listOffsets(tps, OffsetSpec.forTimestamp(at));
                tps.forEach(tp -> chosen.put(tp, found.get(tp) < 0 ? latest.get(tp) : found.get(tp)));
            } else {
                throw new IllegalArgumentException("unknown reset target " + to);
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            chosen.forEach((tp, o) -> offsets.put(tp, new OffsetAndMetadata(o)));
            admin.alterConsumerGroupOffsets(group, offsets).all().get(10, TimeUnit.SECONDS);
            chosen.forEach((tp, o) -> {
                ObjectNode n = History.line("commit");
                n.put("group", group);
                n.putNull("consumer");
                n.put("topic", tp.topic());
                n.put("partition", tp.partition());
                n.put("offset", o);
                History.emit(n);
            });
        } catch (Exception e) {
            refused("ResetOffsets of group " + group, e);
        }
    }

    private Map<TopicPartition, Long> listOffsets(List<TopicPartition> tps, OffsetSpec spec) throws Exception {
        Map<TopicPartition, OffsetSpec> query = new HashMap<>();
        tps.forEach(tp -> query.put(tp, spec));
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(query).all().get(5, TimeUnit.SECONDS).forEach((tp, r) -> out.put(tp, r.offset()));
        return out;
    }

    /** An admin operation failed: a `fault` line with Kafka's error. */
    private static void refused(String what, Exception e) {
        Throwable cause = e instanceof java.util.concurrent.ExecutionException && e.getCause() != null ? e.getCause() : e;
        System.err.println(what + " failed: " + cause);
        ObjectNode n = History.line("fault");
        n.put("fault", what + " failed: " + Errors.forException(cause).name() + ": " + cause.getMessage());
        History.emit(n);
    }

    private void awaitBrokers(int brokers) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                if (admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size() >= brokers) {
                    return;
                }
            } catch (Exception e) {
                // Not up yet.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the cluster did not register " + brokers + " brokers in 120 s");
    }

    private void createTopics() throws Exception {
        List<NewTopic> news = new ArrayList<>();
        for (JsonNode t : spec.get("topics")) {
            Map<Integer, List<Integer>> replicas = new HashMap<>();
            int p = 0;
            for (JsonNode list : t.get("replicas")) {
                List<Integer> ids = new ArrayList<>();
                list.forEach(b -> ids.add(b.asInt()));
                replicas.put(p++, ids);
            }
            Map<String, String> configs = new HashMap<>();
            t.get("config").fields().forEachRemaining(e -> configs.put(e.getKey(), e.getValue().asText()));
            news.add(new NewTopic(t.get("name").asText(), replicas).configs(configs));
        }
        Map<Integer, List<Integer>> warmUp = new HashMap<>();
        for (int b = 1; b <= spec.get("brokers").asInt(); b++) {
            warmUp.put(b - 1, List.of(b));
        }
        news.add(new NewTopic(Agent.WARM_UP_TOPIC, warmUp));
        admin.createTopics(news).all().get(30, TimeUnit.SECONDS);
        long deadline = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < deadline) {
            boolean led = true;
            try {
                for (TopicDescription d : describe().values()) {
                    for (TopicPartitionInfo pi : d.partitions()) {
                        led &= pi.leader() != null && pi.isr().size() == pi.replicas().size();
                    }
                }
            } catch (java.util.concurrent.ExecutionException e) {
                // The brokers' metadata does not have the new topics yet.
                led = false;
            }
            if (led) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the topics' partitions got no leader in 60 s");
    }

    /**
     * Has the broker create `__consumer_offsets` before the run (the first FindCoordinator does,
     * GroupCoordinator's lazy creation) and waits for every partition of it to have a leader,
     * as kafkasim's cluster starts with it.
     */
    private void createOffsetsTopic() throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                admin.listConsumerGroupOffsets("kafkasim-warm-up").partitionsToOffsetAndMetadata().get(5, TimeUnit.SECONDS);
                TopicDescription d = admin.describeTopics(List.of("__consumer_offsets"))
                        .allTopicNames().get(5, TimeUnit.SECONDS).get("__consumer_offsets");
                if (d.partitions().stream().allMatch(pi -> pi.leader() != null)) {
                    return;
                }
            } catch (Exception e) {
                // Not created yet, or its coordinators are loading.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("__consumer_offsets got no leaders in 120 s");
    }

    /**
     * Has the broker create `__transaction_state` before the run (the first FindCoordinator of
     * type TRANSACTION does, TransactionCoordinator's lazy creation; describeTransactions sends
     * one) and waits for every partition of it to have a leader, as kafkasim's cluster starts
     * with it.
     */
    private void createTransactionStateTopic() throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (System.currentTimeMillis() < deadline) {
            try {
                admin.describeTransactions(List.of("kafkasim-warm-up")).all().get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // TRANSACTIONAL_ID_NOT_FOUND once the coordinator is up; before, not created yet.
            }
            try {
                TopicDescription d = admin.describeTopics(List.of("__transaction_state"))
                        .allTopicNames().get(5, TimeUnit.SECONDS).get("__transaction_state");
                if (d.partitions().stream().allMatch(pi -> pi.leader() != null)) {
                    return;
                }
            } catch (Exception e) {
                // Not created yet.
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("__transaction_state got no leaders in 120 s");
    }

    private Map<String, TopicDescription> describe() throws Exception {
        return admin.describeTopics(topics).allTopicNames().get(5, TimeUnit.SECONDS);
    }

    /**
     * Writes a `partition_state` line for every partition whose leader or ISR changed, and a
     * `log_start` line for every partition whose log start offset (ListOffsets earliest, from its
     * leader) changed.
     */
    private void observe() {
        observeStates();
        observeLogStarts();
    }

    private void observeLogStarts() {
        Map<TopicPartition, OffsetSpec> query = new HashMap<>();
        for (String topic : topics) {
            int n = partitionCounts.getOrDefault(topic, 0);
            for (int p = 0; p < n; p++) {
                query.put(new TopicPartition(topic, p), OffsetSpec.earliest());
            }
        }
        if (query.isEmpty()) {
            return;
        }
        Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> starts;
        try {
            starts = admin.listOffsets(query).all().get(2, TimeUnit.SECONDS);
        } catch (Exception e) {
            // A partition without a leader: the next poll asks again.
            return;
        }
        starts.entrySet().stream().sorted(Map.Entry.comparingByKey(GroupMember.ORDER)).forEach(e -> {
            long offset = e.getValue().offset();
            if (!Long.valueOf(offset).equals(logStarts.put(e.getKey(), offset))) {
                ObjectNode n = History.line("log_start");
                n.put("topic", e.getKey().topic());
                n.put("partition", e.getKey().partition());
                n.put("offset", offset);
                History.emit(n);
            }
        });
    }

    private void observeStates() {
        Map<String, TopicDescription> all;
        try {
            all = describe();
        } catch (Exception e) {
            return;
        }
        for (String topic : topics) {
            TopicDescription d = all.get(topic);
            if (d == null) {
                continue;
            }
            partitionCounts.put(topic, d.partitions().size());
            for (TopicPartitionInfo pi : d.partitions()) {
                ObjectNode n = History.line("partition_state");
                n.put("topic", topic);
                n.put("partition", pi.partition());
                if (pi.leader() == null || pi.leader().isEmpty()) {
                    n.putNull("leader");
                } else {
                    n.put("leader", pi.leader().id());
                }
                ArrayNode isr = History.array();
                pi.isr().stream().map(Node::id).sorted().forEach(isr::add);
                n.set("isr", isr);
                String key = topic + "-" + pi.partition();
                String state = n.get("leader") + "/" + isr;
                if (!state.equals(seen.put(key, state))) {
                    History.emit(n);
                }
            }
        }
    }

    private void finalLogs() throws Exception {
        Map<String, TopicDescription> all = describe();
        for (String topic : topics) {
            for (TopicPartitionInfo pi : all.get(topic).partitions()) {
                History.emit(finalLog(topic, pi));
            }
        }
    }

    /** Everything a consumer reads from the log start to the high watermark, from the leader. */
    private ObjectNode finalLog(String topic, TopicPartitionInfo pi) {
        ObjectNode n = History.JSON.createObjectNode();
        n.put("type", "final_log");
        n.put("topic", topic);
        n.put("partition", pi.partition());
        ArrayNode records = History.array();
        n.set("records", records);
        if (pi.leader() == null || pi.leader().isEmpty()) {
            n.putNull("leader");
            n.put("readable", false);
            return n;
        }
        n.put("leader", pi.leader().id());
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, "kafkasim-final-read");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000");
        TopicPartition tp = new TopicPartition(topic, pi.partition());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long hw = c.endOffsets(List.of(tp), Duration.ofSeconds(5)).get(tp);
            n.put("high_watermark", hw);
            n.put("log_start_offset", c.position(tp, Duration.ofSeconds(5)));
            long deadline = System.currentTimeMillis() + 15_000;
            while (c.position(tp, Duration.ofSeconds(5)) < hw) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("read stalled");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    ObjectNode id = History.JSON.createObjectNode();
                    History.putRecordId(id, r.value(), r.headers());
                    records.add(History.array().add(r.offset()).add(id.get("producer")).add(id.get("seq")));
                }
            }
        } catch (Exception e) {
            records.removeAll();
            n.remove("high_watermark");
            n.remove("log_start_offset");
            n.put("readable", false);
            return n;
        }
        readCommitted(n, p, tp, records);
        return n;
    }

    /**
     * The same partition as a read_committed consumer reads it (FetchCollector drops the records
     * of aborted transactions, KafkaConsumer#endOffsets is the last stable offset): the LSO, and
     * the offsets below it that read_uncommitted returned and read_committed did not, the
     * records of aborted transactions. Left out when that read fails.
     */
    private static void readCommitted(ObjectNode n, Properties p, TopicPartition tp, ArrayNode uncommitted) {
        Properties q = new Properties();
        q.putAll(p);
        q.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        java.util.Set<Long> kept = new java.util.HashSet<>();
        long lso;
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(q)) {
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            lso = c.endOffsets(List.of(tp), Duration.ofSeconds(5)).get(tp);
            long deadline = System.currentTimeMillis() + 15_000;
            while (c.position(tp, Duration.ofSeconds(5)) < lso) {
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("read_committed read stalled");
                }
                for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(200))) {
                    kept.add(r.offset());
                }
            }
        } catch (Exception e) {
            System.err.println("read_committed read of " + tp + " failed: " + e);
            return;
        }
        n.put("last_stable_offset", lso);
        ArrayNode aborted = History.array();
        for (com.fasterxml.jackson.databind.JsonNode r : uncommitted) {
            long offset = r.get(0).asLong();
            if (offset < lso && !kept.contains(offset)) {
                aborted.add(offset);
            }
        }
        n.set("aborted", aborted);
    }
}
