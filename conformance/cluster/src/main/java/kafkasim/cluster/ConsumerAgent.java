package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A scenario's consumer: a poll loop that records what poll() returned (`consume`), processes
 * each record for `processing` (`process`) and commits as its commit mode says. Group members
 * record their assignments and revocations from the rebalance listener; every commit the
 * coordinator accepts is recorded by {@link CommitRecorder}; {@link Positions} applies the
 * consumer's `seek` and records its `position` lines.
 */
final class ConsumerAgent {
    private final String id;
    private final String group;
    private final List<String> topics = new ArrayList<>();
    private final long startUs;
    private final long processingUs;
    private final String commit;
    private final boolean waitForJoin;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Positions positions;
    private volatile boolean polling;

    ConsumerAgent(JsonNode spec) {
        id = spec.get("id").asText();
        group = spec.hasNonNull("group") ? spec.get("group").asText() : null;
        spec.get("topics").forEach(t -> topics.add(t.asText()));
        startUs = spec.get("start_us").asLong();
        processingUs = spec.get("processing_us").asLong();
        commit = spec.get("commit").asText();
        waitForJoin = spec.path("wait_for_join").asBoolean(false);
        Properties p = Agent.properties(spec.get("config"));
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, spec.get("bootstrap").asText());
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, id);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, CommitRecorder.class.getName());
        }
        consumer = new KafkaConsumer<>(p);
        positions = new Positions(id, consumer, spec.get("seek"));
    }

    void run() throws InterruptedException {
        for (String t : topics) {
            consumer.partitionsFor(t);
        }
        Agent.ready();
        long start = Agent.awaitGo();
        if (waitForJoin) {
            while (!Agent.command()[0].equals("join")) {
                // Only `join` (a ConsumerJoin fault) starts this consumer.
            }
        } else {
            Agent.sleepUntil(start + startUs);
        }
        if (group != null) {
            consumer.subscribe(topics, new GroupMember(id, group, consumer, positions));
        } else {
            List<TopicPartition> all = new ArrayList<>();
            for (String t : topics) {
                for (PartitionInfo pi : consumer.partitionsFor(t)) {
                    all.add(new TopicPartition(t, pi.partition()));
                }
            }
            all.sort(GroupMember.ORDER);
            consumer.assign(all);
            positions.assigned(all);
        }
        // A `leave` wakes a poll in progress, so the consumer closes when the fault fires (not
        // up to one poll later); outside poll() it waits for the loop's next turn.
        Agent.wakeOnLeave(() -> {
            if (polling) {
                consumer.wakeup();
            }
        });
        while (true) {
            String[] c = Agent.pollCommand();
            if (c != null && c[0].equals("leave")) {
                // ConsumerLeave: close() commits (with enable.auto.commit) and leaves the group.
                consumer.close();
                History.emit(History.line("_closed"));
                while (true) {
                    Agent.command();
                }
            }
            try {
                step();
            } catch (WakeupException e) {
                // A leave: the loop's next turn closes the consumer.
            }
        }
    }

    /** One poll, and what the application does with its records. */
    private void step() throws InterruptedException {
        polling = true;
        ConsumerRecords<String, byte[]> records;
        try {
            records = consumer.poll(Duration.ofMillis(50));
        } finally {
            polling = false;
        }
        for (ConsumerRecord<String, byte[]> r : records) {
            History.emit(GroupMember.recordLine(id, "consume", r));
        }
        positions.polled(records);
        if (!records.isEmpty() && commit.equals("BeforeProcessing")) {
            consumer.commitSync();
        }
        for (ConsumerRecord<String, byte[]> r : records) {
            if (processingUs > 0) {
                Thread.sleep(processingUs / 1000, (int) (processingUs % 1000) * 1000);
            }
            History.emit(GroupMember.recordLine(id, "process", r));
        }
        if (!records.isEmpty() && commit.equals("AfterProcessing")) {
            consumer.commitSync();
        }
    }
}
