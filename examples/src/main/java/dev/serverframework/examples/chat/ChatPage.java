package dev.serverframework.examples.chat;

import dev.serverframework.http.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The chat's web page: one self-contained HTML file (its CSS and JavaScript inline, nothing from
 * elsewhere), read once from the class path. It is served with a Content-Security-Policy that allows
 * exactly its own inline script and style (by hash) and connections to its own origin, so that even a
 * slip in the page's escaping could not run a script a chat line carried. Immutable; any thread.
 */
final class ChatPage {
    private static final String RESOURCE = "chat.html";
    private static final Pattern SCRIPT = Pattern.compile("<script>(.*?)</script>", Pattern.DOTALL);
    private static final Pattern STYLE = Pattern.compile("<style>(.*?)</style>", Pattern.DOTALL);

    private final byte[] html;
    private final String policy;

    /** Reads the page and fills in the longest line the room takes, which the page checks before sending. */
    ChatPage(int maxLineLength) {
        String page = read().replace("__MAX_LINE__", Integer.toString(maxLineLength));
        this.html = page.getBytes(StandardCharsets.UTF_8);
        this.policy = "default-src 'none'; script-src " + hashOf(SCRIPT, page) + "; style-src " + hashOf(STYLE, page)
                + "; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    }

    private static String read() {
        try (InputStream in = ChatPage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("the chat page " + RESOURCE + " is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The CSP source of the one inline element the pattern finds: {@code 'sha256-...'} of its text. */
    private static String hashOf(Pattern element, String page) {
        Matcher m = element.matcher(page);
        if (!m.find()) {
            throw new IllegalStateException("the chat page has no " + element.pattern());
        }
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(m.group(1).getBytes(StandardCharsets.UTF_8));
            return "'sha256-" + Base64.getEncoder().encodeToString(digest) + "'";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** The page, for one request. */
    Response response() {
        return Response.bytes(html, "text/html; charset=utf-8")
                .header("Content-Security-Policy", policy)
                .header("X-Content-Type-Options", "nosniff")
                .header("Referrer-Policy", "no-referrer")
                .header("Cache-Control", "no-cache");
    }
}
