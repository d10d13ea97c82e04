package io.sandflow.process;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Drains one child stream into bounded memory: a head of at most {@code maxKept} bytes and a ring buffer
 * with the last {@code tailCapacity} bytes, so a child printing gigabytes costs a counter, not heap.
 */
final class StreamCapture {

    private static final int READ_CHUNK = 64 * 1024;

    private final int maxKept;
    private final byte[] ring;
    private byte[] head = new byte[0];
    private int headLength;
    private int ringNext;
    private long total;

    StreamCapture(int maxKept, int tailCapacity) {
        this.maxKept = maxKept;
        this.ring = new byte[tailCapacity];
    }

    /** Reads until end of stream; a read error (the pipe torn down under us) just ends the capture. */
    void drain(InputStream in) {
        byte[] chunk = new byte[READ_CHUNK];
        try (in) {
            for (int n; (n = in.read(chunk)) != -1; ) {
                accept(chunk, 0, n);
            }
        } catch (IOException ignored) {
            // Everything read so far is kept; the caller reports what the child managed to write.
        }
    }

    synchronized void accept(byte[] bytes, int offset, int length) {
        total += length;
        keepHead(bytes, offset, length);
        keepTail(bytes, offset, length);
    }

    private void keepHead(byte[] bytes, int offset, int length) {
        int take = Math.min(maxKept - headLength, length);
        if (take <= 0) {
            return;
        }
        if (headLength + take > head.length) {
            // Grow geometrically up to the cap instead of allocating maxKept for every call up front.
            int capacity = (int) Math.min(maxKept, Math.max((long) headLength + take, head.length * 2L));
            head = Arrays.copyOf(head, capacity);
        }
        System.arraycopy(bytes, offset, head, headLength, take);
        headLength += take;
    }

    private void keepTail(byte[] bytes, int offset, int length) {
        int capacity = ring.length;
        if (capacity == 0) {
            return;
        }
        if (length >= capacity) {
            System.arraycopy(bytes, offset + length - capacity, ring, 0, capacity);
            ringNext = 0;
            return;
        }
        int first = Math.min(length, capacity - ringNext);
        System.arraycopy(bytes, offset, ring, ringNext, first);
        System.arraycopy(bytes, offset + first, ring, 0, length - first);
        ringNext = (ringNext + length) % capacity;
    }

    synchronized byte[] head() {
        return Arrays.copyOf(head, headLength);
    }

    synchronized long total() {
        return total;
    }

    synchronized boolean truncated() {
        return total > headLength;
    }

    synchronized String tailText() {
        int capacity = ring.length;
        int length = (int) Math.min(total, capacity);
        byte[] tail = new byte[length];
        if (total <= capacity) {
            System.arraycopy(ring, 0, tail, 0, length);
        } else {
            System.arraycopy(ring, ringNext, tail, 0, capacity - ringNext);
            System.arraycopy(ring, 0, tail, capacity - ringNext, ringNext);
        }
        int start = 0;
        if (total > capacity) {
            // The cut may fall inside a multi-byte character; dropping its orphaned continuation bytes
            // avoids a spurious replacement character at the start of every report.
            while (start < Math.min(3, length) && (tail[start] & 0xC0) == 0x80) {
                start++;
            }
        }
        return new String(tail, start, length - start, StandardCharsets.UTF_8);
    }
}
