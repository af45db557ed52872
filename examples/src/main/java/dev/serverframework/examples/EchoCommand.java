package dev.serverframework.examples;

import dev.serverframework.echo.EchoProtocol;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/** {@code echo}: sends back every byte it receives. */
@Command(name = "echo", mixinStandardHelpOptions = true, description = "Echo server: sends every byte back.")
final class EchoCommand implements Callable<Integer> {
    @Option(names = "--port", description = "TCP port (default: ${DEFAULT-VALUE}).", defaultValue = "7007")
    int port;

    @Mixin
    ServerOptions options;

    @Override
    public Integer call() throws Exception {
        return ServerOptions.runUntilStopped(options.builder(port, new EchoProtocol()).build(), "echo");
    }
}
