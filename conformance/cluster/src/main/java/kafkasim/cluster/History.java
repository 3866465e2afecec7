package kafkasim.cluster;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;

/**
 * The agent's half of kafkasim's history format (book: "History files"): one JSON object per line
 * on stdout, times in microseconds since the run's start (`go` gives the start as epoch
 * microseconds; every process of a run shares the machine's clock). Lines whose type starts with
 * `_` talk to the driver and are not part of the history.
 */
final class History {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final PrintStream OUT = new PrintStream(System.out, false, StandardCharsets.UTF_8);
    private static volatile long startEpochUs = Long.MIN_VALUE;

    private History() {}

    static void start(long epochUs) {
        startEpochUs = epochUs;
    }

    /** The run's start as epoch microseconds (after `go`). */
    static long startEpochUs() {
        return startEpochUs;
    }

    static long epochUs() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000L;
    }

    /** Microseconds since the run's start (0 before it). */
    static long now() {
        long start = startEpochUs;
        return start == Long.MIN_VALUE ? 0 : Math.max(0, epochUs() - start);
    }

    static ObjectNode line(String type) {
        ObjectNode n = JSON.createObjectNode();
        n.put("type", type);
        if (!type.startsWith("_")) {
            n.put("at_us", now());
        }
        return n;
    }

    static synchronized void emit(ObjectNode n) {
        OUT.println(n.toString());
        OUT.flush();
    }

    static ArrayNode array() {
        return JSON.createArrayNode();
    }

    /** The workload's record value: `<producer>:<seq>:` padded with `.` to `bytes`. */
    static byte[] value(String producer, long seq, int bytes) {
        byte[] head = (producer + ":" + seq + ":").getBytes(StandardCharsets.UTF_8);
        byte[] v = new byte[Math.max(bytes, head.length)];
        java.util.Arrays.fill(v, (byte) '.');
        System.arraycopy(head, 0, v, 0, head.length);
        return v;
    }

    /**
     * The header that names a tombstone's record (`<producer>:<seq>`): a tombstone has no value to
     * carry it, and a log cleaner keeps a record's headers with it (kafkasim's values are the
     * workload's ids; its tombstones are ids with a null value).
     */
    static final String RECORD_HEADER = "kafkasim.record";

    /** The header of tombstone `seq` of `producer`. */
    static byte[] recordHeader(String producer, long seq) {
        return (producer + ":" + seq + ":").getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Writes `producer` and `seq` decoded from a workload value, or for a tombstone (a null value)
     * from its {@link #RECORD_HEADER} header (both null when it is no workload's record).
     */
    static void putRecordId(ObjectNode n, byte[] value, org.apache.kafka.common.header.Headers headers) {
        if (value == null && headers != null) {
            org.apache.kafka.common.header.Header h = headers.lastHeader(RECORD_HEADER);
            value = h == null ? null : h.value();
        }
        putRecordId(n, value);
    }

    /** Writes `producer` and `seq` decoded from a workload value (null when it is not one). */
    static void putRecordId(ObjectNode n, byte[] value) {
        String producer = null;
        Long seq = null;
        if (value != null) {
            String text = new String(value, 0, Math.min(value.length, 200), StandardCharsets.UTF_8);
            int a = text.indexOf(':');
            int b = a < 0 ? -1 : text.indexOf(':', a + 1);
            if (a > 0 && b > a + 1) {
                try {
                    seq = Long.parseLong(text.substring(a + 1, b));
                    producer = text.substring(0, a);
                } catch (NumberFormatException e) {
                    seq = null;
                }
            }
        }
        if (producer == null) {
            n.putNull("producer");
            n.putNull("seq");
        } else {
            n.put("producer", producer);
            n.put("seq", seq);
        }
    }
}
