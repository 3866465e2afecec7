package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * A scenario's producer: `records` sends at `rate`, keys in turn, from `start`, as kafkasim's
 * workload does (`Rate::offset_of`: record i at i * per / count microseconds). Each send() is a
 * `send` line; its callback an `ack` or `fail` line.
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
        Properties p = Agent.properties(spec.get("config"));
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, spec.get("bootstrap").asText());
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
        for (long i = 0; i < records; i++) {
            Agent.sleepUntil(start + startUs + offsetOf(i));
            send(i);
        }
        // Wait for the driver's `stop` (it halts the process): callbacks keep coming until then.
        while (true) {
            Agent.command();
        }
    }

    private void warmUp() {
        for (org.apache.kafka.common.PartitionInfo pi : producer.partitionsFor(Agent.WARM_UP_TOPIC)) {
            try {
                producer.send(new ProducerRecord<>(Agent.WARM_UP_TOPIC, pi.partition(), null, new byte[valueBytes]))
                        .get();
            } catch (java.util.concurrent.ExecutionException | InterruptedException e) {
                throw new IllegalStateException("warm-up send failed", e);
            }
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

    private void send(long seq) {
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
        producer.send(new ProducerRecord<>(topic, key, History.value(id, seq, valueBytes)), (md, e) -> {
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
    }
}
