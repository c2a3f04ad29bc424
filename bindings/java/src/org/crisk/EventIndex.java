package org.crisk;

import java.util.List;

/**
 * Border sensor events read once and kept, for scoring one declaration a call with a
 * {@link Decider}: every accepted event of the stream is indexed by key and time
 * (docs/events.md), not only those one batch's declarations can use, so that each
 * declaration finds its own events without the stream being read again. Its memory
 * therefore follows the stream, not a batch. Made by {@link Bundle#loadEvents(Events)};
 * the refused events are in {@link #rejects()}, never dropped.
 *
 * <p><b>Threads.</b> Immutable once read: any number of threads and deciders may use one
 * instance at once. {@link #close()} waits for the calls using it; a call given it
 * afterwards throws {@link IllegalStateException}. A Cleaner frees an unclosed index that
 * becomes unreachable, as a safety net only.
 */
public final class EventIndex implements AutoCloseable {
    private final Handle<SWIGTYPE_p_crisk_events> handle;
    private final Bundle bundle;
    private final List<Events.Reject> rejects;

    /** Takes the C events `events`, read for `bundle`'s schema. */
    EventIndex(Bundle bundle, SWIGTYPE_p_crisk_events events) {
        this.handle = new Handle<>(events, CriskNative::crisk_events_free, "event index");
        this.bundle = bundle;
        this.rejects = Events.rejects(events);
    }

    /** Returns the events refused (docs/events.md, "Rejects"), in stream order: the events
     *  read = the accepted + these. */
    public List<Events.Reject> rejects() {
        return rejects;
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the C events, after the calls using them. Idempotent; any thread. */
    @Override
    public void close() {
        handle.close();
    }

    /** Returns the bundle whose schema the events were read for. */
    Bundle bundle() {
        return bundle;
    }

    /** Returns the handle, the index held open for a call until {@link #release()}. */
    SWIGTYPE_p_crisk_events acquire() {
        return handle.acquire(false);
    }

    /** Ends the hold {@link #acquire()} took. */
    void release() {
        handle.release(false);
    }
}
