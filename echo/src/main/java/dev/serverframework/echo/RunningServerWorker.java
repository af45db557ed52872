package dev.serverframework.echo;

import dev.serverframework.core.Server;
import dev.serverframework.core.WorkerGroup;

import java.util.Collection;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An executor that outlives any one server: one worker of a running server among {@code servers}, and when
 * that server stops (its worker refuses tasks), a worker of another still running. A room relayed through
 * pub/sub receives the other instances' lines on it, so they keep coming while any of its servers runs.
 * Tasks run one at a time, in order, while the worker stays the same; across a switch, a task of the old
 * worker's last drain may overlap, or follow, the first on the new one (the room's order lock keeps them
 * apart, but does not order them): two lines relayed in the moment a server stops may swap.
 * Thread-safe.
 */
final class RunningServerWorker implements Executor {
    private final Collection<Server> servers;
    private final AtomicReference<Executor> worker = new AtomicReference<>();

    /** @param servers the servers to choose from, a live view (the room's) */
    RunningServerWorker(Collection<Server> servers) {
        this.servers = servers;
    }

    /**
     * Runs the task on the current worker, or on one of another running server.
     *
     * @throws RejectedExecutionException when no server of the collection runs
     */
    @Override
    public void execute(Runnable task) {
        for (int attempt = 0; attempt <= servers.size(); attempt++) {
            Executor w = worker.get();
            if (w == null && (w = pick()) == null) {
                break;
            }
            try {
                w.execute(task);
                return;
            } catch (RejectedExecutionException stopped) {
                // Its server has stopped: another one's, if any. Only this worker is let go: a thread that saw
                // it refuse after another had moved on must not make the next task pick yet another worker.
                worker.compareAndSet(w, null);
            }
        }
        throw new RejectedExecutionException("no server of the room is running");
    }

    private synchronized Executor pick() {
        if (worker.get() == null) {
            for (Server s : servers) {
                WorkerGroup workers = s.workerGroup();
                if (s.isRunning() && workers != null) {
                    worker.set(workers.next());
                    break;
                }
            }
        }
        return worker.get();
    }
}
