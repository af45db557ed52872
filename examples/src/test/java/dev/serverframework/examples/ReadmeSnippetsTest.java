package dev.serverframework.examples;

import dev.serverframework.core.Protocol;
import dev.serverframework.core.Server;
import dev.serverframework.core.testing.RawClient;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import javax.xml.parsers.DocumentBuilderFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The README's code is compiled, so it cannot drift from the API: every {@code ```java} block of the
 * repository's README.md is a complete source file, compiled here as printed against this module's test
 * class path (which holds every module), and the custom protocol it shows is run over a real socket.
 */
class ReadmeSnippetsTest {
    /** Java blocks the README has today; fewer means a block lost its fence or the extractor broke. */
    private static final int EXPECTED_JAVA_BLOCKS = 6;

    private static final Pattern FENCE = Pattern.compile("^ {0,3}(`{3,}|~{3,})\\s*([^`\\s]*).*$");
    private static final Pattern PUBLIC_TYPE = Pattern.compile(
            "(?m)^public\\s+(?:(?:final|abstract|sealed|non-sealed)\\s+)*(?:class|interface|enum|record)\\s+(\\w+)");
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");

    /** One fenced block: its info string's first word, the README line of its opening fence, its text. */
    record Block(String language, int fenceLine, String code) {
        String describe() {
            String first = code.lines().filter(l -> !l.isBlank()).findFirst().orElse("").strip();
            return "README.md block at line " + fenceLine + " (" + first + ")";
        }
    }

    @Test
    void readmeHasTheExpectedBlocks() {
        List<Block> blocks = blocks();
        long java = blocks.stream().filter(b -> b.language().equals("java")).count();
        assertTrue(java >= EXPECTED_JAVA_BLOCKS,
                "expected at least " + EXPECTED_JAVA_BLOCKS + " ```java blocks in " + readme() + ", found " + java);
        assertTrue(blocks.stream().anyMatch(b -> b.language().equals("xml")), "the README's pom.xml block is gone");
    }

    /** One test per {@code ```java} block: it compiles as printed, with no error. */
    @TestFactory
    Stream<DynamicTest> everyJavaBlockCompiles(@TempDir Path dir) {
        return blocks().stream()
                .filter(b -> b.language().equals("java"))
                .map(b -> DynamicTest.dynamicTest("README.md:" + b.fenceLine() + " " + typeName(b),
                        () -> compile(b, dir.resolve("line" + b.fenceLine()))));
    }

    /**
     * The custom protocol server runs: the README's {@code Shout} class, compiled from the README and loaded,
     * answers a line with the line in upper case, and a line over its 1024-byte limit ends the connection
     * (the default {@code onInputTooLong}). Only the port differs from the README's {@code main}: 0, so the
     * test cannot collide with anything on 9000.
     */
    @Test
    void theCustomProtocolAnswersInUpperCase(@TempDir Path dir) throws Exception {
        Block shout = blocks().stream()
                .filter(b -> b.language().equals("java") && typeName(b).equals("Shout"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ```java block declares the class Shout; "
                        + "rename it here too if the README's custom protocol was renamed"));
        Path classes = compile(shout, dir);
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                getClass().getClassLoader())) {
            Protocol<?> protocol = (Protocol<?>) loader.loadClass("Shout").getDeclaredConstructor().newInstance();
            Server server = Server.builder().bindAddress("127.0.0.1").port(0).protocol(protocol)
                    .shutdownHook(false).build().start();
            try {
                try (RawClient client = new RawClient(server.port())) {
                    client.send("hello, world\n");
                    assertEquals("HELLO, WORLD", client.readLine());
                    client.send("größer\n");
                    assertEquals("GRÖSSER", client.readLine());
                }
                try (RawClient client = new RawClient(server.port())) {
                    client.send("a".repeat(2000) + "\n");
                    assertEquals(0, client.readToEndCleanly().length, "a line over 1024 bytes gets no answer");
                }
            } finally {
                server.stop();
                assertTrue(server.awaitTermination(Duration.ofSeconds(30)), "the server did not stop");
            }
        }
    }

    /**
     * The pom.xml block is well-formed XML, and the framework artifacts it names exist in this build at
     * the version this build makes.
     */
    @Test
    void thePomBlockNamesThisBuildsArtifacts() throws Exception {
        Path root = readme().getParent();
        Element parent = parse(Files.readString(root.resolve("pom.xml")), "pom.xml");
        String version = text(parent, "version");
        Set<String> artifacts = new HashSet<>();
        NodeList modules = parent.getElementsByTagName("module");
        for (int i = 0; i < modules.getLength(); i++) {
            Path pom = root.resolve(modules.item(i).getTextContent().strip()).resolve("pom.xml");
            artifacts.add(text(parse(Files.readString(pom), pom.toString()), "artifactId"));
        }
        int checked = 0;
        for (Block b : blocks()) {
            if (!b.language().equals("xml")) {
                continue;
            }
            NodeList deps = parse(b.code(), b.describe()).getElementsByTagName("dependency");
            for (int i = 0; i < deps.getLength(); i++) {
                Element dep = (Element) deps.item(i);
                if (text(dep, "groupId").equals("dev.serverframework")) {
                    assertTrue(artifacts.contains(text(dep, "artifactId")),
                            b.describe() + ": no module makes " + text(dep, "artifactId") + "; modules make " + artifacts);
                    assertEquals(version, text(dep, "version"), b.describe() + ": version of " + text(dep, "artifactId"));
                    checked++;
                }
            }
        }
        assertTrue(checked > 0, "no README pom block depends on a dev.serverframework artifact");
    }

    /** Compiles one block into {@code dir}/classes; fails with every error, placed at its README line. */
    private static Path compile(Block block, Path dir) throws IOException {
        String type = typeName(block);
        Matcher pkg = PACKAGE.matcher(block.code());
        Path src = dir.resolve("src");
        if (pkg.find()) {
            src = src.resolve(pkg.group(1).replace('.', '/'));
        }
        Files.createDirectories(src);
        Path file = Files.writeString(src.resolve(type + ".java"), block.code());
        Path classes = Files.createDirectories(dir.resolve("classes"));

        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        assertNotNull(compiler, "no system Java compiler: run the tests on a JDK");
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        boolean ok;
        try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            List<String> options = List.of(
                    "-classpath", System.getProperty("java.class.path"),
                    "-d", classes.toString(),
                    "-proc:none",          // the test class path holds JMH's annotation processor
                    "-encoding", "UTF-8");
            ok = compiler.getTask(null, files, diagnostics, options, null, files.getJavaFileObjects(file)).call();
        }
        List<String> errors = new ArrayList<>();
        for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
            if (d.getKind() == Diagnostic.Kind.ERROR) {
                long line = d.getLineNumber();
                errors.add("README.md:" + (line > 0 ? block.fenceLine() + line : block.fenceLine())
                        + " (" + type + ".java:" + line + "): " + d.getMessage(Locale.ROOT));
            }
        }
        if (!ok || !errors.isEmpty()) {
            fail(block.describe() + ", " + type + ".java, does not compile as printed:\n  " + String.join("\n  ", errors));
        }
        return classes;
    }

    /** The block's public top-level type, which names its file; a snippet without one is not a complete file. */
    private static String typeName(Block block) {
        Matcher m = PUBLIC_TYPE.matcher(block.code());
        if (!m.find()) {
            throw new AssertionError(block.describe() + " declares no public top-level type: every ```java block "
                    + "of the README must be a complete file (imports and a public class)");
        }
        return m.group(1);
    }

    /** The fenced code blocks of the README (CommonMark: ``` or ~~~, closed by a fence as long or longer). */
    static List<Block> blocks() {
        List<String> lines;
        try {
            lines = Files.readAllLines(readme(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            Matcher open = FENCE.matcher(lines.get(i));
            if (!open.matches()) {
                continue;
            }
            String fence = open.group(1);
            StringBuilder code = new StringBuilder();
            int j = i + 1;
            for (; j < lines.size(); j++) {
                Matcher close = FENCE.matcher(lines.get(j));
                if (close.matches() && close.group(2).isEmpty() && close.group(1).charAt(0) == fence.charAt(0)
                        && close.group(1).length() >= fence.length() && lines.get(j).strip().equals(close.group(1))) {
                    break;
                }
                code.append(lines.get(j)).append('\n');
            }
            if (j == lines.size()) {
                fail("README.md:" + (i + 1) + ": fenced block never closed");
            }
            blocks.add(new Block(open.group(2).toLowerCase(Locale.ROOT), i + 1, code.toString()));
            i = j;
        }
        return blocks;
    }

    /** README.md of the repository: found by walking up from the working directory to the parent pom's directory. */
    static Path readme() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path readme = dir.resolve("README.md");
            Path pom = dir.resolve("pom.xml");
            try {
                if (Files.isRegularFile(readme) && Files.isRegularFile(pom)
                        && Files.readString(pom).contains("<modules>")) {
                    return readme;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError("no README.md beside a parent pom.xml above " + Path.of("").toAbsolutePath());
    }

    private static Element parse(String xml, String what) {
        try {
            DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
            factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
            Document doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
            return doc.getDocumentElement();
        } catch (Exception e) {
            throw new AssertionError(what + " is not well-formed XML: " + e.getMessage(), e);
        }
    }

    /** Text of {@code element}'s direct child {@code name}, or "" if it has none. */
    private static String text(Element element, String name) {
        for (Node n = element.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                return e.getTextContent().strip();
            }
        }
        return "";
    }
}
