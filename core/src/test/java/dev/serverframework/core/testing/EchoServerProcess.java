package dev.serverframework.core.testing;

import dev.serverframework.core.Server;
import dev.serverframework.core.Transport;

/**
 * A line-echo server for tests that need a JVM of their own (what a server chooses and logs at startup
 * depends on what the JVM loaded): {@code EchoServerProcess <TRANSPORT>} listens on 127.0.0.1, an ephemeral
 * port, prints {@code listening on 127.0.0.1:<port> transport <TRANSPORT>} and serves until its standard
 * input ends.
 */
public final class EchoServerProcess {
    private EchoServerProcess() {
    }

    public static void main(String[] args) throws Exception {
        Server server = Server.builder().port(0).bindAddress("127.0.0.1").shutdownHook(false).ioThreads(1).workers(1)
                .transport(Transport.valueOf(args[0]))
                .protocol(new LineProtocol("echo", (c, line) -> c.write(line + "\n")))
                .build()
                .start();
        System.out.println("listening on 127.0.0.1:" + server.port() + " transport " + server.transport());
        System.out.flush();
        while (System.in.read() >= 0) {
            // the parent keeps the server up as long as it keeps this stream open
        }
        server.stop();
        server.awaitTermination();
    }
}
