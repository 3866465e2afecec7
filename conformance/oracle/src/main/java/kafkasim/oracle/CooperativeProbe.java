package kafkasim.oracle;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;

/**
 * Kafka's CooperativeStickyAssignor, unchanged, that remembers its input so that the partitions
 * transferring ownership can be recovered afterwards: on the general path Kafka computes them
 * into a local variable and removes them from the result (adjustAssignment), so they are
 * recomputed here exactly as CooperativeStickyAssignor.assignPartitions does, on a fresh
 * instance: AbstractStickyAssignor.assignPartitions, then the builder's map or
 * computePartitionsTransferringOwnership.
 */
final class CooperativeProbe extends CooperativeStickyAssignor {
    private Map<String, List<PartitionInfo>> partitionsPerTopic;
    private Map<String, Subscription> subscriptions;

    @Override
    public Map<String, List<TopicPartition>> assignPartitions(
            Map<String, List<PartitionInfo>> partitionsPerTopic,
            Map<String, Subscription> subscriptions) {
        this.partitionsPerTopic = partitionsPerTopic;
        this.subscriptions = subscriptions;
        return super.assignPartitions(partitionsPerTopic, subscriptions);
    }

    /** The partitions transferring ownership in the last assignment, with their new owners. */
    @SuppressWarnings("unchecked")
    Map<TopicPartition, String> transferring() throws Throwable {
        CooperativeStickyAssignor fresh = new CooperativeStickyAssignor();
        MethodHandle sticky = MethodHandles.privateLookupIn(CooperativeStickyAssignor.class, MethodHandles.lookup())
                .findSpecial(
                        AbstractStickyAssignor.class,
                        "assignPartitions",
                        MethodType.methodType(Map.class, Map.class, Map.class),
                        CooperativeStickyAssignor.class);
        Map<String, List<TopicPartition>> beforeAdjustment =
                (Map<String, List<TopicPartition>>) sticky.invoke(fresh, partitionsPerTopic, subscriptions);
        if (fresh.partitionsTransferringOwnership() != null) {
            return fresh.partitionsTransferringOwnership();
        }
        return compute(subscriptions, beforeAdjustment);
    }

    /** CooperativeStickyAssignor.computePartitionsTransferringOwnership (private in Kafka). */
    @SuppressWarnings("unchecked")
    static Map<TopicPartition, String> compute(
            Map<String, Subscription> subscriptions, Map<String, List<TopicPartition>> assignments)
            throws Exception {
        Method compute = CooperativeStickyAssignor.class.getDeclaredMethod(
                "computePartitionsTransferringOwnership", Map.class, Map.class);
        compute.setAccessible(true);
        return (Map<TopicPartition, String>) compute.invoke(new CooperativeStickyAssignor(), subscriptions, assignments);
    }
}
