package dev.serverframework.examples;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The examples and the README use the libraries as a user does, through their API packages only. The
 * libraries' module descriptors make javac enforce this between them; the examples module stays on the
 * class path (one shaded jar), where nothing would, so this test does.
 */
class ApiBoundaryTest {
    private static final Pattern INTERNAL = Pattern.compile("dev\\.serverframework\\.\\w+\\.internal\\b");

    @Test
    void examplesAndReadmeNameNoInternalPackage() throws IOException {
        Path readme = ReadmeSnippetsTest.readme();
        Path sources = readme.getParent().resolve("examples/src/main/java");
        List<Path> files = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(sources)) {
            walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
        }
        assertTrue(files.size() > 20, "found only " + files.size() + " example sources under " + sources);
        files.add(readme);
        List<String> uses = new ArrayList<>();
        for (Path file : files) {
            List<String> lines = Files.readAllLines(file);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = INTERNAL.matcher(lines.get(i));
                // The README's package table names the internal packages to say what they are, in backticks
                // on a table row; code would import or name a class in one.
                if (m.find() && !(file.equals(readme) && lines.get(i).startsWith("| `" + m.group()))) {
                    uses.add(readme.getParent().relativize(file) + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertEquals(List.of(), uses, "the examples and the README must use the API packages only");
    }
}
