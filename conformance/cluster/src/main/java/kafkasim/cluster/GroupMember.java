package kafkasim.cluster;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Collection;
import java.util.Comparator;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

/**
 * What a consumer and a processor record alike: a consumed or processed record, and the
 * assignments and revocations their rebalance listener sees.
 */
final class GroupMember implements ConsumerRebalanceListener {
    /** Partitions by topic, then number. */
    static final Comparator<TopicPartition> ORDER =
            Comparator.comparing(TopicPartition::topic).thenComparing(TopicPartition::partition);

    private final String id;
    private final String group;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Positions positions;

    GroupMember(String id, String group, KafkaConsumer<String, byte[]> consumer) {
        this(id, group, consumer, null);
    }

    /** With `positions`: a consumer's seek and position lines at each assignment. */
    GroupMember(String id, String group, KafkaConsumer<String, byte[]> consumer, Positions positions) {
        this.id = id;
        this.group = group;
        this.consumer = consumer;
        this.positions = positions;
    }

    /** A history line of `type` for record `r` read by consumer `id`. */
    static ObjectNode recordLine(String id, String type, ConsumerRecord<String, byte[]> r) {
        ObjectNode n = History.line(type);
        n.put("consumer", id);
        n.put("topic", r.topic());
        n.put("partition", r.partition());
        n.put("offset", r.offset());
        History.putRecordId(n, r.value(), r.headers());
        return n;
    }

    private static ArrayNode partitions(Collection<TopicPartition> tps) {
        ArrayNode a = History.array();
        tps.stream().sorted(ORDER).forEach(tp -> a.add(History.array().add(tp.topic()).add(tp.partition())));
        return a;
    }

    @Override
    public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
        if (revoked.isEmpty()) {
            return;
        }
        if (positions != null) {
            positions.revoked(revoked);
        }
        ObjectNode n = History.line("revoke");
        n.put("consumer", id);
        n.set("partitions", partitions(revoked));
        History.emit(n);
    }

    @Override
    public void onPartitionsAssigned(Collection<TopicPartition> added) {
        ObjectNode n = History.line("assignment");
        n.put("group", group);
        n.put("consumer", id);
        n.put("generation", consumer.groupMetadata().generationId());
        n.set("partitions", partitions(consumer.assignment()));
        History.emit(n);
        if (positions != null) {
            positions.assigned(added);
        }
    }

    @Override
    public void onPartitionsLost(Collection<TopicPartition> lost) {
        onPartitionsRevoked(lost);
    }
}
