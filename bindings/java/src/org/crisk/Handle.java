package org.crisk;

import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The life of one C handle that Java calls share and {@code close()} frees once: what
 * {@link Model}, {@link Bundle}, {@link Schema}, {@link Pool} and {@link DeviceKeys} each
 * hold. Calls run under
 * a read lock (or the write lock, for a call that changes the C object), so any number run
 * at once; {@link #close()} takes the write lock, so it waits for the calls running, and a
 * call after it throws {@link IllegalStateException}. A {@link Cleaner} frees the handle of
 * an unclosed Handle that becomes unreachable, as a safety net only; a running call keeps
 * its Handle reachable, so the Cleaner never frees a handle in use.
 */
final class Handle<H> {
    private static final Cleaner CLEANER = Cleaner.create();

    private final H handle;
    private final String what;
    private final Cleaner.Cleanable cleanable;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;  // written under the write lock, read under either lock

    /** The Cleaner's action: frees the C handle. It must not refer to the Handle. */
    private static final class Free<H> implements Runnable {
        private final H handle;
        private final Consumer<H> free;

        Free(H handle, Consumer<H> free) {
            this.handle = handle;
            this.free = free;
        }

        @Override
        public void run() {
            free.accept(handle);
        }
    }

    /** Takes `handle`, which `free` (a C destructor, e.g. CriskNative::crisk_model_free)
     *  frees; `what` names it in the closed message ("model": "the crisk model is
     *  closed"). */
    Handle(H handle, Consumer<H> free, String what) {
        this.handle = handle;
        this.what = what;
        this.cleanable = CLEANER.register(this, new Free<>(handle, free));
    }

    /**
     * Runs {@code call} with the handle under the read lock, or the write lock when
     * {@code exclusive} (the call changes the C object), and returns what it returns.
     *
     * @throws IllegalStateException the handle is closed
     */
    <T> T use(boolean exclusive, Function<H, T> call) {
        H h = acquire(exclusive);
        try {
            return call.apply(h);
        } finally {
            release(exclusive);
        }
    }

    /**
     * Takes the read lock, or the write lock when {@code exclusive}, and returns the
     * handle; the caller calls {@link #release(boolean)} with the same flag in a finally
     * block. What {@link #use} does, for a hot path that allocates no lambda.
     *
     * @throws IllegalStateException the handle is closed (the lock is then released)
     */
    H acquire(boolean exclusive) {
        Lock l = exclusive ? lock.writeLock() : lock.readLock();
        l.lock();
        if (closed) {
            l.unlock();
            throw new IllegalStateException("the crisk " + what + " is closed");
        }
        return handle;
    }

    /** Releases what {@link #acquire(boolean)} took. */
    void release(boolean exclusive) {
        (exclusive ? lock.writeLock() : lock.readLock()).unlock();
        Reference.reachabilityFence(this);
    }

    /** Returns whether {@link #close()} has been called. */
    boolean isClosed() {
        Lock r = lock.readLock();
        r.lock();
        try {
            return closed;
        } finally {
            r.unlock();
        }
    }

    /** Frees the C handle, after the calls already running. Idempotent; any thread. */
    void close() {
        Lock w = lock.writeLock();
        w.lock();
        try {
            closed = true;
            cleanable.clean();
        } finally {
            w.unlock();
        }
    }
}
