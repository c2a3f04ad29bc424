package org.crisk;

import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Function;

/**
 * The per-device HMAC keys that border sensor events are verified with (docs/events.md,
 * "Device keys"; crisk_device_keys), loaded from a key file. Pass them with the events to
 * {@link Events#file(Path, DeviceKeys)} or {@link Events#lines(java.util.List, DeviceKeys)}.
 *
 * <pre>{@code
 * try (DeviceKeys keys = DeviceKeys.load(Path.of("device_keys.json"))) {
 *     BundleScores s = bundle.score(records, Path.of("events.jsonl"), keys);
 *     s.eventRejects();   // forged, malformed, ... events: refused, never dropped silently
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> Immutable once loaded: any number of threads may score with one
 * instance at once. {@link #close()} waits for the calls already using the keys; a call
 * given them afterwards throws {@link IllegalStateException}. A Cleaner frees unclosed keys
 * that become unreachable, as a safety net only.
 */
public final class DeviceKeys implements AutoCloseable {
    private final Handle<SWIGTYPE_p_crisk_device_keys> handle;

    private DeviceKeys(SWIGTYPE_p_crisk_device_keys handle) {
        this.handle = new Handle<>(handle, CriskNative::crisk_device_keys_free,
                                 "device key set");
    }

    /**
     * Loads the device key file at {@code path}.
     *
     * @throws CriskException the file cannot be read (CRISK_E_IO) or is not a key file
     *                        (CRISK_E_FORMAT, naming the JSON path); the message names it
     */
    public static DeviceKeys load(Path path) {
        Objects.requireNonNull(path, "path");
        return new DeviceKeys(CriskNative.device_keys_load(path.toString()));
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Frees the C keys, after the calls already using them. Idempotent; any thread. */
    @Override
    public void close() {
        handle.close();
    }

    /**
     * Runs {@code call} with the C handle of {@code keys} (null when {@code keys} is null)
     * and returns what it returns, holding the keys open meanwhile: their close() waits.
     *
     * @throws IllegalStateException the keys are closed
     */
    static <T> T with(DeviceKeys keys, Function<SWIGTYPE_p_crisk_device_keys, T> call) {
        return keys == null ? call.apply(null) : keys.handle.use(false, call);
    }
}
