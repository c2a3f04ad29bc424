package org.crisk;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A stream of border sensor events (docs/events.md: e-seals, RFID, GPS, X-ray), one JSON
 * object per line, to score declarations with: a JSON Lines file, or the lines themselves,
 * with the {@link DeviceKeys} that verify their HMACs. Given to
 * {@link Bundle#score(List, int, java.time.LocalDate, Pool, int, Events)}, the events are
 * checked line by line (a refused event is reported in {@link BundleScores#eventRejects()}
 * with its line and reason, never dropped), joined to the declarations by key and time,
 * and turned into the schema's event features; without events those features are NaN.
 * That is the whole difference events make: event features, and through them profile hits
 * and any model that takes them.
 *
 * <p>A line is passed to the C library byte for byte (its UTF-8 encoding): the HMAC covers
 * the time and the payload exactly as written, so lines must be the device's text, not a
 * re-serialisation of it. Line r + 1 of the stream is element r of a list (blank lines are
 * skipped but counted, as in a file).
 *
 * <p>Immutable, and holds no native memory: one instance may serve many calls and threads
 * (its keys must stay open while it is used).
 */
public final class Events {
    /** Why an event was refused (crisk_event_reject; Python's {@code kind}, in lower case). */
    public enum RejectKind {
        /** Not one JSON object, a member missing, repeated, unknown or of a wrong type, a
         *  line too long. */
        MALFORMED,
        /** key.type is not a known kind of key. */
        UNKNOWN_KEY,
        /** type is neither built in nor declared by the schema. */
        UNKNOWN_TYPE,
        /** time is not RFC 3339 with a UTC offset. */
        BAD_TIME,
        /** The payload does not fit the type (xray.result). */
        BAD_PAYLOAD,
        /** No hmac, and the device (or {@link Events#requireHmac(boolean)}) needs one. */
        MISSING_HMAC,
        /** An hmac, but the device is listed as unsigned (no key): never trusted on its
         *  word. */
        UNVERIFIABLE,
        /** The hmac does not match: forged or altered. */
        BAD_HMAC,
        /** An event_id accepted earlier in the stream. */
        DUPLICATE_ID,
        /** Earlier than the device's last accepted event (of the same or stronger
         *  standing: an unsigned event never blocks a signed one). */
        OUT_OF_ORDER,
        /** The device is not in the key file (with a key, or listed as unsigned). */
        UNKNOWN_DEVICE,
        /** Later than the reference time plus its tolerance (300 s). */
        FUTURE_TIME;

        /** Returns the kind of C code {@code code} (1 = MALFORMED ... 12 = FUTURE_TIME), or
         *  null for any other value. */
        static RejectKind of(int code) {
            return Names.constant(values(), code);
        }
    }

    /** A refused event: its 1-based line in the stream, its 0-based row (line - 1: the
     *  element of a list of lines), why it was refused and the one-line reason. */
    public record Reject(long line, long row, RejectKind kind, String reason) {
    }

    private final Path file;     // the JSON Lines file, or null
    private final byte[] data;   // the JSON Lines bytes when file is null
    private final DeviceKeys keys;
    private final boolean requireHmac;

    private Events(Path file, byte[] data, DeviceKeys keys, boolean requireHmac) {
        this.file = file;
        this.data = data;
        this.keys = keys;
        this.requireHmac = requireHmac;
    }

    /**
     * Returns the events of the JSON Lines file at {@code jsonl}, verified with {@code keys}
     * (null: no device is known, so every event is refused as unknown_device). The
     * file is read at each scoring call, one line at a time, and only the events the call's
     * declarations can use are kept (docs/events.md, "Join and memory").
     */
    public static Events file(Path jsonl, DeviceKeys keys) {
        return new Events(Objects.requireNonNull(jsonl, "jsonl"), null, keys, false);
    }

    /**
     * Returns the events given as lines (element r is line r + 1, each one JSON object, as a
     * device wrote it), verified with {@code keys} (null: no device is known: every event
     * is refused).
     *
     * @throws IllegalArgumentException a line holds a line break (one event per line)
     * @throws NullPointerException     the list or one of its lines is null
     */
    public static Events lines(List<String> lines, DeviceKeys keys) {
        Objects.requireNonNull(lines, "lines");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int r = 0; r < lines.size(); r++) {
            String line = Objects.requireNonNull(lines.get(r), "lines[" + r + "]");
            if (line.indexOf('\n') >= 0)
                throw new IllegalArgumentException("event " + r + ": the line holds a line "
                                                   + "break (one event per line)");
            out.writeBytes(line.getBytes(StandardCharsets.UTF_8));
            out.write('\n');
        }
        return new Events(null, out.toByteArray(), keys, false);
    }

    /** Returns the events of the JSON Lines bytes {@code jsonLines} (copied), verified with
     *  {@code keys} (null: no device is known: every event is refused). */
    public static Events bytes(byte[] jsonLines, DeviceKeys keys) {
        return new Events(null, Objects.requireNonNull(jsonLines, "jsonLines").clone(), keys,
                          false);
    }

    /** Returns these events demanding (true) a valid HMAC of every event, whatever its
     *  device, or (false, the default) of the devices whose key is marked required. */
    public Events requireHmac(boolean require) {
        return new Events(file, data, keys, require);
    }

    /**
     * Reads these events for the declarations in {@code batch} (of {@code schema}) and joins
     * them to it. Returns the C events, which the caller frees after the batch (they must
     * outlive their join).
     *
     * @throws CriskException        the file cannot be read, or a limit is exceeded
     * @throws IllegalStateException the keys are closed
     */
    SWIGTYPE_p_crisk_events join(SWIGTYPE_p_crisk_schema schema, SWIGTYPE_p_crisk_batch batch) {
        SWIGTYPE_p_crisk_events events = read(schema, batch);
        try {
            CriskNative.crisk_batch_set_events(batch, events);
        } catch (RuntimeException e) {
            CriskNative.crisk_events_free(events);
            throw e;
        }
        return events;
    }

    /**
     * Reads these events for declarations of {@code schema}: those the declarations in
     * {@code batch} can use, or every accepted one when {@code batch} is null. Returns the
     * C events, which the caller frees.
     *
     * @throws CriskException        the file cannot be read, or a limit is exceeded
     * @throws IllegalStateException the keys are closed
     */
    SWIGTYPE_p_crisk_events read(SWIGTYPE_p_crisk_schema schema, SWIGTYPE_p_crisk_batch batch) {
        int require = requireHmac ? 1 : 0;
        return DeviceKeys.with(keys, k -> file != null
            ? CriskNative.events_load(schema, batch, file.toString(), k, require)
            : CriskNative.events_parse(schema, batch, data, k, require));
    }

    /** Returns the refused events of C events {@code events}, in stream order. */
    static List<Reject> rejects(SWIGTYPE_p_crisk_events events) {
        int n = Math.toIntExact(CriskNative.crisk_events_num_rejects(events));
        List<Reject> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long line = CriskNative.events_reject_line(events, i);
            out.add(new Reject(line, line - 1,
                               RejectKind.of(CriskNative.events_reject_kind(events, i)),
                               CriskNative.events_reject_reason(events, i)));
        }
        return Collections.unmodifiableList(out);
    }

    @Override
    public String toString() {
        return "crisk.Events[" + (file != null ? file.toString() : data.length + " bytes")
            + (requireHmac ? ", HMAC required]" : "]");
    }
}
