package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A scenario's processor, a consume-transform-produce application: a KafkaConsumer of `group`
 * (enable.auto.commit=false) and a KafkaProducer with the same client id. It polls; for each
 * record it sleeps `processing` and writes one output to `output` with the input's key, whose
 * value names the output (`<id>:<n>:`); its `send` line names the input (`input`).
 *
 * With a `transactional.id` (exactly-once, KIP-447): beginTransaction() before the batch's first
 * output, then sendOffsetsToTransaction(positions, groupMetadata()) and commitTransaction(); the
 * offsets are `commit` lines once the commit returned. An abortable error aborts and rewinds the
 * consumer to the group's committed offsets; a fatal one (fenced) stops the application.
 * Without one (at-least-once): each output is sent as its input is processed, flush() at the end
 * of the batch, then commitSync() (recorded by {@link CommitRecorder}); a failed output rewinds
 * instead. As kafkasim's processor (src/kafka/producer/processor.rs).
 */
final class ProcessorAgent {
    private final String id;
    private final String group;
    private final List<String> topics = new ArrayList<>();
    private final String output;
    private final long startUs;
    private final long processingUs;
    private final boolean transactional;
    private long nextSeq;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;

    ProcessorAgent(JsonNode spec) {
        id = spec.get("id").asText();
        group = spec.get("group").asText();
        spec.get("topics").forEach(t -> topics.add(t.asText()));
        output = spec.get("output").asText();
        startUs = spec.get("start_us").asLong();
        processingUs = spec.get("processing_us").asLong();
        nextSeq = spec.path("first_seq").asLong(0);
        String bootstrap = spec.get("bootstrap").asText();
        Properties c = Agent.properties(spec.get("consumer_config"));
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, id);
        c.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, CommitRecorder.class.getName());
        consumer = new KafkaConsumer<>(c);
        Properties p = Agent.properties(spec.get("producer_config"));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, id);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        transactional = p.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        producer = new KafkaProducer<>(p);
    }

    void run() throws InterruptedException {
        for (String t : topics) {
            consumer.partitionsFor(t);
        }
        producer.partitionsFor(output);
        Agent.ready();
        long start = Agent.awaitGo();
        Agent.sleepUntil(start);
        if (transactional) {
            try {
                producer.initTransactions();
            } catch (KafkaException e) {
                ProducerAgent.stopped(id, e);
                idle();
            }
        }
        Agent.sleepUntil(start + startUs);
        consumer.subscribe(topics, new GroupMember(id, group, consumer));
        while (true) {
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(50));
            if (records.isEmpty()) {
                continue;
            }
            for (ConsumerRecord<String, byte[]> r : records) {
                History.emit(GroupMember.recordLine(id, "consume", r));
            }
            boolean ok = transactional ? transactionalBatch(records) : atLeastOnceBatch(records);
            if (!ok) {
                rewind();
            }
        }
    }

    /** One batch in a transaction; false when it was aborted. Stops the application when fenced. */
    private boolean transactionalBatch(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        long first = nextSeq;
        boolean begun = false;
        try {
            for (ConsumerRecord<String, byte[]> r : records) {
                process(r);
                if (!begun) {
                    producer.beginTransaction();
                    begun = true;
                    ObjectNode b = History.line("txn_begin");
                    b.put("producer", id);
                    b.put("first", first);
                    History.emit(b);
                }
                send(r, null);
            }
            Map<TopicPartition, OffsetAndMetadata> offsets = new TreeMap<>(GroupMember.ORDER);
            for (TopicPartition tp : records.partitions()) {
                offsets.put(tp, new OffsetAndMetadata(consumer.position(tp)));
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
            History.emit(txnEnd(first, true));
            for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet()) {
                ObjectNode n = History.line("commit");
                n.put("group", group);
                n.put("consumer", id);
                n.put("topic", e.getKey().topic());
                n.put("partition", e.getKey().partition());
                n.put("offset", e.getValue().offset());
                History.emit(n);
            }
            return true;
        } catch (KafkaException e) {
            if (ProducerAgent.fatal(e)) {
                ProducerAgent.stopped(id, e);
                idle();
            }
            System.err.println(id + " aborts: " + e);
            if (begun) {
                try {
                    producer.abortTransaction();
                    History.emit(txnEnd(first, false));
                } catch (KafkaException fatal) {
                    ProducerAgent.stopped(id, fatal);
                    idle();
                }
            }
            return false;
        }
    }

    /** One batch at least once: outputs as processed, flush(), commitSync(); false on a failure. */
    private boolean atLeastOnceBatch(ConsumerRecords<String, byte[]> records) throws InterruptedException {
        AtomicBoolean failed = new AtomicBoolean(false);
        try {
            for (ConsumerRecord<String, byte[]> r : records) {
                process(r);
                send(r, failed);
            }
            producer.flush();
            if (failed.get()) {
                return false;
            }
            consumer.commitSync();
            return true;
        } catch (KafkaException e) {
            System.err.println(id + " does not commit: " + e);
            return false;
        }
    }

    private void process(ConsumerRecord<String, byte[]> r) throws InterruptedException {
        if (processingUs > 0) {
            Thread.sleep(processingUs / 1000, (int) (processingUs % 1000) * 1000);
        }
        History.emit(GroupMember.recordLine(id, "process", r));
    }

    /** The output of `input`: a `send` line naming the input, then its `ack` or `fail`. */
    private void send(ConsumerRecord<String, byte[]> input, AtomicBoolean failed) {
        long seq = nextSeq++;
        ObjectNode sent = History.line("send");
        sent.put("producer", id);
        sent.put("seq", seq);
        sent.put("topic", output);
        sent.putNull("partition");
        if (input.key() == null) {
            sent.putNull("key");
        } else {
            sent.put("key", input.key());
        }
        ObjectNode in = History.JSON.createObjectNode();
        History.putRecordId(in, input.value(), input.headers());
        if (in.get("producer").isNull()) {
            sent.putNull("input");
        } else {
            sent.set("input", History.array().add(in.get("producer")).add(in.get("seq")));
        }
        History.emit(sent);
        producer.send(new ProducerRecord<>(output, input.key(), History.value(id, seq, input.serializedValueSize())),
                (md, e) -> {
                    ObjectNode done = History.line(e == null ? "ack" : "fail");
                    done.put("producer", id);
                    done.put("seq", seq);
                    if (e == null) {
                        done.put("partition", md.partition());
                        done.put("offset", md.offset());
                    } else {
                        done.put("error", ProducerAgent.errorName(e));
                        if (failed != null) {
                            failed.set(true);
                        }
                    }
                    History.emit(done);
                });
    }

    private ObjectNode txnEnd(long first, boolean commit) {
        ObjectNode n = History.line("txn_end");
        n.put("producer", id);
        n.put("records", nextSeq - first);
        n.put("outcome", commit ? "committed" : "aborted");
        return n;
    }

    /** Back to the group's committed offsets (the log start where there are none). */
    private void rewind() {
        Set<TopicPartition> assigned = new HashSet<>(consumer.assignment());
        if (assigned.isEmpty()) {
            return;
        }
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(assigned);
            List<TopicPartition> none = new ArrayList<>();
            for (TopicPartition tp : assigned) {
                OffsetAndMetadata o = committed.get(tp);
                if (o == null) {
                    none.add(tp);
                } else {
                    consumer.seek(tp, o);
                }
            }
            consumer.seekToBeginning(none);
        } catch (KafkaException e) {
            System.err.println(id + " could not rewind: " + e);
        }
    }

    /** The application stopped: it waits for the driver's `stop`. */
    private static void idle() throws InterruptedException {
        while (true) {
            Agent.command();
        }
    }
}
