package io.sandflow.flow;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.spi.IdempotentRepository;

/**
 * The inbox consumer's record of the files it has handed out and not yet seen finish: exactly those, no more.
 * <p>
 * Camel's default is a 50,000-entry LRU cache whose removals leave a record behind in its access log until the
 * log reaches twice the capacity, so a long run's heap climbed by about 150 bytes per job for 100,000 jobs before
 * it fell back in a long soak. A file stays here from the poll that takes it to the end of its exchange; the
 * set holds at most the files in flight plus one poll's batch, and an entry is never evicted while its file is
 * still in flight (an LRU could, and the next poll would then dispatch the file again).
 */
final class InProgressFiles implements IdempotentRepository {

    private final Set<String> keys = ConcurrentHashMap.newKeySet();

    @Override
    public boolean add(String key) {
        return keys.add(key);
    }

    @Override
    public boolean contains(String key) {
        return keys.contains(key);
    }

    @Override
    public boolean remove(String key) {
        return keys.remove(key);
    }

    @Override
    public boolean confirm(String key) {
        return true;
    }

    @Override
    public void clear() {
        keys.clear();
    }

    int size() {
        return keys.size();
    }

    @Override
    public void start() {
        // nothing to open
    }

    @Override
    public void stop() {
        keys.clear();
    }
}
