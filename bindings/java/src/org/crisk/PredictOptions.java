package org.crisk;

/**
 * How {@link Model#predict} scores: threads, margin or transformed output, the range of
 * boosting iterations, and the thread {@link Pool} that serves the call. Immutable; build
 * one with {@link #builder()} and reuse it.
 *
 * <pre>{@code
 * PredictOptions opts = PredictOptions.builder().threads(4).margin(true).build();
 * }</pre>
 */
public final class PredictOptions {
    /** One thread (the caller's), transformed output, every iteration, no pool. */
    public static final PredictOptions DEFAULT = builder().build();

    private final int threads;
    private final boolean margin;
    private final long iterationBegin;
    private final long iterationEnd;
    private final Pool pool;

    private PredictOptions(Builder b) {
        this.threads = b.threads;
        this.margin = b.margin;
        this.iterationBegin = b.iterationBegin;
        this.iterationEnd = b.iterationEnd;
        this.pool = b.pool;
    }

    /** Returns a builder that starts from the defaults of {@link #DEFAULT}. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the threads one call uses: 1 the caller's only, 0 every core, or N. */
    public int threads() {
        return threads;
    }

    /** Returns whether the raw margins are output instead of the transformed scores. */
    public boolean margin() {
        return margin;
    }

    /** Returns the first boosting iteration used. */
    public long iterationBegin() {
        return iterationBegin;
    }

    /** Returns the iteration after the last one used; 0 with a begin of 0 means all. */
    public long iterationEnd() {
        return iterationEnd;
    }

    /** Returns the pool whose threads serve the call, or null when the call starts and
     *  joins its own. */
    public Pool pool() {
        return pool;
    }

    /** Builds {@link PredictOptions}; each setter checks its argument at once. */
    public static final class Builder {
        private int threads = 1;
        private boolean margin;
        private long iterationBegin;
        private long iterationEnd;
        private Pool pool;

        private Builder() {
        }

        /**
         * Sets the threads one call splits its rows over: 1 (the default) runs on the
         * calling thread, 0 uses every core, N uses N. Where the caller already scores from
         * many threads (a thread pool, Spark tasks), keep 1.
         */
        public Builder threads(int threads) {
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0, not " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** Sets whether to output raw margins (true) or transformed scores (false). */
        public Builder margin(boolean margin) {
            this.margin = margin;
            return this;
        }

        /**
         * Uses boosting iterations [begin, end) only, as XGBoost's iteration_range; (0, 0)
         * (the default) uses all. The model refuses a range beyond its iterations, and any
         * range on a linear model, with CRISK_E_INVALID_ARGUMENT when scoring.
         */
        public Builder iterationRange(long begin, long end) {
            if (begin < 0 || end < 0) {
                throw new IllegalArgumentException(
                        "iteration range must not be negative: [" + begin + ", " + end + ")");
            }
            this.iterationBegin = begin;
            this.iterationEnd = end;
            return this;
        }

        /**
         * Lets {@code pool}'s threads serve the call (null, the default: a call of several
         * threads starts and joins its own). With a pool, {@link #threads(int)} caps how
         * many of the pool's threads the call uses, as in C: 0 all of them, 1 (the
         * default) the calling thread alone. The pool must stay open while the options
         * are used: a call with a closed pool throws {@link IllegalStateException}.
         */
        public Builder pool(Pool pool) {
            this.pool = pool;
            return this;
        }

        /** Returns the options. */
        public PredictOptions build() {
            return new PredictOptions(this);
        }
    }
}
