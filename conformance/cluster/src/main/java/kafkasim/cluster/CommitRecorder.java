package kafkasim.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

/**
 * Records every offset commit the coordinator accepted, auto-commits included: Kafka calls
 * `ConsumerInterceptor.onCommit` once a commit succeeds (ConsumerInterceptor's javadoc;
 * ConsumerCoordinator.doCommitOffsetsAsync / commitOffsetsSync).
 */
public final class CommitRecorder implements ConsumerInterceptor<String, byte[]> {
    private String consumer;
    private String group;

    @Override
    public void configure(Map<String, ?> configs) {
        consumer = String.valueOf(configs.get(ConsumerConfig.CLIENT_ID_CONFIG));
        group = String.valueOf(configs.get(ConsumerConfig.GROUP_ID_CONFIG));
    }

    @Override
    public ConsumerRecords<String, byte[]> onConsume(ConsumerRecords<String, byte[]> records) {
        return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {
        offsets.entrySet().stream()
                .sorted(Map.Entry.comparingByKey(
                        java.util.Comparator.comparing(TopicPartition::topic).thenComparing(TopicPartition::partition)))
                .forEach(e -> {
                    ObjectNode n = History.line("commit");
                    n.put("group", group);
                    n.put("consumer", consumer);
                    n.put("topic", e.getKey().topic());
                    n.put("partition", e.getKey().partition());
                    n.put("offset", e.getValue().offset());
                    History.emit(n);
                });
    }

    @Override
    public void close() {}
}
