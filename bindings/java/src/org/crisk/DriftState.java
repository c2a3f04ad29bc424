package org.crisk;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * The drift counts of a monitored stream (crisk_drift; docs/bundle.md, "Reference
 * distributions"): every declaration added, or the most recent {@code window} of them,
 * against the bundle's reference distributions. Explicit state, saved and restored by the
 * caller as a {@link LaneState} is, and tied to the bundle's digest: counts saved with
 * another bundle are refused.
 *
 * <pre>{@code
 * try (Bundle bundle = Bundle.load(Path.of("bundle"));
 *      DriftState drift = bundle.monitorStream(Path.of("drift.json"), 20000)) {
 *     List<DriftItem> items = bundle.monitor(todays, null, drift);   // worst first
 *     drift.save(Path.of("drift.json"));
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> Calls using a state run one at a time (a second waits for the
 * first). {@link #close()} waits for the call using it; a call given it afterwards throws
 * {@link IllegalStateException}. A Cleaner frees an unclosed state that becomes
 * unreachable, as a safety net only.
 */
public final class DriftState implements AutoCloseable {
    /** The C counts and the reference they count against, freed together (counts first). */
    record Native(SWIGTYPE_p_crisk_reference reference, SWIGTYPE_p_crisk_drift drift) {
        void free() {
            CriskNative.crisk_drift_free(drift);
            CriskNative.crisk_reference_free(reference);
        }
    }

    private final Bundle bundle;  // whose reference the counts use: it must stay open
    private final Handle<Native> handle;

    DriftState(Bundle bundle, Native counts) {
        this.bundle = bundle;
        this.handle = new Handle<>(counts, Native::free, "drift state");
    }

    /**
     * Saves the counts (with the window's declarations, in order) to {@code path} as JSON,
     * for {@link Bundle#monitorStream(Path, long)} to resume from.
     *
     * @throws CriskException        the file cannot be written (CRISK_E_IO), naming it
     * @throws IllegalStateException the state or its bundle is closed
     */
    public void save(Path path) {
        Objects.requireNonNull(path, "path");
        bundle.use(b -> handle.use(true, n -> CriskNative.crisk_drift_save(n.drift(),
                                                                           path.toString())));
    }

    /**
     * Returns how many declarations the counts hold (the window's, or all added).
     *
     * @throws IllegalStateException the state is closed
     */
    public long rows() {
        return handle.use(true, n -> CriskNative.crisk_drift_rows(n.drift()));
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the C counts, after the call using them. Idempotent; any thread. */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * Runs {@code call} with the C counts of {@code state}, which must belong to
     * {@code bundle}, holding the state alone meanwhile.
     *
     * @throws IllegalArgumentException the state was made by another bundle
     * @throws IllegalStateException    the state is closed
     */
    static <T> T with(DriftState state, Bundle bundle, Function<SWIGTYPE_p_crisk_drift, T> call) {
        if (state.bundle != bundle)
            throw new IllegalArgumentException("the drift state belongs to another bundle");
        return state.handle.use(true, n -> call.apply(n.drift()));
    }
}
