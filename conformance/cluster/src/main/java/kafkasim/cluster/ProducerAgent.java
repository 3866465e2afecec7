package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A scenario's producer: `records` sends at `rate`, keys in turn, from `start`, as kafkasim's
 * workload does (`Rate::offset_of`: record i at i * per / count microseconds). Each send() is a
 * `send` line; its callback an `ack` or `fail` line.
 *
 * With `transactions` (and a `transactional.id`) the application calls initTransactions() when
 * it starts, then beginTransaction(), `records` sends, and commitTransaction(), or
 * abortTransaction() for every `abort_every`-th transaction; a last, shorter one commits what is
 * left (kafkasim's `txn_client::run_transactions`). `txn_begin`/`txn_end` lines record each
 * transaction the application began and ended. A fatal error (ProducerFencedException, ...)
 * stops the application (a `fenced` line for a fencing); any other error of a transaction
 * aborts it (KafkaProducer's javadoc: "abortable errors"). A restarted instance starts at
 * `first_seq` and numbers its transactions on from `txns_begun`, as kafkasim's `Producer::resume`.
 *
 * With `tombstone_every` N, records N, 2N, ... (seq N-1, 2N-1, ...) are tombstones: the key
 * with a null value (kafkasim's `RecordKeys::is_tombstone`), named by a {@link
 * History#RECORD_HEADER} header since they have no value to carry it.
 */
final class ProducerAgent {
    private final String id;
    private final String topic;
    private final List<String> keys = new ArrayList<>();
    private final long records;
    private final long rateCount;
    private final long ratePerUs;
    private final int valueBytes;
    private final long startUs;
    private final long txnRecords;
    private final long abortEvery;
    private final long firstSeq;
    private final long tombstoneEvery;
    private long txnsBegun;
    private final boolean transactional;
    private final String bootstrap;
    private final KafkaProducer<String, byte[]> producer;

    ProducerAgent(JsonNode spec) {
        id = spec.get("id").asText();
        topic = spec.get("topic").asText();
        if (spec.hasNonNull("keys")) {
            spec.get("keys").forEach(k -> keys.add(k.asText()));
        }
        records = spec.get("records").asLong();
        rateCount = spec.get("rate").get("count").asLong();
        ratePerUs = spec.get("rate").get("per_us").asLong();
        valueBytes = spec.get("value_bytes").asInt();
        startUs = spec.get("start_us").asLong();
        JsonNode txns = spec.path("transactions");
        txnRecords = txns.isObject() ? txns.get("records").asLong() : 0;
        abortEvery = txns.isObject() ? txns.path("abort_every").asLong(0) : 0;
        firstSeq = spec.path("first_seq").asLong(0);
        tombstoneEvery = spec.path("tombstone_every").asLong(0);
        txnsBegun = spec.path("txns_begun").asLong(0);
        transactional = spec.get("config").hasNonNull(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        Properties p = Agent.properties(spec.get("config"));
        bootstrap = spec.get("bootstrap").asText();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, id);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        producer = new KafkaProducer<>(p);
    }

    void run() throws InterruptedException {
        // Metadata before the start, as kafkasim's producer has it when its workload begins.
        producer.partitionsFor(topic);
        warmUp();
        Agent.ready();
        long start = Agent.awaitGo();
        if (txnRecords > 0) {
            runTransactions(start);
        } else {
            for (long i = firstSeq; i < records; i++) {
                Agent.sleepUntil(start + startUs + offsetOf(i));
                send(i);
            }
        }
        // Wait for the driver's `stop` (it halts the process): callbacks keep coming until then.
        while (true) {
            Agent.command();
        }
    }

    /** The workload in transactions; returns when it is done or the application stopped. */
    private void runTransactions(long start) throws InterruptedException {
        long seq = firstSeq;
        if (seq >= records) {
            return;
        }
        // kafkasim's producer calls initTransactions() when it starts (the run's start, or its
        // restart), before its workload's first record is due.
        Agent.sleepUntil(start);
        try {
            producer.initTransactions();
        } catch (KafkaException e) {
            stopped(id, e);
            return;
        }
        while (seq < records) {
            long first = seq;
            long size = Math.min(txnRecords, records - seq);
            txnsBegun++;
            boolean commit = size < txnRecords || abortEvery == 0 || txnsBegun % abortEvery != 0;
            try {
                producer.beginTransaction();
                History.emit(txnLine("txn_begin", first));
                while (seq < first + size) {
                    Agent.sleepUntil(start + startUs + offsetOf(seq));
                    KafkaException refused = send(seq);
                    seq++;
                    if (refused != null) {
                        throw refused;
                    }
                }
                if (commit) {
                    producer.commitTransaction();
                } else {
                    producer.abortTransaction();
                }
                History.emit(txnEnd(seq - first, commit));
            } catch (KafkaException e) {
                if (fatal(e)) {
                    stopped(id, e);
                    return;
                }
                // An abortable error: the application aborts the transaction and begins the
                // next one with the next record (KafkaProducer#commitTransaction's javadoc;
                // kafkasim's `run_transactions` in AbortableError).
                try {
                    producer.abortTransaction();
                    History.emit(txnEnd(seq - first, false));
                } catch (KafkaException again) {
                    stopped(id, again);
                    return;
                }
            }
        }
    }

    /**
     * The errors after which a transactional producer can only be closed (KafkaProducer
     * #commitTransaction's javadoc; TransactionManager#handleFailedBatch's fatal errors), also
     * when send() wraps them ("Cannot execute transactional method because we are in an error
     * state").
     */
    static boolean fatal(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException || t instanceof OutOfOrderSequenceException
                    || t instanceof AuthorizationException || t instanceof UnsupportedVersionException
                    || t instanceof org.apache.kafka.common.errors.InvalidPidMappingException) {
                return true;
            }
        }
        return false;
    }

    /** The application stops after a fatal error; a fencing (PRODUCER_FENCED) is a `fenced` line. */
    static void stopped(String id, Throwable e) {
        System.err.println(id + " stops: " + e);
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException) {
                ObjectNode n = History.line("fenced");
                n.put("producer", id);
                History.emit(n);
                return;
            }
        }
    }

    private ObjectNode txnLine(String type, long first) {
        ObjectNode n = History.line(type);
        n.put("producer", id);
        n.put("first", first);
        return n;
    }

    private ObjectNode txnEnd(long handed, boolean commit) {
        ObjectNode n = History.line("txn_end");
        n.put("producer", id);
        n.put("records", handed);
        n.put("outcome", commit ? "committed" : "aborted");
        return n;
    }

    private void warmUp() {
        // A transactional producer cannot send outside a transaction, and a transaction would
        // bump its epoch: a plain producer of this JVM loads the classes instead.
        KafkaProducer<String, byte[]> warm = producer;
        if (transactional) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            warm = new KafkaProducer<>(p);
        }
        for (org.apache.kafka.common.PartitionInfo pi : warm.partitionsFor(Agent.WARM_UP_TOPIC)) {
            try {
                warm.send(new ProducerRecord<>(Agent.WARM_UP_TOPIC, pi.partition(), null, new byte[valueBytes]))
                        .get();
            } catch (java.util.concurrent.ExecutionException | InterruptedException e) {
                throw new IllegalStateException("warm-up send failed", e);
            }
        }
        if (warm != producer) {
            warm.close();
        }
    }

    /**
     * The error's name as kafkasim's history names it: Kafka's `Errors` name, except for the
     * client-side failures kafkasim tells apart (all TimeoutExceptions to `Errors`): a batch
     * expired after delivery.timeout.ms ("... ms has passed since batch creation", Sender.java),
     * send() blocked past max.block.ms on metadata ("... not present in metadata after ... ms.",
     * KafkaProducer.waitOnMetadata) or on memory (BufferExhaustedException, BufferPool.allocate),
     * and a record too large for the producer (RecordTooLargeException).
     */
    static String errorName(Exception e) {
        String message = String.valueOf(e.getMessage());
        if (e instanceof org.apache.kafka.clients.producer.BufferExhaustedException
                || (e instanceof org.apache.kafka.common.errors.TimeoutException
                        && message.contains("not present in metadata after"))) {
            return "TimeoutException(max.block.ms)";
        }
        if (e instanceof org.apache.kafka.common.errors.TimeoutException
                && message.contains("has passed since batch creation")) {
            return "TimeoutException(delivery.timeout.ms)";
        }
        if (e instanceof org.apache.kafka.common.errors.TransactionAbortedException) {
            return "TransactionAbortedException";
        }
        if (e instanceof org.apache.kafka.common.errors.RecordTooLargeException
                && !message.contains("The request included a message larger")) {
            return "RecordTooLargeException";
        }
        return Errors.forException(e).name();
    }

    /** Microseconds from the first record to record i, exactly as `Rate::offset_of`. */
    private long offsetOf(long i) {
        return java.math.BigInteger.valueOf(i)
                .multiply(java.math.BigInteger.valueOf(ratePerUs))
                .divide(java.math.BigInteger.valueOf(rateCount))
                .longValueExact();
    }

    /** Record `seq` with `key`: the workload's value, or a tombstone. */
    private ProducerRecord<String, byte[]> record(String key, long seq) {
        if (tombstoneEvery > 0 && (seq + 1) % tombstoneEvery == 0) {
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, null);
            r.headers().add(History.RECORD_HEADER, History.recordHeader(id, seq));
            return r;
        }
        return new ProducerRecord<>(topic, key, History.value(id, seq, valueBytes));
    }

    /** Sends record `seq`; returns the exception send() threw (null when it took the record). */
    private KafkaException send(long seq) {
        String key = keys.isEmpty() ? null : keys.get((int) (seq % keys.size()));
        ObjectNode sent = History.line("send");
        sent.put("producer", id);
        sent.put("seq", seq);
        sent.put("topic", topic);
        sent.putNull("partition");
        if (key == null) {
            sent.putNull("key");
        } else {
            sent.put("key", key);
        }
        History.emit(sent);
        try {
            producer.send(record(key, seq), (md, e) -> {
            ObjectNode done = History.line(e == null ? "ack" : "fail");
            done.put("producer", id);
            done.put("seq", seq);
            if (e == null) {
                done.put("partition", md.partition());
                if (md.hasOffset()) {
                    done.put("offset", md.offset());
                } else {
                    done.putNull("offset");
                }
            } else {
                done.put("error", errorName(e));
            }
            History.emit(done);
        });
        } catch (KafkaException e) {
            // send() throws once the transaction is in an error state (TransactionManager
            // #maybeFailWithError): the record never went into a batch.
            ObjectNode failed = History.line("fail");
            failed.put("producer", id);
            failed.put("seq", seq);
            failed.put("error", errorName(e.getCause() instanceof Exception c ? c : e));
            History.emit(failed);
            return e;
        }
        return null;
    }
}
