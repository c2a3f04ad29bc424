package org.crisk;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Scores one declaration a call, as a clearance system does: a record in, its
 * {@link Decision} (scores, lane, reason, profile hits) out, in stream mode against a
 * {@link LaneState}, with border sensor events read once into an {@link EventIndex}. Made
 * by {@link Bundle#decider(LaneState, EventIndex)}.
 *
 * <pre>{@code
 * try (Bundle bundle = Bundle.load(Path.of("bundle"));
 *      DeviceKeys keys = DeviceKeys.load(Path.of("device_keys.json"));
 *      EventIndex events = bundle.loadEvents(Events.file(Path.of("events.jsonl"), keys));
 *      LaneState state = bundle.stream();
 *      Decider decider = bundle.decider(state, events)) {
 *     Decision d = decider.newDecision();
 *     for (String[] declaration : arriving) {   // values in bundle.fieldNames() order
 *         decider.decide(declaration, d);        // allocates nothing
 *         route(d.lane(), d.score(0));
 *     }
 * }
 * }</pre>
 *
 * <p>Each call is one crossing into C, without copies of the arrays: the values go in as
 * UTF-8 bytes in a buffer the decider keeps, and the decision comes out into the arrays
 * of the {@link Decision} given, which the caller may reuse (as LightGBM's C API fills a
 * caller's output array). The declaration goes through the same C calls as
 * {@link Bundle#score(List, int, LocalDate, Pool, int, Events, LaneState)} makes for a
 * batch of one (a batch the decider keeps and empties at each call), so its decision is the
 * one that call gives; a rejected declaration throws, as a batch's rejected row would be
 * reported.
 *
 * <p><b>Threads.</b> One call at a time: the decider keeps one batch and buffer, and a
 * second call waits for the first; its lane state is held for the call as
 * {@link Bundle#score} holds it. Use one decider per thread (with one lane state each, or
 * a shared one, calls then taking turns). {@link #close()} waits for the call running; a
 * call afterwards throws {@link IllegalStateException}. A Cleaner frees an unclosed decider
 * as a safety net only.
 */
public final class Decider implements AutoCloseable {
    private final Bundle bundle;
    private final LaneState state;     // null: batch mode
    private final EventIndex events;   // null: no events (event features NaN)
    private final int hasToday;
    private final long today;
    private final Handle<SWIGTYPE_p_crisk_batch> batch;
    private final List<String> fields;
    private final String[] cells;      // a record's values, in field order
    private final long[] ends;         // where each value ends in data
    private byte[] data = new byte[1024];   // the values' UTF-8 bytes, end to end

    Decider(Bundle bundle, SWIGTYPE_p_crisk_batch batch, LaneState state, EventIndex events,
            LocalDate today) {
        this.bundle = bundle;
        this.batch = new Handle<>(batch, CriskNative::crisk_batch_free, "decider");
        this.state = state;
        this.events = events;
        this.hasToday = today == null ? 0 : 1;
        this.today = today == null ? 0 : today.toEpochDay();
        this.fields = bundle.fieldNames();
        this.cells = new String[fields.size()];
        this.ends = new long[fields.size()];
    }

    /** Returns an empty decision for this decider's bundle, to pass to
     *  {@link #decide(String[], Decision)} at every call. */
    public Decision newDecision() {
        return bundle.newDecision();
    }

    /** As {@link #decide(String[], Decision)} into a new decision. */
    public Decision decide(String[] values) {
        Decision d = newDecision();
        decide(values, d);
        return d;
    }

    /** As {@link #decide(String[], Decision)}, the values given by field name (a missing
     *  key is a missing value; keys that are not fields are ignored). */
    public void decide(Map<String, String> record, Decision into) {
        Objects.requireNonNull(record, "record");
        synchronized (cells) {
            for (int j = 0; j < cells.length; j++)
                cells[j] = record.get(fields.get(j));
            decide(cells, into);
        }
    }

    /**
     * Scores one declaration and fills {@code into} with its decision. {@code values} are
     * its fields' text in {@link Bundle#fieldNames()} order, as a CSV file holds them
     * (docs/schema.md); null or "" is missing. A rejected declaration leaves {@code into}
     * as it was and the lane state unchanged.
     *
     * @throws IllegalArgumentException values has not one value per field, or
     *                                  {@code into} is of another bundle
     * @throws IllegalStateException    the decider, its bundle, state or events are closed
     * @throws CriskException           the declaration is rejected (CRISK_E_INPUT, naming
     *                                  the field and why), or the policy has a budget and
     *                                  there is no state (CRISK_E_INVALID_ARGUMENT)
     */
    public void decide(String[] values, Decision into) {
        Objects.requireNonNull(values, "values");
        Objects.requireNonNull(into, "into");
        if (values.length != ends.length)
            throw new IllegalArgumentException("a declaration has " + ends.length
                                               + " values (Bundle.fieldNames()), not "
                                               + values.length);
        if (!into.of(bundle))
            throw new IllegalArgumentException("the decision is of another bundle");
        SWIGTYPE_p_crisk_batch b = batch.acquire(true);
        int held = 1;
        try {
            encode(values);
            long h = SWIGTYPE_p_crisk_bundle.getCPtr(bundle.handle().acquire(false));
            held++;
            long s = state == null ? 0 : SWIGTYPE_p_crisk_lane_state.getCPtr(state.acquire());
            held++;
            long e = events == null ? 0 : SWIGTYPE_p_crisk_events.getCPtr(events.acquire());
            held++;
            byte[] grown = CriskNativeJNI.decide(h, SWIGTYPE_p_crisk_batch.getCPtr(b), e, s,
                                                 hasToday, today, data, ends, into.numbers,
                                                 into.text);
            if (grown != null)
                into.text = grown;
        } finally {
            release(held);
        }
    }

    /** Releases the first `held` of the batch, bundle, state and events, last first. */
    private void release(int held) {
        if (held > 3 && events != null)
            events.release();
        if (held > 2 && state != null)
            state.release();
        if (held > 1)
            bundle.handle().release(false);
        batch.release(true);
    }

    /** Writes the values' UTF-8 bytes end to end into data, and where each ends. */
    private void encode(String[] values) {
        int at = 0;
        for (int j = 0; j < values.length; j++) {
            if (values[j] != null)
                at = put(values[j], at);
            ends[j] = at;
        }
    }

    /** Writes `v` at `at` in data (growing it); returns where it ends. ASCII is copied
     *  char by char, allocating nothing; other text goes through the JDK's encoder. */
    private int put(String v, int at) {
        int n = v.length();
        reserve(at + n);
        for (int i = 0; i < n; i++) {
            char c = v.charAt(i);
            if (c >= 0x80) {
                byte[] utf8 = v.getBytes(StandardCharsets.UTF_8);
                reserve(at + utf8.length);
                System.arraycopy(utf8, 0, data, at, utf8.length);
                return at + utf8.length;
            }
            data[at + i] = (byte) c;
        }
        return at + n;
    }

    private void reserve(int bytes) {
        if (bytes > data.length)
            data = Arrays.copyOf(data, Math.max(bytes, 2 * data.length));
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return batch.isClosed();
    }

    /** Frees the decider's batch, after the call running. Idempotent; any thread. The
     *  bundle, state and events stay open: they are the caller's. */
    @Override
    public void close() {
        batch.close();
    }
}
