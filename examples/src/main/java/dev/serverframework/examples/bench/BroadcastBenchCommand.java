package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code bench broadcast}: N WebSocket connections, spread over 127.0.0.x source addresses and child load
 * processes as {@code bench connections} spreads its own ({@link ConnectionsPlan}), and a server that
 * broadcasts M messages a second to all of them with {@code each} ({@link BroadcastEndpoint}). It reports
 * deliveries per second, the delivery latency (send time stamped in the message by the wall clock, read
 * again on arrival: {@link WallClock}), how far the server fell behind, and the server's memory per idle
 * WebSocket beside its memory per idle HTTP connection.
 *
 * <p>The run: the server is read ({@link ServerReadings}); the load processes ({@link BroadcastWorker})
 * open their connections, each with one keep-alive GET, and the server is read again (N idle HTTP
 * connections); the same connections then make the WebSocket handshake, and the server is read a third
 * time (N idle WebSockets); after an optional idle hold, an unrecorded warm-up broadcast, and the measured
 * one, asked of the server through its control route; then the load processes wait (bounded) for every
 * message and report what they received. With {@code --server httpd} the server is a child JVM, read after
 * a full GC each time; with {@code --target} any server with {@link BroadcastEndpoint} installed
 * ({@code httpd --broadcast-bench}).
 */
@Command(name = "broadcast", mixinStandardHelpOptions = true,
        description = {"N WebSocket connections over child load processes; the server broadcasts M messages/s to "
                + "all of them with each(). Reports deliveries/s, delivery latency p50/p99/max, how far the server "
                + "fell behind, and the server's memory per idle WebSocket and per idle HTTP connection.",
                "The server: --server httpd (a child JVM), or --target HOST:PORT of one started with "
                        + "'httpd --broadcast-bench --idle-timeout 0'."})
public final class BroadcastBenchCommand implements Callable<Integer> {
    private static final Logger log = LoggerFactory.getLogger(BroadcastBenchCommand.class);

    @Spec
    CommandSpec spec;

    @Option(names = "--target", paramLabel = "HOST:PORT",
            description = "A server with the broadcast endpoint (httpd --broadcast-bench), e.g. 127.0.0.1:8080.")
    String target;

    @Option(names = "--server", paramLabel = "NAME",
            description = "Start this server in a child JVM for the run and stop it at the end: httpd "
                    + "(with --broadcast-bench and --idle-timeout 0, unless --server-option says otherwise).")
    String server;

    @Option(names = "--server-option", paramLabel = "ARG",
            description = "An option for the --server child, repeatable, e.g. --server-option=--workers=2.")
    List<String> serverOptions = new ArrayList<>();

    @Option(names = "--count", required = true, paramLabel = "N", description = "WebSocket connections.")
    int count;

    @Option(names = "--rate", defaultValue = "10", paramLabel = "M",
            description = "Messages per second the server broadcasts (default: ${DEFAULT-VALUE}).")
    double rate;

    @Option(names = {"-d", "--duration"}, defaultValue = "10s",
            description = "How long the measured broadcast lasts: duration × rate messages "
                    + "(default: ${DEFAULT-VALUE}).")
    String duration;

    @Option(names = "--warmup", defaultValue = "2s",
            description = "An unrecorded broadcast at the same rate before it; 0 for none (default: ${DEFAULT-VALUE}).")
    String warmup;

    @Option(names = "--size", defaultValue = "16", paramLabel = "BYTES",
            description = "Payload of each message, at least 16 (its sequence number and send time) "
                    + "(default: ${DEFAULT-VALUE}).")
    int size;

    @Option(names = "--max-in-flight", paramLabel = "F",
            description = "The server skips (and counts) a message that falls due while F broadcasts are under "
                    + "way (default: the server's, 2 s of messages and at least 4).")
    Integer maxInFlight;

    @Option(names = "--hold", defaultValue = "0s",
            description = "Idle time between the handshakes and the broadcast, during which the server's idle "
                    + "timeout pings the sockets (default: ${DEFAULT-VALUE}).")
    String hold;

    @Option(names = "--per-process", defaultValue = "0", paramLabel = "N",
            description = "Connections per load process (default 0: as many as the open-file limit allows).")
    int perProcess;

    @Option(names = "--threads", defaultValue = "1",
            description = "Event-loop threads of each load process (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--source-addresses", defaultValue = "8",
            description = "Spread connections to a 127.x target over source addresses 127.0.0.1..N "
                    + "(default: ${DEFAULT-VALUE}; more are used when the ephemeral port range needs it).")
    int sourceAddresses;

    @Option(names = "--path", defaultValue = "/",
            description = "The path of each connection's first request, a GET answered 200 "
                    + "(default: ${DEFAULT-VALUE}).")
    String path;

    @Option(names = "--metrics-path", defaultValue = "/metrics",
            description = "Where the target serves Prometheus text (default: ${DEFAULT-VALUE}).")
    String metricsPath;

    @Option(names = "--server-pid", paramLabel = "PID",
            description = "The --target server's process id, for its resident memory, its CPU time and --gc.")
    Long serverPid;

    @Option(names = "--gc", negatable = true,
            description = "Before each memory reading, ask the server's JVM for a full collection (jcmd PID "
                    + "GC.run), so heap per connection is live memory (default: on with --server, else off).")
    Boolean forceGc;

    @Option(names = "--timeout", defaultValue = "10s",
            description = "Connect and answer timeout, and how long to wait for the last messages after the "
                    + "server has sent them (default: ${DEFAULT-VALUE}).")
    String timeout;

    @Option(names = "--out", defaultValue = "bench-results", paramLabel = "DIR",
            description = "Where results.json and the processes' logs go (default: ${DEFAULT-VALUE}).")
    Path out;

    /** The open-file limits of this process; tests inject low ones. Null: read /proc/self/limits. */
    OpenFileLimits limits;

    /** Runs the benchmark, prints the table; exit status 2 unless every socket got every message. */
    @Override
    public Integer call() throws Exception {
        BroadcastResult r = execute();
        PrintWriter w = spec.commandLine().getOut();
        w.print(r.table());
        w.println("Results: " + out.resolve("results.json").toAbsolutePath());
        w.flush();
        return r.opened() == count && r.upgraded() == count && r.allDelivered() ? 0 : 2;
    }

    /** Runs the whole benchmark (starting and stopping the --server child) and writes results.json. */
    public BroadcastResult execute() throws Exception {
        if (size < BroadcastEndpoint.MIN_SIZE || size > BroadcastEndpoint.MAX_SIZE) {
            throw usage("--size must be " + BroadcastEndpoint.MIN_SIZE + " to "
                    + BroadcastEndpoint.MAX_SIZE + ", got " + size);
        }
        if (!(rate > 0)) {
            throw usage("--rate must be more than 0, got " + rate);
        }
        if (threads < 1) {
            throw usage("--threads must be at least 1, got " + threads);
        }
        Duration timeoutEach = OptionValues.duration(timeout, "--timeout");
        if (server == null) {
            if (target == null) {
                throw usage("give --target HOST:PORT (a server started with httpd "
                        + "--broadcast-bench), or --server httpd");
            }
            return execute(target, serverPid, forceGc != null && forceGc);
        }
        if (!server.equals("httpd")) {
            throw usage("--server knows httpd only, got " + server);
        }
        List<String> options = new ArrayList<>(List.of("--broadcast-bench"));
        if (serverOptions.stream().noneMatch(o -> o.startsWith("--idle-timeout"))) {
            options.add("--idle-timeout=0");
        }
        options.addAll(serverOptions);
        try (ChildServer child = ChildServer.startHttpd(options, out, timeoutEach.plusSeconds(20))) {
            return execute("127.0.0.1:" + child.port(), child.pid(), forceGc == null || forceGc);
        }
    }

    /** A usage error of this command (exit status 2). */
    private ParameterException usage(String message) {
        return new ParameterException(spec == null ? new CommandLine(this) : spec.commandLine(), message);
    }

    private BroadcastResult execute(String to, Long pid, boolean gc) throws Exception {
        if (gc && pid == null) {
            throw usage("--gc needs --server-pid (the server's process id, for jcmd)");
        }
        InetSocketAddress address = OptionValues.hostPort(to);
        boolean loopback = address.getAddress().isLoopbackAddress() && address.getAddress().getAddress().length == 4;
        Duration measured = OptionValues.duration(duration, "--duration");
        Duration warm = OptionValues.duration(warmup, "--warmup");
        Duration holdFor = OptionValues.duration(hold, "--hold");
        Duration timeoutEach = OptionValues.duration(timeout, "--timeout");
        int messages = (int) Math.max(1, Math.round(rate * measured.toMillis() / 1000.0));
        ServerReadings readings = new ServerReadings(address, metricsPath, timeoutEach, pid, gc);
        ServerSnapshot before = readings.first("--server-pid");
        ConnectionsPlan plan = ConnectionsPlan.of(count, perProcess, OpenFileLimits.own(limits),
                readings.maxFiles(before), loopback, sourceAddresses, ConnectionsPlan.portsPerAddress());
        List<String> notes = new ArrayList<>(plan.notes());
        log.info("opening {} connections to {} from {} load process(es) of at most {} and {} source address(es)",
                count, to, plan.processes(), plan.perProcess(), plan.sourceAddresses());
        Files.createDirectories(out);
        Control control = new Control(address, timeoutEach);
        List<LoadProcess> processes = new ArrayList<>();
        try {
            for (int i = 0, first = 0; i < plan.processes(); i++, first += plan.perProcess()) {
                int n = Math.min(plan.perProcess(), count - first);
                processes.add(LoadProcess.start(i, n, List.of("broadcast-worker", "--target=" + to,
                        "--path=" + path, "--count=" + n, "--first-index=" + first,
                        "--source-addresses=" + plan.sourceAddresses(), "--timeout-ms=" + timeoutEach.toMillis(),
                        "--threads=" + threads), out));
            }
            long phaseMs = 30_000 + (long) plan.perProcess() * 2 + timeoutEach.toMillis();
            LoadPhase opened = LoadPhase.await(processes, "OPENED", phaseMs);
            ServerSnapshot http = readings.read();
            log.info("{} idle HTTP connections open ({} failed); upgrading them to WebSocket", opened.ok(),
                    opened.failed());
            LoadPhase upgraded = LoadPhase.ask(processes, "UPGRADE", "UPGRADED", phaseMs);
            ServerSnapshot ws = readings.read();
            log.info("{} idle WebSockets open ({} failed)", upgraded.ok(), upgraded.failed());
            if (!holdFor.isZero()) {
                // Idle on purpose: the server's idle timeout may ping the sockets meanwhile.
                Thread.sleep(holdFor.toMillis());
            }
            if (!warm.isZero()) {
                int warmMessages = (int) Math.max(1, Math.round(rate * warm.toMillis() / 1000.0));
                log.info("warm-up: {} messages at {}/s", warmMessages, rate);
                BroadcastResult.ServerRun w = control.broadcast(rate, warmMessages, size, maxInFlight, warm);
                Drained d = drain(processes, w.sent(), timeoutEach);
                if (d.complete() < d.open()) {
                    notes.add((d.open() - d.complete()) + " sockets still lacked warm-up messages when the measured "
                            + "run began: some may have arrived in it, out of sequence");
                }
            }
            for (LoadProcess p : processes) {
                p.send("RESET");
            }
            for (LoadProcess p : processes) {
                p.expect("RESET", timeoutEach.toMillis() + 10_000);
            }
            log.info("broadcasting {} messages at {}/s to {} sockets", messages, rate, upgraded.ok());
            CpuClock cpu = new CpuClock(pid, processes);
            BroadcastResult.ServerRun run = control.broadcast(rate, messages, size, maxInFlight, measured);
            Drained load = drain(processes, run.sent(), timeoutEach);
            cpu.stop();
            if (run.skipped() > 0) {
                notes.add(run.skipped() + " messages were skipped because " + run.maxInFlight() + " broadcasts "
                        + "were still under way when they fell due: the server could not keep up with "
                        + "--rate " + rate + " (raise --max-in-flight to let it queue more)");
            }
            if (load.closed() > 0) {
                notes.add(load.closed() + " connections were closed by the server (" + load.closeFrames()
                        + " with a close frame; a reader too slow is closed with 1008)");
            }
            if (load.negative() > 0) {
                notes.add(load.negative() + " messages arrived before their send time: the wall clock stepped "
                        + "back during the run; those latencies count as 0");
            }
            notes.add(gc ? "memory readings taken right after a full GC in the server: live memory only"
                    : "no GC before the memory readings (--gc): heap per connection includes garbage");
            notes.add("latency runs from the server's send time (wall clock, stamped in the message) to the "
                    + "arrival in a load process, which shares this machine's clock");
            if (loopback) {
                notes.add(String.format(Locale.ROOT, "the load processes used %.2f of this machine's %d cores, "
                        + "which the server shares", cpu.loadCores(), Runtime.getRuntime().availableProcessors()));
            }
            BroadcastResult r = new BroadcastResult(to, count, plan.processes(), plan.sourceAddresses(), threads,
                    rate, measured.toMillis() / 1000.0, size, opened.ok(), opened.firstError(), upgraded.ok(),
                    upgraded.firstError(), run, load, cpu.serverCores(), cpu.loadCores(), before, http, ws, gc, notes);
            Files.writeString(out.resolve("results.json"), r.toJson());
            return r;
        } finally {
            processes.forEach(LoadProcess::close);
        }
    }

    /** Asks every process to wait for {@code sent} messages on each socket, and sums what they received. */
    private static Drained drain(List<LoadProcess> processes, long sent, Duration timeout)
            throws IOException, InterruptedException {
        for (LoadProcess p : processes) {
            p.send("DRAIN " + sent + " " + timeout.toMillis());
        }
        Drained sum = Drained.none();
        for (LoadProcess p : processes) {
            sum = sum.plus(Drained.parse(p.expect("DRAINED", timeout.toMillis() + 10_000)));
        }
        return sum;
    }

    /** The server's control route ({@link BroadcastEndpoint#CONTROL_PATH}). */
    private static final class Control {
        private final HttpClient http;
        private final String base;
        private final Duration timeout;

        Control(InetSocketAddress server, Duration timeout) {
            this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(timeout).build();
            this.base = "http://" + server.getHostString() + ":" + server.getPort() + BroadcastEndpoint.CONTROL_PATH;
            this.timeout = timeout;
        }

        /** Has the server broadcast {@code messages} messages at {@code rate}; returns its report when done. */
        BroadcastResult.ServerRun broadcast(double rate, int messages, int size, Integer maxInFlight,
                                            Duration planned) throws IOException, InterruptedException {
            String query = String.format(Locale.ROOT, "?rate=%s&messages=%d&size=%d%s", rate, messages, size,
                    maxInFlight == null ? "" : "&max-in-flight=" + maxInFlight);
            // The answer comes when the last broadcast is over: the run's length, and a server behind it.
            Duration bound = planned.plus(timeout).plusSeconds(60);
            HttpResponse<String> resp = http.send(HttpRequest.newBuilder(URI.create(base + query))
                    .POST(HttpRequest.BodyPublishers.noBody()).timeout(bound).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (resp.statusCode() != 200) {
                throw new IllegalStateException("the server's " + BroadcastEndpoint.CONTROL_PATH + " answered "
                        + resp.statusCode() + ": " + resp.body().trim() + (resp.statusCode() == 404
                        ? " (start it with httpd --broadcast-bench)" : ""));
            }
            JsonNode report;
            try {
                report = BenchJson.parse(resp.body());
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException("the server's broadcast report is no JSON: " + resp.body());
            }
            if (!report.isObject()) {
                throw new IllegalStateException("the server's broadcast report is no JSON object: " + resp.body());
            }
            return BroadcastResult.ServerRun.of(report);
        }
    }

    /** CPU time of the server (when its pid is known) and of the load processes, from start to stop. */
    private static final class CpuClock {
        private final Long serverPid;
        private final List<LoadProcess> processes;
        private final long wall0 = System.nanoTime();
        private final long server0;
        private final long load0;
        private double serverCores = Double.NaN;
        private double loadCores;

        CpuClock(Long serverPid, List<LoadProcess> processes) {
            this.serverPid = serverPid;
            this.processes = processes;
            this.server0 = serverPid == null ? -1 : cpuNanos(serverPid);
            this.load0 = loadNanos();
        }

        void stop() {
            double wall = System.nanoTime() - wall0;
            if (server0 >= 0) {
                long s = cpuNanos(serverPid);
                serverCores = s < 0 ? Double.NaN : (s - server0) / wall;
            }
            loadCores = (loadNanos() - load0) / wall;
        }

        double serverCores() {
            return serverCores;
        }

        double loadCores() {
            return loadCores;
        }

        private long loadNanos() {
            long sum = 0;
            for (LoadProcess p : processes) {
                sum += Math.max(0, cpuNanos(p.pid()));
            }
            return sum;
        }

        /** A process's CPU time so far (user and system), -1 when unknown. */
        private static long cpuNanos(long pid) {
            return ProcessHandle.of(pid).flatMap(h -> h.info().totalCpuDuration()).map(Duration::toNanos).orElse(-1L);
        }
    }
}
