package kafkasim.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import kafka.coordinator.transaction.TransactionConfig;
import kafka.coordinator.transaction.TransactionMetadata;
import kafka.coordinator.transaction.TransactionState;
import kafka.coordinator.transaction.TransactionStateManager;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.coordinator.transaction.TransactionLogConfig;
import org.apache.kafka.coordinator.transaction.TransactionStateManagerConfig;
import org.apache.kafka.server.common.TransactionVersion;
import org.apache.kafka.server.config.ServerConfigs;

/**
 * The transaction coordinator's answers, from Kafka 4.0.1's own Scala classes in kafka_2.13
 * (package kafka.coordinator.transaction; `private[transaction]` in Scala, public in bytecode).
 */
final class Transactions {
    /** Kafka's TransactionState ids run 0 (Empty) to 7 (PrepareEpochFence). */
    private static final int STATE_COUNT = 8;

    private Transactions() {}

    /**
     * {"op":"txn_partition","transactional_id":"app-1","partitions":50} ->
     * {"hash_code":93027205,"partition":5}: String.hashCode and
     * TransactionStateManager.partitionFor (`Utils.abs(transactionalId.hashCode) %
     * transactionTopicPartitionCount`) on a manager started with that partition count.
     */
    static JsonNode partition(ObjectMapper json, JsonNode request) {
        String transactionalId = request.get("transactional_id").asText();
        int partitions = request.get("partitions").asInt();
        ObjectNode answer = json.createObjectNode();
        answer.put("hash_code", transactionalId.hashCode());
        try (Metrics metrics = new Metrics()) {
            answer.put("partition", manager(partitions, metrics).partitionFor(transactionalId));
        }
        return answer;
    }

    /**
     * A TransactionStateManager whose partition count is `partitions`: startup() reads the count
     * (and schedules nothing with transactional id expiration off). partitionFor uses no other
     * collaborator, so the scheduler, replica manager and metadata cache are absent.
     */
    private static TransactionStateManager manager(int partitions, Metrics metrics) {
        TransactionConfig config = new TransactionConfig(
                TransactionStateManagerConfig.TRANSACTIONAL_ID_EXPIRATION_MS_DEFAULT,
                TransactionStateManagerConfig.TRANSACTIONS_MAX_TIMEOUT_MS_DEFAULT,
                partitions,
                TransactionLogConfig.TRANSACTIONS_TOPIC_REPLICATION_FACTOR_DEFAULT,
                TransactionLogConfig.TRANSACTIONS_TOPIC_SEGMENT_BYTES_DEFAULT,
                TransactionLogConfig.TRANSACTIONS_LOAD_BUFFER_SIZE_DEFAULT,
                TransactionLogConfig.TRANSACTIONS_TOPIC_MIN_ISR_DEFAULT,
                TransactionStateManagerConfig.TRANSACTIONS_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS_DEFAULT,
                TransactionStateManagerConfig.TRANSACTIONS_REMOVE_EXPIRED_TRANSACTIONAL_ID_CLEANUP_INTERVAL_MS_DEFAULT,
                ServerConfigs.REQUEST_TIMEOUT_MS_DEFAULT);
        TransactionStateManager manager =
                new TransactionStateManager(0, null, null, null, config, Time.SYSTEM, metrics);
        manager.startup(() -> partitions, false);
        return manager;
    }

    /**
     * {"op":"txn_transitions"} -> {"states":[{"id":0,"name":"Empty","previous":["Empty",...]},
     * ...],"transitions":[{"from":"Empty","to":"Ongoing","valid":true,"prepared":true},...]}.
     * "previous" is TransactionState.validPreviousStates; "valid" is `to.validPreviousStates
     * contains from`; "prepared" is whether TransactionMetadata.prepareTransitionTo (the check
     * every transition goes through) accepts the move from a metadata in state `from` with no
     * pending state, epoch 0 and TV_2.
     */
    static JsonNode transitions(ObjectMapper json) throws Exception {
        ObjectNode answer = json.createObjectNode();
        ArrayNode states = answer.putArray("states");
        ArrayNode transitions = answer.putArray("transitions");
        for (int id = 0; id < STATE_COUNT; id++) {
            TransactionState state = TransactionState.fromId((byte) id);
            ObjectNode entry = states.addObject();
            entry.put("id", state.id());
            entry.put("name", state.name());
            ArrayNode previous = entry.putArray("previous");
            for (int p = 0; p < STATE_COUNT; p++) {
                TransactionState candidate = TransactionState.fromId((byte) p);
                if (state.validPreviousStates().contains(candidate)) {
                    previous.add(candidate.name());
                }
            }
        }
        for (int from = 0; from < STATE_COUNT; from++) {
            for (int to = 0; to < STATE_COUNT; to++) {
                TransactionState source = TransactionState.fromId((byte) from);
                TransactionState target = TransactionState.fromId((byte) to);
                ObjectNode entry = transitions.addObject();
                entry.put("from", source.name());
                entry.put("to", target.name());
                entry.put("valid", target.validPreviousStates().contains(source));
                entry.put("prepared", prepares(source, target));
            }
        }
        return answer;
    }

    /**
     * Whether TransactionMetadata.prepareTransitionTo (private: called by reflection, the
     * overload without a next producer id) accepts `to` from a metadata in state `from`. It
     * throws IllegalStateException "... is not a valid previous state of the current state ..."
     * for an invalid move; any other failure is the harness's, and propagates.
     */
    private static boolean prepares(TransactionState from, TransactionState to) throws Exception {
        TransactionMetadata metadata = new TransactionMetadata(
                "kafkasim-oracle",
                1L,
                RecordBatch.NO_PRODUCER_ID,
                RecordBatch.NO_PRODUCER_ID,
                (short) 0,
                RecordBatch.NO_PRODUCER_EPOCH,
                60000,
                from,
                new scala.collection.mutable.HashSet<TopicPartition>(),
                0L,
                0L,
                TransactionVersion.TV_2);
        Method prepare = TransactionMetadata.class.getDeclaredMethod(
                "prepareTransitionTo",
                TransactionState.class,
                long.class,
                short.class,
                short.class,
                int.class,
                scala.collection.immutable.Set.class,
                long.class,
                long.class,
                TransactionVersion.class);
        prepare.setAccessible(true);
        scala.collection.immutable.Set<TopicPartition> none = scala.collection.immutable.Set$.MODULE$.empty();
        try {
            prepare.invoke(metadata, to, 1L, (short) 0, RecordBatch.NO_PRODUCER_EPOCH, 60000, none, 0L, 0L,
                    TransactionVersion.TV_2);
            return true;
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IllegalStateException
                    && cause.getMessage().contains("is not a valid previous state")) {
                return false;
            }
            throw e;
        }
    }
}
