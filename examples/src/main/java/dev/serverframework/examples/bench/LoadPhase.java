package dev.serverframework.examples.bench;

import java.io.IOException;
import java.util.List;

/**
 * A phase of the load processes over all their connections (opening them, upgrading them), summed over the
 * processes from their answers {@code <WORD> <ok> <failed> <first error>} (the error's spaces sent as
 * underscores, "-" for none).
 *
 * @param ok         connections for which the phase succeeded
 * @param failed     connections for which it did not
 * @param firstError the first process's first failure, or null
 */
record LoadPhase(int ok, int failed, String firstError) {

    /** Sends {@code command} to every process, then sums their {@code word} answers. */
    static LoadPhase ask(List<LoadProcess> processes, String command, String word, long ms)
            throws IOException, InterruptedException {
        for (LoadProcess p : processes) {
            p.send(command);
        }
        return await(processes, word, ms);
    }

    /** Sums the {@code word} answer of every process, each within {@code ms}. */
    static LoadPhase await(List<LoadProcess> processes, String word, long ms) throws InterruptedException {
        int ok = 0;
        int failed = 0;
        String firstError = null;
        for (LoadProcess p : processes) {
            String[] f = p.expect(word, ms);
            ok += Integer.parseInt(f[1]);
            failed += Integer.parseInt(f[2]);
            if (firstError == null && !f[3].equals("-")) {
                firstError = f[3].replace('_', ' ');
            }
        }
        return new LoadPhase(ok, failed, firstError);
    }
}
