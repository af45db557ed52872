package dev.serverframework.http.internal;

import io.netty.handler.codec.http.HttpMethod;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Routes by method and path template ({@code /users/{id}}). Literal paths are found with one map
 * look-up; templates are tried in the order they were added. Built once, then read-only and
 * thread-safe.
 *
 * @param <H> what a route leads to
 */
public final class Router<H> {
    /**
     * The outcome of routing one request.
     *
     * @param routeIndex the matched template's index in {@link #templates()}, or -1 when no template matched
     */
    public record Match<H>(H target, String template, Map<String, String> params, Set<String> allowed,
                           int routeIndex) {
        /** True when a route matched the method and path. */
        public boolean found() {
            return target != null;
        }

        /** True when the path is known but not with this method (405). */
        public boolean methodNotAllowed() {
            return target == null && !allowed.isEmpty();
        }
    }

    private static final class PathRoutes<H> {
        final String template;
        final String[] segments;
        final Map<HttpMethod, H> byMethod = new LinkedHashMap<>();
        final int index;

        PathRoutes(String template, int index) {
            this.template = template;
            this.segments = split(template);
            this.index = index;
        }
    }

    private final Map<String, PathRoutes<H>> literal = new HashMap<>();
    private final List<PathRoutes<H>> templates = new ArrayList<>();
    private final List<PrefixRoute<H>> prefixes = new ArrayList<>();
    /** Every template, in the order added: what {@link Match#routeIndex()} indexes. */
    private final List<String> allTemplates = new ArrayList<>();

    private record PrefixRoute<H>(String prefix, H target, int index) {
    }

    /** Adds a route; a template segment {@code {name}} matches one path segment. */
    public void add(HttpMethod method, String template, H target) {
        if (template == null || !template.startsWith("/")) {
            throw new IllegalArgumentException("a route path must start with '/', got " + template);
        }
        if (template.contains("{")) {
            PathRoutes<H> routes = null;
            for (PathRoutes<H> r : templates) {
                if (r.template.equals(template)) {
                    routes = r;
                }
            }
            if (routes == null) {
                routes = new PathRoutes<>(template, allTemplates.size());
                for (String s : routes.segments) {
                    if (s.startsWith("{") && (!s.endsWith("}") || s.length() < 3)) {
                        throw new IllegalArgumentException("bad path parameter '" + s + "' in route " + template);
                    }
                }
                templates.add(routes);
                allTemplates.add(template);
            }
            putRoute(routes, method, target);
        } else {
            PathRoutes<H> routes = literal.get(template);
            if (routes == null) {
                routes = new PathRoutes<>(template, allTemplates.size());
                literal.put(template, routes);
                allTemplates.add(template);
            }
            putRoute(routes, method, target);
        }
    }

    /** Adds a target for every GET/HEAD path under {@code prefix} (for static files). */
    public void addPrefix(String prefix, H target) {
        String p = prefix.endsWith("/") ? prefix.substring(0, prefix.length() - 1) : prefix;
        prefixes.add(new PrefixRoute<>(p, target, allTemplates.size()));
        allTemplates.add(p + "/*");
    }

    /** Every route template (a prefix as {@code prefix/*}), indexed by {@link Match#routeIndex()}. */
    public List<String> templates() {
        return List.copyOf(allTemplates);
    }

    private static <H> void putRoute(PathRoutes<H> routes, HttpMethod method, H target) {
        if (routes.byMethod.putIfAbsent(method, target) != null) {
            throw new IllegalArgumentException("route " + method + " " + routes.template + " is defined twice");
        }
    }

    /** Finds the route for a method and a raw (still percent-encoded) path; parameters come decoded. */
    public Match<H> route(HttpMethod method, String path) {
        PathRoutes<H> routes = literal.get(path);
        if (routes != null) {
            return select(routes, method, Map.of());
        }
        String[] segments = null;
        for (PathRoutes<H> r : templates) {
            if (segments == null) {
                segments = split(path);
            }
            Map<String, String> params = matchTemplate(r.segments, segments);
            if (params != null) {
                return select(r, method, params);
            }
        }
        for (PrefixRoute<H> p : prefixes) {
            if (path.equals(p.prefix) || path.startsWith(p.prefix + "/")) {
                if (method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD)) {
                    return new Match<>(p.target, allTemplates.get(p.index), Map.of(), Set.of(), p.index);
                }
                return new Match<>(null, allTemplates.get(p.index), Map.of(), new TreeSet<>(List.of("GET", "HEAD")),
                        p.index);
            }
        }
        return new Match<>(null, null, Map.of(), Set.of(), -1);
    }

    private Match<H> select(PathRoutes<H> routes, HttpMethod method, Map<String, String> params) {
        H target = routes.byMethod.get(method);
        if (target == null && method.equals(HttpMethod.HEAD)) {
            target = routes.byMethod.get(HttpMethod.GET);
        }
        if (target != null) {
            return new Match<>(target, routes.template, params, Set.of(), routes.index);
        }
        Set<String> allowed = new TreeSet<>();
        for (HttpMethod m : routes.byMethod.keySet()) {
            allowed.add(m.name());
        }
        if (allowed.contains("GET")) {
            allowed.add("HEAD");
        }
        allowed.add("OPTIONS");
        return new Match<>(null, routes.template, params, Collections.unmodifiableSet(allowed), routes.index);
    }

    private static Map<String, String> matchTemplate(String[] template, String[] path) {
        if (template.length != path.length) {
            return null;
        }
        Map<String, String> params = null;
        for (int i = 0; i < template.length; i++) {
            String t = template[i];
            if (t.startsWith("{")) {
                if (path[i].isEmpty()) {
                    return null;
                }
                if (params == null) {
                    params = new LinkedHashMap<>();
                }
                params.put(t.substring(1, t.length() - 1), decodeSegment(path[i]));
            } else if (!t.equals(path[i])) {
                return null;
            }
        }
        return params == null ? Map.of() : Collections.unmodifiableMap(params);
    }

    /** Percent-decodes one path segment ('+' stays '+': that rule is for query strings only). */
    static String decodeSegment(String segment) {
        if (segment.indexOf('%') < 0) {
            return segment;
        }
        try {
            return URLDecoder.decode(segment.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return segment;
        }
    }

    /**
     * The path part of a request target (origin-form or absolute-form), still encoded, as the router reads
     * it; null if unusable.
     */
    public static String rawPath(String uri) {
        if (uri.startsWith("/")) {
            int end = uri.length();
            for (int i = 1; i < uri.length(); i++) {
                char ch = uri.charAt(i);
                if (ch == '?' || ch == '#') {
                    end = i;
                    break;
                }
            }
            return uri.substring(0, end);
        }
        try {
            URI parsed = new URI(uri);
            String path = parsed.getRawPath();
            if (!parsed.isAbsolute() || path == null) {
                return null;
            }
            return path.isEmpty() ? "/" : path;
        } catch (URISyntaxException e) {
            return null;
        }
    }

    private static String[] split(String path) {
        String p = path.startsWith("/") ? path.substring(1) : path;
        return p.split("/", -1);
    }
}
