package io.sandflow.flow;

import io.sandflow.inbox.InboxEntries;
import org.apache.camel.Consumer;
import org.apache.camel.Endpoint;
import org.apache.camel.component.file.GenericFile;
import org.apache.camel.component.file.GenericFileFilter;
import org.apache.camel.spi.PollingConsumerPollStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Counts what each inbox poll looks at (bean {@code intakeWatch}, the intake's {@code filter} and
 * {@code pollStrategy}): how many files the file consumer examined, poll by poll. A poll must stay O(batch) however
 * many files the inbox holds and however many jobs finished before; this is the number that shows it,
 * as a count rather than a time, so a loaded machine cannot blur it. The filter takes the inputs
 * ({@link InboxEntries}: the include pattern, file types, links), passes over files another node is running
 * ({@link ClaimedElsewhere}) and files whose jobs wait out a backoff ({@link Backoffs}), and asks the
 * {@link IntakeGate} (which offers one file per poll while a half-open breaker probes); the in-progress check stays
 * Camel's.
 */
public final class IntakeWatch implements GenericFileFilter<File>, PollingConsumerPollStrategy {

    private static final Logger LOG = LoggerFactory.getLogger("sandflow.intake");
    /** The watch of the last context set up in this JVM: in-process tests read it, as they cannot reach the registry. */
    private static final AtomicReference<IntakeWatch> LAST = new AtomicReference<>();

    private final AtomicLong examinedThisPoll = new AtomicLong();
    private final AtomicLong examinedTotal = new AtomicLong();
    private final AtomicLong polls = new AtomicLong();
    private final AtomicLong maxPerPoll = new AtomicLong();
    private final AtomicLong firstPoll = new AtomicLong();

    private final ClaimedElsewhere claimedElsewhere;
    private final InProgressFiles inProgress;
    private final InboxEntries entries;
    private final Backoffs backoffs;
    private final IntakeGate gate;

    IntakeWatch(ClaimedElsewhere claimedElsewhere, InProgressFiles inProgress, InboxEntries entries, Backoffs backoffs,
                IntakeGate gate) {
        this.claimedElsewhere = claimedElsewhere;
        this.inProgress = inProgress;
        this.entries = entries;
        this.backoffs = backoffs;
        this.gate = gate;
        LAST.set(this);
    }

    static IntakeWatch last() {
        return LAST.get();
    }

    /**
     * Takes inputs only. A FIFO, socket or device is noted (and warned about once) and left alone, never opened; a
     * link to refuse or a name to rename is the inbox survey's, as the file consumer cannot hand over all of them.
     */
    @Override
    public boolean accept(GenericFile<File> file) {
        examinedThisPoll.incrementAndGet();
        String name = file.getFileNameOnly();
        if (!entries.included(name)) {
            return false;
        }
        InboxEntries.Entry entry = entries.classify(file.getFile().toPath());
        if (entry.kind() == InboxEntries.Kind.NEVER) {
            entries.noteNever(entry);
        }
        return entry.kind() == InboxEntries.Kind.INPUT && !claimedElsewhere.skip(name) && !backoffs.skip(name)
                && gate.offer(name);
    }

    @Override
    public boolean begin(Consumer consumer, Endpoint endpoint) {
        examinedThisPoll.set(0);
        claimedElsewhere.purge();
        gate.pollStarted();
        return true;
    }

    @Override
    public void commit(Consumer consumer, Endpoint endpoint, int polledMessages) {
        long n = examinedThisPoll.getAndSet(0);
        gate.pollEnded();
        if (polls.getAndIncrement() == 0) {
            // The first poll also walks the whole inbox once, when Camel's read lock clears stale lock files at
            // start: a one-off, kept apart so that it does not stand for every poll.
            firstPoll.set(n);
            return;
        }
        examinedTotal.addAndGet(n);
        maxPerPoll.accumulateAndGet(n, Math::max);
    }

    /** As Camel's default strategy: log and wait for the next scheduled poll rather than retry at once. */
    @Override
    public boolean rollback(Consumer consumer, Endpoint endpoint, int retryCounter, Exception cause) {
        LOG.warn("polling {} failed: {}", endpoint, cause.toString());
        examinedThisPoll.set(0);
        return false;
    }

    /**
     * Polls so far, files examined by the first one, then over the later ones, the most one of those examined, and
     * the files the consumer holds as in progress now.
     */
    record Counts(long polls, long firstPoll, long examined, long maxPerPoll, int inProgress) {
    }

    Counts counts() {
        return new Counts(polls.get(), firstPoll.get(), examinedTotal.get(), maxPerPoll.get(), inProgress.size());
    }

    /** Starts a new maximum: lets a reader compare one stretch of a run with another. */
    void resetMax() {
        maxPerPoll.set(0);
    }
}
