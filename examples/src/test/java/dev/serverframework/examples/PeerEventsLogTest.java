package dev.serverframework.examples;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A peer cannot fill the server's disk: 1,000 clients that each send 70 bytes of a request whose body
 * never comes and then disconnect are counted (in {@code /metrics}) and leave at most a line or two in
 * httpd's log at its default level, with no stack trace. (Each used to write about 2.3 KB of WARN and
 * stack trace.)
 */
class PeerEventsLogTest {
    private static final int PEERS = 1000;

    private ChildCommand child;

    @AfterEach
    void stop() throws Exception {
        if (child != null) {
            child.close();
        }
    }

    @Test
    void clientsThatDisconnectMidBodyAreCountedNotLogged() throws Exception {
        child = ChildCommand.start("httpd", "--mode", "worker");
        int logBefore = child.log().length();
        byte[] partial = ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + "x".repeat(20))
                .getBytes(StandardCharsets.US_ASCII);
        assertEquals(70, partial.length);
        List<CompletableFuture<Void>> senders = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            senders.add(CompletableFuture.runAsync(() -> {
                for (int i = 0; i < PEERS / 4; i++) {
                    try (Socket s = new Socket("127.0.0.1", child.port())) {
                        s.getOutputStream().write(partial);
                    } catch (Exception e) {
                        throw new AssertionError("a peer could not connect or send", e);
                    }
                }
            }));
        }
        for (CompletableFuture<Void> s : senders) {
            s.get(60, TimeUnit.SECONDS);
        }

        HttpClient http = HttpClient.newHttpClient();
        URI metrics = URI.create("http://127.0.0.1:" + child.port() + "/metrics");
        Pattern counter = Pattern.compile("(?m)^server_connections_closed_mid_message_total\\S* (\\S+)$");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        double counted = 0;
        while (counted < PEERS && System.nanoTime() < deadline) {
            String body = http.send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
            Matcher m = counter.matcher(body);
            assertTrue(m.find(), "no closed-mid-message counter in /metrics");
            counted = Double.parseDouble(m.group(1));
        }
        assertEquals(PEERS, counted, "every peer that left mid-body is counted");

        String added = child.log().substring(logBefore);
        assertTrue(added.length() < 1000, "the log grew by " + added.length() + " bytes:\n" + added);
        assertFalse(added.contains("\tat ") || added.contains("WARN"), "a warning or stack trace:\n" + added);
    }
}
