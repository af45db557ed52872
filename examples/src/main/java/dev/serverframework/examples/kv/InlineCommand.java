package dev.serverframework.examples.kv;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * An inline command ({@code GET k}, what a person types in telnet) split into arguments as Redis's
 * {@code sdssplitargs} splits it: blanks separate arguments; "double quotes" allow escapes
 * ({@code \n \r \t \b \a \\ \" \xHH}); 'single quotes' allow only {@code \'}; a closing quote must be
 * followed by a blank or the end of the line. Stateless.
 */
final class InlineCommand {
    private InlineCommand() {
    }

    /** The arguments of one line (without its line end), or {@code null} for unbalanced quotes. */
    static List<byte[]> splitArgs(byte[] line) {
        List<byte[]> args = new ArrayList<>();
        int i = 0;
        int n = line.length;
        ByteArrayOutputStream current = new ByteArrayOutputStream();
        while (true) {
            while (i < n && isBlank(line[i])) {
                i++;
            }
            if (i == n) {
                return args;
            }
            boolean inDouble = false;
            boolean inSingle = false;
            boolean done = false;
            current.reset();
            while (!done) {
                if (inDouble) {
                    if (i == n) {
                        return null;
                    }
                    byte c = line[i];
                    if (c == '\\' && i + 3 < n && line[i + 1] == 'x' && isHex(line[i + 2]) && isHex(line[i + 3])) {
                        current.write(Character.digit(line[i + 2], 16) * 16 + Character.digit(line[i + 3], 16));
                        i += 3;
                    } else if (c == '\\' && i + 1 < n) {
                        i++;
                        current.write(unescape(line[i]));
                    } else if (c == '"') {
                        if (i + 1 < n && !isBlank(line[i + 1])) {
                            return null;
                        }
                        done = true;
                    } else {
                        current.write(c);
                    }
                } else if (inSingle) {
                    if (i == n) {
                        return null;
                    }
                    byte c = line[i];
                    if (c == '\\' && i + 1 < n && line[i + 1] == '\'') {
                        i++;
                        current.write('\'');
                    } else if (c == '\'') {
                        if (i + 1 < n && !isBlank(line[i + 1])) {
                            return null;
                        }
                        done = true;
                    } else {
                        current.write(c);
                    }
                } else {
                    if (i == n) {
                        break;
                    }
                    byte c = line[i];
                    if (isBlank(c)) {
                        done = true;
                    } else if (c == '"') {
                        inDouble = true;
                    } else if (c == '\'') {
                        inSingle = true;
                    } else {
                        current.write(c);
                    }
                }
                if (i < n) {
                    i++;
                }
            }
            args.add(current.toByteArray());
        }
    }

    /** The byte a backslash escape inside double quotes stands for; an unknown escape is the byte itself. */
    private static int unescape(byte e) {
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case 'b' -> '\b';
            case 'a' -> 7;
            default -> e;
        };
    }

    private static boolean isBlank(byte c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x0b || c == '\f';
    }

    private static boolean isHex(byte c) {
        return Character.digit(c, 16) >= 0;
    }
}
