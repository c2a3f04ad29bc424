package org.crisk;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * The streaming lane state of a bundle's policy (docs/bundle.md, "Budget, stream mode";
 * crisk_lane_state): a rolling window of the last scores, against which declarations
 * scored one by one, or in batches of any size, are budgeted. A clearance system scoring
 * a declaration per call needs one: without it the budget applies to each call's batch,
 * and a batch too small for a budget share is refused.
 *
 * <pre>{@code
 * try (Bundle bundle = Bundle.load(Path.of("bundle"));
 *      LaneState state = bundle.stream(Path.of("lanes.state"))) {   // resumes if present
 *     BundleScores s = bundle.score(List.of(declaration), state);
 *     state.save(Path.of("lanes.state"));
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A state belongs to one stream: calls using it run one at a time (a
 * second waits for the first), in the order the stream gives them. {@link #close()} waits
 * for the call using it; a call given it afterwards throws {@link IllegalStateException}.
 * A Cleaner frees an unclosed state that becomes unreachable, as a safety net only.
 */
public final class LaneState implements AutoCloseable {
    private final Handle<SWIGTYPE_p_crisk_lane_state> handle;

    LaneState(SWIGTYPE_p_crisk_lane_state handle) {
        this.handle = new Handle<>(handle, CriskNative::crisk_lane_state_free, "lane state");
    }

    /**
     * Saves the state to {@code path} (JSON, written to {@code path.tmp} and renamed over
     * {@code path}), for {@link Bundle#stream(Path)} to resume from.
     *
     * @throws CriskException        the file cannot be written (CRISK_E_IO), naming it
     * @throws IllegalStateException the state is closed
     */
    public void save(Path path) {
        Objects.requireNonNull(path, "path");
        handle.use(true, h -> CriskNative.crisk_lane_state_save(h, path.toString()));
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the C state, after the call using it. Idempotent; any thread. */
    @Override
    public void close() {
        handle.close();
    }

    /** Returns the C handle, the state held alone for a call until {@link #release()}. */
    SWIGTYPE_p_crisk_lane_state acquire() {
        return handle.acquire(true);
    }

    /** Ends the hold {@link #acquire()} took. */
    void release() {
        handle.release(true);
    }

    /**
     * Runs {@code call} with the C handle of {@code state} (null when {@code state} is
     * null) and returns what it returns, holding the state alone meanwhile.
     *
     * @throws IllegalStateException the state is closed
     */
    static <T> T with(LaneState state, Function<SWIGTYPE_p_crisk_lane_state, T> call) {
        return state == null ? call.apply(null) : state.handle.use(true, call);
    }
}
