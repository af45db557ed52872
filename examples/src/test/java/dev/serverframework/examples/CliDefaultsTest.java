package dev.serverframework.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every "(default: X)" a server command's help states is the value the command really gets when the option
 * is not given (kv's idle timeout once said 5 while kv used 0).
 */
class CliDefaultsTest {
    private static final Pattern DEFAULT = Pattern.compile("\\(default: ([^)]*)\\)");

    @ParameterizedTest
    @ValueSource(strings = {"httpd", "echo", "chat", "kv"})
    void theDefaultEachHelpStatesIsTheValueUsed(String command) {
        CommandLine cli = Main.commandLine();
        cli.parseArgs(command);
        CommandLine sub = cli.getSubcommands().get(command);
        int checked = 0;
        for (OptionSpec option : sub.getCommandSpec().options()) {
            Matcher m = DEFAULT.matcher(String.join(" ", option.description()));
            if (!m.find() || !m.group(1).matches("[\\w.-]+") || m.group(1).equals("off")) {
                continue; // "number of processors", "this process only": not a value of the option
            }
            Object value = option.getValue();
            assertEquals(m.group(1), String.valueOf(value).toLowerCase(Locale.ROOT),
                    command + " " + option.longestName());
            checked++;
        }
        assertTrue(checked >= 4, command + ": " + checked + " defaults checked");
    }
}
