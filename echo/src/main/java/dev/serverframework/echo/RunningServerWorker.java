package dev.serverframework.echo;

import dev.serverframework.core.Server;
import dev.serverframework.core.WorkerGroup;

import java.util.Collection;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * An executor that outlives any one server: one worker of a running server among {@code servers}, and when
 * that server stops (its worker refuses tasks), a worker of another still running. A room relayed through
 * pub/sub receives the other instances' lines on it, so they keep coming while any of its servers runs.
 * Tasks run one at a time, in order, while the worker stays the same; across a switch, a task of the old
 * worker's last drain may overlap the first on the new one (the room's order lock keeps them apart).
 * Thread-safe.
 */
final class RunningServerWorker implements Executor {
    private final Collection<Server> servers;
    private volatile Executor worker;

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
            Executor w = worker;
            if (w == null && (w = pick()) == null) {
                break;
            }
            try {
                w.execute(task);
                return;
            } catch (RejectedExecutionException stopped) {
                worker = null; // its server has stopped: another one's, if any
            }
        }
        throw new RejectedExecutionException("no server of the room is running");
    }

    private synchronized Executor pick() {
        if (worker == null) {
            for (Server s : servers) {
                WorkerGroup workers = s.workerGroup();
                if (s.isRunning() && workers != null) {
                    worker = workers.next();
                    break;
                }
            }
        }
        return worker;
    }
}
