package org.crisk;

import java.util.function.Function;

/**
 * A set of worker threads (crisk_pool) that calls splitting their rows over several
 * threads reuse instead of starting and joining threads of their own on every call: pass
 * it in {@link PredictOptions.Builder#pool(Pool)} (predictions, contributions,
 * interactions) or to {@link Bundle#score(java.util.List, int, java.time.LocalDate, Pool)}.
 *
 * <pre>{@code
 * try (Pool pool = Pool.create(4)) {
 *     PredictOptions opts = PredictOptions.builder().pool(pool).threads(0).build();
 *     float[] scores = model.predict(rows, nrows, opts);
 * }
 * }</pre>
 *
 * <p>As in C, a call's {@code threads} caps how many of the pool's threads it uses: 0 all
 * of them, 1 (the default) the calling thread alone, N at most N. A pool serves one call at
 * a time: a call that finds it busy with another (from another Java thread) runs on its
 * calling thread alone, with the same results. Results never depend on the pool.
 *
 * <p><b>Threads.</b> Any number of threads may pass one pool. {@link #close()} may be
 * called from any thread at any time: it waits for the calls already using the pool, then
 * stops and joins its workers; a call given the pool afterwards throws
 * {@link IllegalStateException}. A Cleaner frees an unclosed pool that becomes
 * unreachable, as a safety net only.
 */
public final class Pool implements AutoCloseable {
    private final Handle<SWIGTYPE_p_crisk_pool> handle;
    private final int threads;

    private Pool(SWIGTYPE_p_crisk_pool handle) {
        this.handle = new Handle<>(handle, CriskNative::crisk_pool_free, "pool");
        this.threads = CriskNative.crisk_pool_threads(handle);
    }

    /**
     * Creates a pool for calls of {@code threads} threads (0: one per online CPU): it starts
     * threads - 1 workers, the calling thread of each call being the last one. A worker
     * that cannot be started is no failure; {@link #threads()} says how many there are.
     *
     * @throws CriskException CRISK_E_INVALID_ARGUMENT for a negative count, CRISK_E_NOMEM
     */
    public static Pool create(int threads) {
        return new Pool(CriskNative.pool_create(threads));
    }

    /** Returns the threads a call may use: the pool's workers plus the calling thread. */
    public int threads() {
        return threads;
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /**
     * Stops and joins the workers and frees the C pool, after waiting for the calls already
     * using it. Idempotent; later calls given this pool throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "crisk.Pool[" + threads + " threads" + (isClosed() ? ", closed]" : "]");
    }

    /**
     * Runs {@code call} with the C handle of {@code pool} (null when {@code pool} is null)
     * and returns what it returns, holding the pool open meanwhile: its close() waits.
     *
     * @throws IllegalStateException the pool is closed
     */
    static <T> T with(Pool pool, Function<SWIGTYPE_p_crisk_pool, T> call) {
        return pool == null ? call.apply(null) : pool.handle.use(false, call);
    }
}
