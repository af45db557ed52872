package dev.serverframework.examples.kv;

import dev.serverframework.examples.Main;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code kv}'s command line as {@code Main} runs it, in-process: its help states the defaults that apply.
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
}
