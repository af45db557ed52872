package dev.serverframework.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** A strict line parser for the Prometheus text format 0.0.4 and OpenMetrics text, for tests. */
final class Scrapes {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{((?:[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\.)*\",?)*)\\})? "
                    + "(-?[0-9]+(?:\\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|NaN|\\+Inf|-Inf)( [0-9]+(?:\\.[0-9]+)?)?"
                    + "( # \\{.*\\} .*)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
            + "(counter|gauge|histogram|summary|untyped|unknown|info|stateset|gaugehistogram)");

    /** One sample: metric name, labels, value. */
    record Sample(String name, Map<String, String> labels, double value) {
    }

    private Scrapes() {
    }

    /**
     * Parses every line; fails on one that is neither a comment nor a sample, and on a sample whose family
     * has no TYPE line before it.
     */
    static List<Sample> parse(String text, boolean openMetrics) {
        List<Sample> samples = new ArrayList<>();
        Map<String, String> types = new HashMap<>();
        String[] lines = text.split("\n", -1);
        assertTrue(text.isEmpty() && !openMetrics || text.endsWith("\n"), "the exposition ends with a newline");
        for (int i = 0; i < lines.length - 1; i++) { // the last is the empty rest after the final newline
            String line = lines[i];
            if (line.startsWith("#")) {
                Matcher t = TYPE.matcher(line);
                if (t.matches()) {
                    types.put(t.group(1), t.group(2));
                } else if (!line.startsWith("# HELP ") && !line.startsWith("# UNIT ") && !line.equals("# EOF")) {
                    fail("line " + (i + 1) + " is a comment of no known kind: " + line);
                }
                continue;
            }
            if (!openMetrics && line.isEmpty()) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                fail("line " + (i + 1) + " does not parse: " + line);
            }
            String name = m.group(1);
            if (familyOf(name, types) == null) {
                fail("line " + (i + 1) + ": no TYPE for " + name);
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            String v = m.group(4);
            double value = v.equals("+Inf") ? Double.POSITIVE_INFINITY : v.equals("-Inf") ? Double.NEGATIVE_INFINITY
                    : Double.parseDouble(v);
            samples.add(new Sample(name, labels, value));
        }
        if (openMetrics) {
            assertTrue(text.endsWith("# EOF\n"), "OpenMetrics ends with # EOF");
        } else {
            assertTrue(!text.contains("# EOF"), "the 0.0.4 text format has no # EOF");
        }
        return samples;
    }

    private static String familyOf(String name, Map<String, String> types) {
        if (types.containsKey(name)) {
            return name;
        }
        for (String suffix : new String[] {"_total", "_created", "_count", "_sum", "_bucket", "_max", "_info"}) {
            if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return null;
    }

    /** The value of the one sample with this name and these labels (among others). */
    static double value(List<Sample> samples, String name, String... labels) {
        Sample found = null;
        for (Sample s : samples) {
            if (!s.name().equals(name)) {
                continue;
            }
            boolean all = true;
            for (int i = 0; i < labels.length; i += 2) {
                all &= labels[i + 1].equals(s.labels().get(labels[i]));
            }
            if (all) {
                if (found != null) {
                    fail("more than one sample " + name + " with " + String.join(",", labels));
                }
                found = s;
            }
        }
        if (found == null) {
            fail("no sample " + name + " with " + String.join(",", labels));
        }
        return found.value();
    }
}
