package dev.serverframework.examples.bench;

import com.fasterxml.jackson.databind.JsonNode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code bench broadcast} small, against a server in this JVM with the broadcast endpoint: every socket gets
 * every message, the latency, rate and memory figures are there and sane, pings during the hold are
 * answered, and results.json says the same; the control route refuses bad parameters.
 */
class BroadcastBenchTest {
    private MeteredHttpd httpd;

    @AfterEach
    void stop() throws InterruptedException {
        if (httpd != null) {
            httpd.close();
        }
    }

    /** An HTTP server without idle timeout, whose WebSockets are pinged after 1 s of quiet. */
    private String startServer() {
        httpd = new MeteredHttpd(Duration.ZERO, http -> BroadcastEndpoint.install(http, Duration.ofSeconds(1)));
        return httpd.target();
    }

    /** 200 sockets over 2 load processes, 20 messages/s for 2 s: 8,000 deliveries, all of them. */
    @Test
    void everySocketGetsEveryMessageAndTheFiguresAreThere(@TempDir Path out) throws Exception {
        String target = startServer();
        BroadcastBenchCommand cmd = new BroadcastBenchCommand();
        new CommandLine(cmd).parseArgs("--target", target, "--count", "200", "--per-process", "100",
                "--source-addresses", "4", "--rate", "20", "--duration", "2s", "--warmup", "500ms",
                "--hold", "2500ms", "--server-pid", Long.toString(ProcessHandle.current().pid()),
                "--out", out.toString());
        BroadcastResult r = cmd.execute();

        assertEquals(2, r.processes());
        assertEquals(200, r.opened(), "first failure: " + r.openError());
        assertEquals(200, r.upgraded(), "first failure: " + r.upgradeError());
        assertEquals(40, r.server().messages());
        assertEquals(40, r.server().sent());
        assertEquals(0, r.server().skipped());
        assertEquals(200L * 40, r.server().sendsTaken());
        assertEquals(200L * 40, r.expectedDeliveries());
        assertEquals(200L * 40, r.load().deliveries(), "first error: " + r.load().firstError());
        assertEquals(200, r.load().complete());
        assertEquals(0, r.load().gaps());
        assertEquals(0, r.load().closed());
        assertTrue(r.allDelivered());
        // Pinged after 1 s of quiet during the 2.5 s hold, and every ping answered: nobody was closed.
        assertTrue(r.load().pings() >= 200, "pings " + r.load().pings());

        double p50 = r.latencyMs(50);
        double p99 = r.latencyMs(99);
        double max = r.latencyMs(100);
        assertTrue(p50 > 0 && p99 >= p50 && max >= p99 && max < 10_000, p50 + " / " + p99 + " / " + max);
        assertEquals(0, r.load().negative());
        // 40 messages 50 ms apart: the span from the first send to the last arrival is about 1.95 s.
        assertTrue(r.spanSeconds() > 1.9 && r.spanSeconds() < 12, "span " + r.spanSeconds());
        assertTrue(r.deliveriesPerSecond() > 500 && r.deliveriesPerSecond() <= 4_200,
                "rate " + r.deliveriesPerSecond());
        assertTrue(r.server().fanOutMax() >= r.server().fanOutP50());

        // The server saw all of them at once as HTTP connections (as WebSockets, sendsTaken says it: the
        // gauge of a service that appears by a switch is registered up to a second later).
        assertTrue(r.http().connectionsOpen() >= 200, "server_connections_open " + r.http().connectionsOpen());
        // No sign is asserted for the heap differences: this server shares the test's JVM and its garbage.
        assertTrue(Double.isFinite(r.heapPerHttp()) && Double.isFinite(r.heapPerWebSocket()));
        assertTrue(Double.isFinite(r.rssPerHttp()) && Double.isFinite(r.rssPerWebSocket()));
        assertTrue(Double.isFinite(r.serverCpuCores()) && r.loadCpuCores() > 0);

        JsonNode json = BenchJson.parse(Files.readString(out.resolve("results.json")));
        assertEquals(8000, json.path("deliveries").asLong(), json::toString);
        assertTrue(json.path("allDelivered").asBoolean(), json::toString);
        assertTrue(json.path("latencyP99Ms").isNumber(), json::toString);
        assertTrue(json.path("heapPerWebSocketBytes").isNumber(), json::toString);
        assertTrue(json.path("heapPerHttpBytes").isNumber(), json::toString);
        String table = r.table();
        assertTrue(table.contains("deliveries per second") && table.contains("heap per idle HTTP / WebSocket"),
                table);
    }

    /** The control route says what is wrong with its parameters, and broadcasts nothing then. */
    @Test
    void theControlRouteRefusesBadParameters() throws Exception {
        String target = startServer();
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        for (String query : new String[] {"", "?rate=0&messages=1", "?rate=10", "?rate=10&messages=5&size=8",
                "?rate=x&messages=5"}) {
            HttpResponse<String> resp = client.send(HttpRequest.newBuilder(
                    URI.create("http://" + target + BroadcastEndpoint.CONTROL_PATH + query))
                    .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, resp.statusCode(), query + ": " + resp.body());
        }
        assertEquals(0, httpd.server().statistics().broadcasts());
    }
}
