package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

/**
 * A consumer's seek and its `position` lines (book: "History files").
 *
 * The seek (`seek` of the plan: "beginning", "end", {"offset": N}, {"timestamp_us": T}) is applied
 * once, to the first non-empty assignment, as kafkasim's `Consumer::apply_seek` does:
 * seekToBeginning, seekToEnd, seek, or offsetsForTimes then seek (seekToEnd where no record is
 * that recent). A `position` line is written whenever the consumer's position is not where its
 * reads left it: at an assignment (the committed offset, auto.offset.reset or the seek), and after
 * a poll that moved it otherwise (auto.offset.reset after OFFSET_OUT_OF_RANGE, or past a
 * compacted gap).
 */
final class Positions {
    private final String id;
    private final KafkaConsumer<String, byte[]> consumer;
    private JsonNode seek;
    private final Map<TopicPartition, Long> known = new HashMap<>();

    Positions(String id, KafkaConsumer<String, byte[]> consumer, JsonNode seek) {
        this.id = id;
        this.consumer = consumer;
        this.seek = seek == null || seek.isNull() ? null : seek;
    }

    /** Partitions were assigned: the seek if it is still due, then their positions. */
    void assigned(Collection<TopicPartition> added) {
        if (added.isEmpty()) {
            return;
        }
        List<TopicPartition> tps = added.stream().sorted(GroupMember.ORDER).toList();
        if (seek != null) {
            apply(seek, tps);
            seek = null;
        }
        for (TopicPartition tp : tps) {
            // Blocking: the committed offset, auto.offset.reset or the seek's ListOffsets.
            record(tp, consumer.position(tp));
        }
    }

    void revoked(Collection<TopicPartition> gone) {
        gone.forEach(known::remove);
    }

    /** After a poll: where the records left each partition, and any other move. */
    void polled(ConsumerRecords<String, byte[]> records) {
        for (ConsumerRecord<String, byte[]> r : records) {
            known.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
        }
        for (TopicPartition tp : consumer.assignment().stream().sorted(GroupMember.ORDER).toList()) {
            try {
                record(tp, consumer.position(tp, Duration.ZERO));
            } catch (TimeoutException e) {
                // No position yet (a reset is under way): the next poll has it.
            }
        }
    }

    private void record(TopicPartition tp, long offset) {
        if (Objects.equals(known.put(tp, offset), offset)) {
            return;
        }
        ObjectNode n = History.line("position");
        n.put("consumer", id);
        n.put("topic", tp.topic());
        n.put("partition", tp.partition());
        n.put("offset", offset);
        History.emit(n);
    }

    private void apply(JsonNode s, List<TopicPartition> tps) {
        if (s.isTextual() && s.asText().equals("beginning")) {
            consumer.seekToBeginning(tps);
        } else if (s.isTextual() && s.asText().equals("end")) {
            consumer.seekToEnd(tps);
        } else if (s.has("offset")) {
            tps.forEach(tp -> consumer.seek(tp, s.get("offset").asLong()));
        } else if (s.has("timestamp_us")) {
            // Run time to the records' CreateTime: the run's start on the shared clock, in ms.
            long at = (History.startEpochUs() + s.get("timestamp_us").asLong()) / 1000;
            Map<TopicPartition, Long> query = new HashMap<>();
            tps.forEach(tp -> query.put(tp, at));
            Map<TopicPartition, OffsetAndTimestamp> found = consumer.offsetsForTimes(query);
            for (TopicPartition tp : tps) {
                OffsetAndTimestamp o = found.get(tp);
                if (o == null) {
                    consumer.seekToEnd(List.of(tp));
                } else {
                    consumer.seek(tp, o.offset());
                }
            }
        } else {
            throw new IllegalArgumentException("unknown seek " + s);
        }
    }
}
