package io.sandflow.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * The workers' workspaces (and so their sandboxes). A job leases one for its whole life and gives it back;
 * no two jobs ever hold the same workspace at once.
 */
public final class WorkerPool {

    private final List<Workspace> all;
    private final BlockingQueue<Workspace> free;

    public WorkerPool(Path root, List<String> sandboxNames) throws IOException {
        if (sandboxNames.isEmpty()) {
            throw new IllegalArgumentException("a worker pool needs at least one worker");
        }
        List<Workspace> spaces = new ArrayList<>();
        for (int i = 0; i < sandboxNames.size(); i++) {
            Workspace ws = new Workspace(i + 1, sandboxNames.get(i), root.resolve("worker-" + (i + 1)));
            ws.create();
            spaces.add(ws);
        }
        this.all = List.copyOf(spaces);
        this.free = new LinkedBlockingQueue<>(spaces);
    }

    public List<Workspace> all() {
        return all;
    }

    public int size() {
        return all.size();
    }

    /** Waits for a free workspace. */
    public Workspace lease() throws InterruptedException {
        return free.take();
    }

    public void release(Workspace ws) {
        free.add(ws);
    }

    public int busy() {
        return all.size() - free.size();
    }
}
