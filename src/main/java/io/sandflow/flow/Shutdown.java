package io.sandflow.flow;

/** Whether this node is stopping: then no attempt starts, and one that fails leaves its job pending. */
public final class Shutdown {

    private volatile boolean stopping;

    /** The daemon begins to stop (SIGTERM, or the end of {@code run --once}). */
    public void begin() {
        stopping = true;
    }

    public boolean isStopping() {
        return stopping;
    }
}
