package dev.serverframework.examples.kv;

import dev.serverframework.examples.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kv}'s command line as {@code Main} runs it, in-process: its help states the defaults that apply
 * (idle timeout off, the query buffer caps), and the servers that share its options keep theirs.
 */
class KvCommandLineTest {

    /** What {@code <command> --help} prints, its line wrapping undone. */
    private static String help(String command) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        assertEquals(0, cli.execute(command, "--help"), err.toString());
        return out.toString().replaceAll("\\s+", " ");
    }

    /** The value {@code --idle-timeout} gets when {@code args} are parsed for {@code command}. */
    private static Object idleTimeout(String command, String... args) {
        CommandLine cli = new CommandLine(new Main());
        String[] all = new String[args.length + 1];
        all[0] = command;
        System.arraycopy(args, 0, all, 1, args.length);
        cli.parseArgs(all);
        return cli.getSubcommands().get(command).getCommandSpec().findOption("--idle-timeout").getValue();
    }

    @Test
    void kvHelpStatesThatItsIdleTimeoutIsOffByDefault() {
        String help = help("kv");
        assertTrue(help.contains("--idle-timeout=<idleTimeoutSeconds> Idle timeout in seconds, 0 = off (default: 0)."),
                help);
        assertEquals(0L, idleTimeout("kv"));
        assertEquals(7L, idleTimeout("kv", "--idle-timeout", "7"));
    }

    @Test
    void kvHelpStatesTheQueryBufferCapsAndTheirDefaults() {
        String help = help("kv");
        assertTrue(help.contains("--max-query-buffer=BYTES Most bytes of unfinished requests one connection may hold;"),
                help);
        assertTrue(help.contains("(default: " + KvProtocol.Builder.DEFAULT_MAX_QUERY_BUFFER + ")."), help);
        assertTrue(help.contains("--max-total-query-buffer=BYTES Most bytes of unfinished requests all connections"),
                help);
        assertTrue(help.contains("(default: " + KvProtocol.Builder.DEFAULT_MAX_TOTAL_QUERY_BUFFER + ")."), help);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"httpd", "echo", "chat"})
    void theOtherServersKeepTheirFiveSecondIdleTimeout(String command) {
        String help = help(command);
        assertTrue(help.contains("--idle-timeout=<idleTimeoutSeconds> Idle timeout in seconds, 0 = off (default: 5)."),
                help);
        assertEquals(5L, idleTimeout(command));
    }
}
