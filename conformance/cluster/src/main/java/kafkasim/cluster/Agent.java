package kafkasim.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * One client of a scenario, run by the driver (conformance/cluster/driver.py) in the client's own
 * network namespace: `Agent producer|consumer|processor|admin '<spec json>'`. Commands arrive on stdin, one
 * per line (`go <epoch us>`, then role-specific ones); the history goes to stdout.
 */
public final class Agent {
    private static final BlockingQueue<String[]> COMMANDS = new LinkedBlockingQueue<>();
    private static volatile Runnable onLeave;

    /**
     * A topic outside the scenario with one partition led by each broker. A producer sends one
     * record to each before the run: that loads the client's classes and opens its connection
     * to every broker, as kafkasim's clients start connected, so the workload's first records
     * do not wait for a cold JVM or a new connection. Nothing reads it.
     */
    static final String WARM_UP_TOPIC = "kafkasim-warm-up";

    private Agent() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            System.err.println("usage: Agent producer|consumer|processor|admin '<spec json>'");
            System.exit(2);
        }
        JsonNode spec = History.JSON.readTree(args[1]);
        Thread stdin = new Thread(Agent::readCommands, "commands");
        stdin.setDaemon(true);
        stdin.start();
        switch (args[0]) {
            case "producer" -> new ProducerAgent(spec).run();
            case "consumer" -> new ConsumerAgent(spec).run();
            case "processor" -> new ProcessorAgent(spec).run();
            case "admin" -> new AdminAgent(spec).run();
            default -> {
                System.err.println("unknown role " + args[0]);
                System.exit(2);
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    private static void readCommands() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] words = line.trim().split("\\s+");
                if (words[0].equals("stop")) {
                    // The run is over: nothing this client does from now on belongs to it.
                    System.out.flush();
                    Runtime.getRuntime().halt(0);
                }
                COMMANDS.add(words);
                Runnable wake = onLeave;
                if (wake != null && words[0].equals("leave")) {
                    wake.run();
                }
            }
        } catch (java.io.IOException e) {
            Runtime.getRuntime().halt(3);
        }
        Runtime.getRuntime().halt(0);
    }

    /**
     * Runs `wake` when a `leave` command arrives (a consumer's `wakeup()`: its poll returns at
     * once, so it closes when the fault fires, not after its current poll).
     */
    static void wakeOnLeave(Runnable wake) {
        onLeave = wake;
    }

    /** The next command (blocking). */
    static String[] command() throws InterruptedException {
        return COMMANDS.take();
    }

    /** The next command, or null when none is waiting. */
    static String[] pollCommand() {
        return COMMANDS.poll();
    }

    /** Waits for `go <epoch us>` and starts the history clock. */
    static long awaitGo() throws InterruptedException {
        while (true) {
            String[] c = command();
            if (c[0].equals("go") && c.length == 2) {
                long start = Long.parseLong(c[1]);
                History.start(start);
                return start;
            }
        }
    }

    /** Sleeps until `epochUs` on the shared clock. */
    static void sleepUntil(long epochUs) throws InterruptedException {
        long left = epochUs - History.epochUs();
        if (left > 0) {
            Thread.sleep(left / 1000, (int) (left % 1000) * 1000);
        }
    }

    static Properties properties(JsonNode config) {
        Properties p = new Properties();
        for (Iterator<Map.Entry<String, JsonNode>> it = config.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            p.put(e.getKey(), e.getValue().asText());
        }
        return p;
    }

    static void ready() {
        History.emit(History.line("_ready"));
    }
}
