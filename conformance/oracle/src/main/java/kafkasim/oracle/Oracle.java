package kafkasim.oracle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import kafka.server.KafkaConfig;
import org.apache.kafka.clients.GroupRebalanceConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.GroupSubscription;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.RangeAssignor;
import org.apache.kafka.clients.consumer.RoundRobinAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor;
import org.apache.kafka.clients.consumer.internals.Heartbeat;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.apache.kafka.common.Cluster;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Struct;
import org.apache.kafka.common.utils.CollectionUtils;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.common.utils.Utils;
import org.apache.kafka.server.config.AbstractKafkaConfig;
import org.apache.kafka.storage.internals.log.LogConfig;
import org.slf4j.LoggerFactory;

/**
 * Kafka 4.0.1's own classes as an oracle for kafkasim's differential tests (tests/oracle.rs).
 *
 * <p>Reads one JSON request per line on stdin and writes one JSON answer per line on stdout, in
 * order, so a batch of thousands of inputs costs one JVM start. Requests, by "op":
 *
 * <ul>
 *   <li>{"op":"partition","key_hex":"00ff","partitions":3} -> {"murmur2":-123,"partition":1}
 *       (Utils.murmur2, BuiltInPartitioner.partitionForKey)
 *   <li>{"op":"assign","strategy":"range","topics":{"t":3},"members":[{"id":"m1",
 *       "instance":null,"topics":["t"],"owned":[["t",0]],"generation":2,
 *       "subscription_generation":2}]} ->
 *       {"members":[{"id":"m1","partitions":[["t",0]]}],"transferring":[["t",0,"m1"]]}
 *       (AbstractPartitionAssignor.assign(Cluster, GroupSubscription)), or {"threw":"..."} when
 *       the assignor throws
 *   <li>{"op":"config","which":"producer","config":{"acks":"1"}} -> {"ok":true} or
 *       {"ok":false,"error":"ConfigException","message":"..."} (ProducerConfig, then
 *       KafkaProducer's delivery-timeout check; ConsumerConfig, then the assignor classes, the
 *       ConsumerCoordinator's non-empty assignor list and the Heartbeat check that the
 *       consumer's constructor adds); "which":"broker" builds a KafkaConfig (KafkaConfig.fromProps,
 *       with the keys a KRaft broker must have added: see BROKER_REQUIRED), "which":"topic" runs
 *       LogConfig.validate (names, ConfigDef parsing, LogConfig.validateValues)
 *   <li>{"op":"defaults","which":"consumer"} (or producer, broker: AbstractKafkaConfig.CONFIG_DEF,
 *       topic: LogConfig.configKeys) -> {"defaults":{"key":"value" or null},
 *       "required":["key.deserializer"],"types":{"key":"INT"},"validators":{"key":"[0,...]"}} (ConfigDef defaults as ConfigDef.convertToString prints
 *       them, null for a null default; keys without a default are listed as required; each
 *       key's ConfigDef.Type and its validator as the validator's toString prints it, e.g. a
 *       Range as "[0,...]" or "[1,...,32767]")
 *   <li>{"op":"txn_partition","transactional_id":"app-1","partitions":50} ->
 *       {"hash_code":93027205,"partition":5} (String.hashCode,
 *       TransactionStateManager.partitionFor; see Transactions)
 *   <li>{"op":"txn_transitions"} -> every TransactionState with its validPreviousStates, and
 *       every (from, to) pair with whether Kafka allows it (see Transactions)
 * </ul>
 *
 * <p>A request the harness cannot read is answered with {"bad_request":"..."}.
 */
public final class Oracle {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What a KRaft broker must be given to pass KafkaConfig's own checks (roles, id, listeners,
     * controller quorum, log directory), none of which kafkasim models: added to every broker
     * config, so the comparison is about the keys kafkasim does model.
     */
    private static final Map<String, String> BROKER_REQUIRED = Map.of(
            "process.roles", "broker",
            "node.id", "1",
            "controller.quorum.bootstrap.servers", "localhost:9093",
            "controller.listener.names", "CONTROLLER",
            "listeners", "PLAINTEXT://localhost:9092",
            "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs", "/nonexistent/kafkasim-oracle");

    private Oracle() {}

    public static void main(String[] args) throws Exception {
        BufferedReader in =
                new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out =
                new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode answer;
            try {
                answer = answer(JSON.readTree(line));
            } catch (Throwable e) {
                ObjectNode bad = JSON.createObjectNode();
                bad.put("bad_request", e.toString());
                answer = bad;
            }
            out.write(JSON.writeValueAsString(answer));
            out.newLine();
        }
        out.flush();
    }

    private static JsonNode answer(JsonNode request) throws Throwable {
        String op = request.path("op").asText();
        switch (op) {
            case "partition":
                return partition(request);
            case "assign":
                return assign(request);
            case "config":
                return config(request);
            case "defaults":
                return defaults(request);
            case "txn_partition":
                return Transactions.partition(JSON, request);
            case "txn_transitions":
                return Transactions.transitions(JSON);
            default:
                throw new IllegalArgumentException("unknown op `" + op + "`");
        }
    }

    private static JsonNode partition(JsonNode request) {
        byte[] key = hex(request.get("key_hex").asText());
        int partitions = request.get("partitions").asInt();
        ObjectNode answer = JSON.createObjectNode();
        answer.put("murmur2", Utils.murmur2(key));
        answer.put("partition", BuiltInPartitioner.partitionForKey(key, partitions));
        return answer;
    }

    private static byte[] hex(String text) {
        byte[] bytes = new byte[text.length() / 2];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) Integer.parseInt(text.substring(2 * i, 2 * i + 2), 16);
        }
        return bytes;
    }

    private static ConsumerPartitionAssignor assignor(String strategy) {
        switch (strategy) {
            case "range":
                return new RangeAssignor();
            case "roundrobin":
                return new RoundRobinAssignor();
            case "sticky":
                return new StickyAssignor();
            case "cooperative-sticky":
                return new CooperativeProbe();
            default:
                throw new IllegalArgumentException("unknown strategy `" + strategy + "`");
        }
    }

    private static List<TopicPartition> partitions(JsonNode list) {
        List<TopicPartition> out = new ArrayList<>();
        for (JsonNode tp : list) {
            out.add(new TopicPartition(tp.get(0).asText(), tp.get(1).asInt()));
        }
        return out;
    }

    private static ArrayNode json(List<TopicPartition> partitions) {
        ArrayNode out = JSON.createArrayNode();
        for (TopicPartition tp : partitions) {
            out.addArray().add(tp.topic()).add(tp.partition());
        }
        return out;
    }

    /**
     * One fresh assignor per request. The members go into a HashMap in the order given (the
     * JoinGroup order), as ConsumerCoordinator.onLeaderElected builds it. Eager `sticky` members
     * send their ownership as StickyAssignor user data (made by the assignor itself after
     * onAssignment), cooperative ones in the subscription; both with their generation. An eager
     * member's subscription carries "subscription_generation" as its generationId when given
     * (none: a reset generation, or a client before KIP-792).
     */
    private static JsonNode assign(JsonNode request) throws Throwable {
        String strategy = request.get("strategy").asText();
        ConsumerPartitionAssignor assignor = assignor(strategy);
        List<PartitionInfo> infos = new ArrayList<>();
        request.get("topics").fields().forEachRemaining(topic -> {
            for (int p = 0; p < topic.getValue().asInt(); p++) {
                infos.add(new PartitionInfo(topic.getKey(), p, null, null, null));
            }
        });
        Cluster cluster = new Cluster(
                "kafkasim", List.of(), infos, Collections.emptySet(), Collections.emptySet());
        Map<String, Subscription> subscriptions = new HashMap<>();
        Map<String, Subscription> ownership = new HashMap<>();
        for (JsonNode member : request.get("members")) {
            String id = member.get("id").asText();
            List<String> topics = new ArrayList<>();
            member.get("topics").forEach(t -> topics.add(t.asText()));
            List<TopicPartition> owned = partitions(member.get("owned"));
            JsonNode generationNode = member.get("generation");
            int generation = generationNode == null || generationNode.isNull()
                    ? AbstractStickyAssignor.DEFAULT_GENERATION
                    : generationNode.asInt();
            Subscription subscription;
            if (strategy.equals("sticky")) {
                // ConsumerCoordinator.metadata puts the member's current generation in the
                // subscription too; an eager member owns nothing there (it revoked everything).
                JsonNode joined = member.get("subscription_generation");
                ByteBuffer userData = stickyUserData(id, topics, owned, generation);
                subscription = joined == null || joined.isNull()
                        ? new Subscription(topics, userData)
                        : new Subscription(topics, userData, List.of(), joined.asInt(), Optional.empty());
            } else if (strategy.equals("cooperative-sticky")) {
                subscription = new Subscription(topics, null, owned, generation, Optional.empty());
            } else {
                subscription = new Subscription(topics);
            }
            JsonNode instance = member.get("instance");
            if (instance != null && !instance.isNull()) {
                subscription.setGroupInstanceId(Optional.of(instance.asText()));
            }
            subscriptions.put(id, subscription);
            ownership.put(id, new Subscription(topics, null, owned));
        }
        ObjectNode answer = JSON.createObjectNode();
        Map<String, ConsumerPartitionAssignor.Assignment> result;
        try {
            result = assignor.assign(cluster, new GroupSubscription(subscriptions)).groupAssignment();
        } catch (RuntimeException e) {
            answer.put("threw", e.toString());
            return answer;
        }
        ArrayNode members = answer.putArray("members");
        for (JsonNode member : request.get("members")) {
            String id = member.get("id").asText();
            ObjectNode m = members.addObject();
            m.put("id", id);
            m.set("partitions", json(result.get(id).partitions()));
        }
        if (assignor instanceof AbstractStickyAssignor) {
            Map<TopicPartition, String> transferring =
                    transferring((AbstractStickyAssignor) assignor, ownership, result);
            ArrayNode list = answer.putArray("transferring");
            transferring.forEach((tp, to) -> list.addArray().add(tp.topic()).add(tp.partition()).add(to));
        }
        return answer;
    }

    /**
     * The user data a StickyAssignor that was given `owned` in `generation` subscribes with
     * (onAssignment, then subscriptionUserData: version 1, with the generation). Owned partitions
     * without a generation are version 0 user data, as a client before KIP-341 sent them.
     */
    private static ByteBuffer stickyUserData(
            String memberId, List<String> topics, List<TopicPartition> owned, int generation) throws Exception {
        if (generation != AbstractStickyAssignor.DEFAULT_GENERATION) {
            StickyAssignor previous = new StickyAssignor();
            previous.onAssignment(
                    new ConsumerPartitionAssignor.Assignment(owned),
                    new ConsumerGroupMetadata("group", generation, memberId, Optional.empty()));
            return previous.subscriptionUserData(new HashSet<>(topics));
        }
        if (owned.isEmpty()) {
            return null;
        }
        Schema v0 = (Schema) stickyConstant("STICKY_ASSIGNOR_USER_DATA_V0");
        Schema topicAssignment = (Schema) stickyConstant("TOPIC_ASSIGNMENT");
        List<Struct> assignment = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : CollectionUtils.groupPartitionsByTopic(owned).entrySet()) {
            Struct topic = new Struct(topicAssignment);
            topic.set((String) stickyConstant("TOPIC_KEY_NAME"), e.getKey());
            topic.set((String) stickyConstant("PARTITIONS_KEY_NAME"), e.getValue().toArray());
            assignment.add(topic);
        }
        Struct struct = new Struct(v0);
        struct.set((String) stickyConstant("TOPIC_PARTITIONS_KEY_NAME"), assignment.toArray());
        ByteBuffer buffer = ByteBuffer.allocate(v0.sizeOf(struct));
        v0.write(buffer, struct);
        buffer.flip();
        return buffer;
    }

    /** A package-private constant of StickyAssignor (its user data schemas and field names). */
    private static Object stickyConstant(String name) throws Exception {
        java.lang.reflect.Field field = StickyAssignor.class.getDeclaredField(name);
        field.setAccessible(true);
        return field.get(null);
    }

    /**
     * partitionsTransferringOwnership as CooperativeStickyAssignor.assignPartitions computes it:
     * the builder's map on the constrained path, else computePartitionsTransferringOwnership
     * over the owned partitions as the members listed them. (The eager StickyAssignor leaves its
     * result as the builder made it.)
     */
    private static Map<TopicPartition, String> transferring(
            AbstractStickyAssignor assignor,
            Map<String, Subscription> ownership,
            Map<String, ConsumerPartitionAssignor.Assignment> result) throws Throwable {
        if (assignor instanceof CooperativeProbe) {
            return ((CooperativeProbe) assignor).transferring();
        }
        if (assignor.partitionsTransferringOwnership() != null) {
            return assignor.partitionsTransferringOwnership();
        }
        Map<String, List<TopicPartition>> assignments = new HashMap<>();
        result.forEach((id, a) -> assignments.put(id, a.partitions()));
        return CooperativeProbe.compute(ownership, assignments);
    }

    /**
     * Whether the client would accept the config: the config class's own parsing and
     * post-processing (idempotence rules), then the checks its constructor adds.
     */
    private static JsonNode config(JsonNode request) throws Exception {
        String which = request.get("which").asText();
        Map<String, Object> config = new LinkedHashMap<>();
        request.get("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()));
        ObjectNode answer = JSON.createObjectNode();
        if (which.equals("broker") || which.equals("topic")) {
            Properties props = new Properties();
            if (which.equals("broker")) {
                props.putAll(BROKER_REQUIRED);
            }
            props.putAll(config);
            try {
                if (which.equals("broker")) {
                    KafkaConfig.fromProps(props, false);
                } else {
                    LogConfig.validate(props);
                }
                answer.put("ok", true);
            } catch (ConfigException | InvalidConfigurationException | IllegalArgumentException e) {
                // IllegalArgumentException: KafkaConfig.validateValues' Scala `require`s.
                reject(answer, e);
            }
            return answer;
        }
        if (!which.equals("producer") && !which.equals("consumer")) {
            throw new IllegalArgumentException("unknown config set `" + which + "`");
        }
        try {
            if (which.equals("producer")) {
                config.putIfAbsent("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
                config.putIfAbsent("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
                ProducerConfig producer = new ProducerConfig(config);
                Method delivery = KafkaProducer.class.getDeclaredMethod(
                        "configureDeliveryTimeout", ProducerConfig.class, org.slf4j.Logger.class);
                delivery.setAccessible(true);
                delivery.invoke(null, producer, LoggerFactory.getLogger(Oracle.class));
            } else {
                config.putIfAbsent("key.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                config.putIfAbsent("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
                config.putIfAbsent("group.id", "group");
                ConsumerConfig consumer = new ConsumerConfig(config);
                List<ConsumerPartitionAssignor> assignors = ConsumerPartitionAssignor.getAssignorInstances(
                        consumer.getList(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG),
                        consumer.originals());
                // ConsumerCoordinator's constructor (the consumer has a group.id).
                if (assignors.isEmpty()) {
                    throw new IllegalStateException("Must configure at least one partition assigner class name to "
                            + ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG + " configuration property");
                }
                new Heartbeat(
                        new GroupRebalanceConfig(consumer, GroupRebalanceConfig.ProtocolType.CONSUMER),
                        Time.SYSTEM);
            }
            answer.put("ok", true);
        } catch (InvocationTargetException e) {
            reject(answer, e.getCause());
        } catch (RuntimeException e) {
            reject(answer, e);
        }
        return answer;
    }

    private static void reject(ObjectNode answer, Throwable e) {
        answer.put("ok", false);
        answer.put("error", e.getClass().getSimpleName());
        answer.put("message", e.getMessage());
    }

    private static JsonNode defaults(JsonNode request) {
        String which = request.get("which").asText();
        Map<String, ConfigDef.ConfigKey> keys;
        if (which.equals("producer")) {
            keys = ProducerConfig.configDef().configKeys();
        } else if (which.equals("consumer")) {
            keys = ConsumerConfig.configDef().configKeys();
        } else if (which.equals("broker")) {
            keys = AbstractKafkaConfig.CONFIG_DEF.configKeys();
        } else if (which.equals("topic")) {
            keys = LogConfig.configKeys();
        } else {
            throw new IllegalArgumentException("unknown config set `" + which + "`");
        }
        ObjectNode answer = JSON.createObjectNode();
        ObjectNode defaults = answer.putObject("defaults");
        ArrayNode required = answer.putArray("required");
        ObjectNode types = answer.putObject("types");
        ObjectNode validators = answer.putObject("validators");
        keys.forEach((name, key) -> {
            types.put(name, key.type.name());
            validators.put(name, key.validator == null ? null : key.validator.toString());
            if (key.defaultValue == ConfigDef.NO_DEFAULT_VALUE) {
                required.add(name);
            } else {
                defaults.put(name, ConfigDef.convertToString(key.defaultValue, key.type));
            }
        });
        return answer;
    }
}
