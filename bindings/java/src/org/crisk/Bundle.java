package org.crisk;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * A crisk bundle (docs/bundle.md): a fitted declaration schema, models, risk profiles and
 * a lane policy, loaded from one directory. It scores declarations given as text records
 * ({@code Map<String,String>}, field name to value) or as columns, into every model's
 * scores (every class of a multi-class model), a lane and its reason, and the profile
 * hits, with explain = K &gt; 0 also each declaration's top K reason codes (see
 * {@link BundleScores}).
 *
 * <pre>{@code
 * try (Bundle bundle = Bundle.load(Path.of("bundle"))) {
 *     BundleScores s = bundle.score(records);
 *     for (int i = 0; i < s.size(); i++)
 *         System.out.println(s.inputRow(i) + " " + s.lane(i) + " " + s.reason(i));
 *     s.rejects();   // rows the schema refused, with the reason: never dropped silently
 * }
 * }</pre>
 *
 * <p>With border sensor events ({@link Events}, docs/events.md) the schema's event
 * features are built from them instead of being NaN; the refused events are in
 * {@link BundleScores#eventRejects()}:
 *
 * <pre>{@code
 * try (Bundle bundle = Bundle.load(Path.of("bundle"));
 *      DeviceKeys keys = DeviceKeys.load(Path.of("device_keys.json"))) {
 *     BundleScores s = bundle.score(records, Path.of("events.jsonl"), keys);
 * }
 * }</pre>
 *
 * <p>A CSV or JSON Lines file is read by the library's own declaration reader, as
 * {@code crisk score} reads it ({@link #score(Path)}). A clearance system that scores a
 * declaration per call keeps a {@link LaneState} ({@link #stream()}): the budget then
 * ranks each declaration against the window of those before it. Without one the budget
 * applies to each call's batch, and a batch too small for a budget share (under 50
 * declarations for a share of 2%) is refused with a {@link CriskException} naming stream
 * mode, instead of sending every declaration to inspection:
 *
 * <pre>{@code
 * try (LaneState state = bundle.stream()) {
 *     for (Map<String, String> declaration : arriving)
 *         bundle.score(List.of(declaration), state).lane(0);
 * }
 * }</pre>
 *
 * <p>That builds a batch (and reads any events again) at every call; a {@link Decider}
 * ({@link #decider(LaneState, EventIndex)}) keeps one batch, reads the events once and
 * fills a reused {@link Decision}: the clearance system's fast path.
 *
 * <p>Values are text exactly as a CSV file holds them (docs/schema.md): numbers with a dot,
 * dates {@code YYYY-MM-DD}; null or "" is missing. A record's missing key is a missing
 * value; keys that are not schema fields are ignored.
 *
 * <p><b>Threads.</b> A bundle is immutable once loaded: any number of threads may score
 * with one instance at once. {@link #close()} waits for the calls already running, as
 * {@link Model#close()} does; a call that starts afterwards throws
 * {@link IllegalStateException}. A {@link java.lang.ref.Cleaner} frees an unclosed bundle
 * as a safety net only; there are no finalizers.
 */
public final class Bundle implements AutoCloseable {
    private static final int REASON_BYTES = 512;  // longest reason kept, as in Python

    private final Handle<SWIGTYPE_p_crisk_bundle> handle;
    private final List<String> fields;
    private final List<String> modelNames;
    private final int[] modelOutputs;   // values per declaration of each model
    private final List<String> lanes;

    private Bundle(SWIGTYPE_p_crisk_bundle handle) {
        this.handle = new Handle<>(handle, CriskNative::crisk_bundle_free, "bundle");
        SWIGTYPE_p_crisk_schema schema = CriskNative.crisk_bundle_schema(handle);
        this.fields = Names.of(CriskNative.crisk_schema_num_fields(schema),
                               i -> CriskNative.crisk_schema_field_name(schema, i));
        this.modelNames = Names.of(CriskNative.crisk_bundle_num_models(handle),
                                   i -> CriskNative.crisk_bundle_model_name(handle, i));
        this.modelOutputs = new int[modelNames.size()];
        for (int m = 0; m < modelOutputs.length; m++)
            modelOutputs[m] = Math.toIntExact(CriskNative.bundle_model_outputs(handle, m));
        this.lanes = Names.of(CriskNative.crisk_bundle_num_lanes(handle),
                              i -> CriskNative.crisk_bundle_lane_name(handle, i));
    }

    /**
     * Loads the bundle in directory {@code dir} (its manifest.json names the other files).
     *
     * @throws CriskException the bundle is missing or invalid; the message names the file
     *                        and the place in it
     */
    public static Bundle load(Path dir) {
        Objects.requireNonNull(dir, "dir");
        return new Bundle(CriskNative.bundle_load(dir.toString()));
    }

    /**
     * Returns a fresh streaming lane state for this bundle's policy (stream mode: see
     * {@link LaneState}).
     *
     * @throws IllegalStateException the bundle is closed
     */
    public LaneState stream() {
        return new LaneState(handle.use(false, CriskNative::lane_state_new));
    }

    /**
     * Returns the streaming lane state saved at {@code path} ({@link LaneState#save}) when
     * the file exists, else a fresh one, as {@code crisk score --state FILE} does.
     *
     * @throws CriskException        the file is not a state, or was saved under another
     *                               policy (CRISK_E_FORMAT / CRISK_E_INVALID_ARGUMENT),
     *                               naming it
     * @throws IllegalStateException the bundle is closed
     */
    public LaneState stream(Path path) {
        Objects.requireNonNull(path, "path");
        if (!Files.exists(path))
            return stream();
        return new LaneState(handle.use(false, h -> CriskNative.lane_state_load(
            h, path.toString())));
    }

    /**
     * Reads {@code events} once for scoring one declaration a call ({@link EventIndex}):
     * every accepted event is kept, and the refused ones are listed.
     *
     * @throws CriskException        the file cannot be read (CRISK_E_IO), or holds more
     *                               than the limits (CRISK_E_LIMIT)
     * @throws IllegalStateException the bundle or the events' device keys are closed
     */
    public EventIndex loadEvents(Events events) {
        Objects.requireNonNull(events, "events");
        return new EventIndex(this, handle.use(false, h -> events.read(
            CriskNative.crisk_bundle_schema(h), null)));
    }

    /** As {@link #decider(LaneState, EventIndex, LocalDate)}, with profiles judged by each
     *  declaration's own date. */
    public Decider decider(LaneState state, EventIndex events) {
        return decider(state, events, null);
    }

    /**
     * Returns a {@link Decider}: one declaration a call, in stream mode against
     * {@code state}, with the event features built from {@code events}.
     *
     * @param state  the stream's lane state ({@link #stream()}), or null: each declaration
     *               is a batch of its own, which a policy with a budget refuses
     * @param events events read by {@link #loadEvents(Events)} of this bundle, or null:
     *               none (event features NaN)
     * @param today  the date that decides which risk profiles are active; null: each
     *               declaration's own date
     * @throws IllegalArgumentException the events were read by another bundle
     * @throws IllegalStateException    the bundle is closed
     */
    public Decider decider(LaneState state, EventIndex events, LocalDate today) {
        if (events != null && events.bundle() != this)
            throw new IllegalArgumentException("the event index was read by another bundle");
        return new Decider(this, handle.use(false, h -> CriskNative.batch_new(
            CriskNative.crisk_bundle_schema(h))), state, events, today);
    }

    /** Returns an empty decision of this bundle's lanes and models. */
    Decision newDecision() {
        return new Decision(this, lanes, modelNames, modelOutputs);
    }

    /** Returns the bundle's handle, for a call holding it (Decider). */
    Handle<SWIGTYPE_p_crisk_bundle> handle() {
        return handle;
    }

    /** Returns the schema's field names, in the schema's order. */
    public List<String> fieldNames() {
        return fields;
    }

    /** Returns the model names, in manifest order (the order of scores per row). */
    public List<String> modelNames() {
        return modelNames;
    }

    /** Returns the lane names, most severe first. */
    public List<String> lanes() {
        return lanes;
    }

    /** As {@link #score(List, int, LocalDate)} on the calling thread, with profiles
     *  judged by each declaration's own date. */
    public BundleScores score(List<? extends Map<String, String>> records) {
        return score(records, 1, null);
    }

    /** As {@link #score(List, int, LocalDate, Pool, int, Events, LaneState)} on the
     *  calling thread, with profiles judged by each declaration's own date, in stream mode
     *  against {@code state}. */
    public BundleScores score(List<? extends Map<String, String>> records, LaneState state) {
        Objects.requireNonNull(state, "state");
        return score(records, 1, null, null, 0, null, state);
    }

    /** As {@link #score(Path, int, LocalDate, Pool, int, Events, LaneState)} on the
     *  calling thread, with profiles judged by each declaration's own date, the budget
     *  applying to the file as one batch. */
    public BundleScores score(Path input) {
        return score(input, 1, null, null, 0, null, null);
    }

    /** As {@link #score(Path, int, LocalDate, Pool, int, Events, LaneState)} on the
     *  calling thread, with profiles judged by each declaration's own date, in stream mode
     *  against {@code state}. */
    public BundleScores score(Path input, LaneState state) {
        Objects.requireNonNull(state, "state");
        return score(input, 1, null, null, 0, null, state);
    }

    /**
     * Scores the declarations of a CSV or JSON Lines file (the format by its extension:
     * .csv, .jsonl or .ndjson), read by the library's declaration reader as
     * {@code crisk score} reads it (docs/schema.md: unknown columns ignored, a required
     * field with no column an error). A rejected row is kept in
     * {@link BundleScores#rejects()}: its row is its position among the file's rows
     * (header excluded), its reason names the file and line; {@code inputRow(i)} is a
     * scored row's position. The file is read whole into memory. The other arguments as
     * in {@link #score(List, int, LocalDate, Pool, int, Events, LaneState)}.
     *
     * @throws CriskException the file cannot be read (CRISK_E_IO), has no format by its
     *                        extension (CRISK_E_INVALID_ARGUMENT) or a bad header
     *                        (CRISK_E_INPUT), naming it; as for records otherwise
     */
    public BundleScores score(Path input, int threads, LocalDate today, Pool pool,
                              int explain, Events events, LaneState state) {
        Objects.requireNonNull(input, "input");
        String path = input.toString();
        return score(schema -> {
            SWIGTYPE_p_decl_file f = CriskNative.decl_file_read_all(schema, path);
            List<BundleScores.Reject> rejects = new ArrayList<>();
            for (int k = 0; k < CriskNative.decl_file_num_rejects(f); k++)
                rejects.add(new BundleScores.Reject(
                    Math.toIntExact(CriskNative.decl_file_reject_row(f, k)),
                    path + " line " + CriskNative.decl_file_reject_line(f, k) + ": "
                        + CriskNative.decl_file_reject_reason(f, k)));
            return new Source(CriskNative.decl_file_batch(f), rejects,
                              () -> CriskNative.decl_file_free(f));
        }, threads, today, pool, explain, events, state);
    }

    /** As {@link #score(List, int, LocalDate, Pool, int, Events)} on the calling thread,
     *  with profiles judged by each declaration's own date, and the events of the JSON
     *  Lines file {@code events} verified with {@code keys} ({@link Events#file}). */
    public BundleScores score(List<? extends Map<String, String>> records, Path events,
                              DeviceKeys keys) {
        return score(records, 1, null, null, 0, Events.file(events, keys));
    }

    /** As {@link #score(List, Path, DeviceKeys)}, with the events given as lines, element r
     *  being line r + 1 ({@link Events#lines}). */
    public BundleScores score(List<? extends Map<String, String>> records,
                              List<String> events, DeviceKeys keys) {
        return score(records, 1, null, null, 0, Events.lines(events, keys));
    }

    /** As {@link #score(List, int, LocalDate, Pool)} without a pool. */
    public BundleScores score(List<? extends Map<String, String>> records, int threads,
                              LocalDate today) {
        return score(records, threads, today, null);
    }

    /** As {@link #score(List, int, LocalDate, Pool, int)} without reason codes. */
    public BundleScores score(List<? extends Map<String, String>> records, int threads,
                              LocalDate today, Pool pool) {
        return score(records, threads, today, pool, 0);
    }

    /** As {@link #score(List, int, LocalDate, Pool, int, Events)} without events: the
     *  event features are NaN. */
    public BundleScores score(List<? extends Map<String, String>> records, int threads,
                              LocalDate today, Pool pool, int explain) {
        return score(records, threads, today, pool, explain, null);
    }

    /** As {@link #score(List, int, LocalDate, Pool, int, Events, LaneState)}, the budget
     *  applying to these records as one batch. */
    public BundleScores score(List<? extends Map<String, String>> records, int threads,
                              LocalDate today, Pool pool, int explain, Events events) {
        return score(records, threads, today, pool, explain, events, null);
    }

    /**
     * Scores declarations given as records (field name to text value). Without a state
     * the inspection budget applies to these records as one batch, and a batch too small
     * for a budget share (share &times; records &lt; 1) is refused; with one, they are
     * decided in order against its window, which they update (stream mode).
     *
     * @param threads 1: the calling thread (default); 0: every core (with a pool: every
     *                thread of the pool); N
     * @param today   the date that decides which risk profiles are active; null: each
     *                declaration's own date
     * @param pool    the {@link Pool} whose threads serve the call, or null (a call of
     *                several threads then starts and joins its own)
     * @param explain K &gt; 0: keep each declaration's top K reason codes (see
     *                {@link BundleScores}; {@code crisk score --explain K}); 0: none
     * @param events  border sensor events to build the event features from, read for
     *                these declarations ({@code crisk score --events --device-keys});
     *                null: none (event features NaN)
     * @param state   the stream's lane state ({@link #stream()}), or null: batch mode
     * @throws IllegalArgumentException threads or explain is negative
     * @throws IllegalStateException    the bundle is closed, or the pool is, or the
     *                                  events' device keys are, or the state is
     * @throws CriskException           the policy has a budget, there is no state and
     *                                  the batch is too small for a share
     *                                  (CRISK_E_INVALID_ARGUMENT, naming the lane and
     *                                  stream mode); a state made for another policy
     *                                  (CRISK_E_INVALID_ARGUMENT);
     *                                  explain &gt; 0 and the policy has no score model
     *                                  (CRISK_E_INVALID_ARGUMENT), or one with several
     *                                  margins (CRISK_E_UNSUPPORTED); the events' file
     *                                  cannot be read (CRISK_E_IO) or holds more than the
     *                                  limits (CRISK_E_LIMIT)
     */
    public BundleScores score(List<? extends Map<String, String>> records, int threads,
                              LocalDate today, Pool pool, int explain, Events events,
                              LaneState state) {
        Objects.requireNonNull(records, "records");
        return score(records.size(), Declarations.ofRecords(records, fields), threads, today,
                     pool, explain, events, state);
    }

    /** As {@link #scoreColumns(Map, int, LocalDate, Pool)} without a pool. */
    public BundleScores scoreColumns(Map<String, List<String>> columns, int threads,
                                     LocalDate today) {
        return scoreColumns(columns, threads, today, null);
    }

    /** As {@link #scoreColumns(Map, int, LocalDate, Pool, int)} without reason codes. */
    public BundleScores scoreColumns(Map<String, List<String>> columns, int threads,
                                     LocalDate today, Pool pool) {
        return scoreColumns(columns, threads, today, pool, 0);
    }

    /** As {@link #scoreColumns(Map, int, LocalDate, Pool, int, Events)} without events. */
    public BundleScores scoreColumns(Map<String, List<String>> columns, int threads,
                                     LocalDate today, Pool pool, int explain) {
        return scoreColumns(columns, threads, today, pool, explain, null);
    }

    /** As {@link #scoreColumns(Map, int, LocalDate, Pool, int, Events, LaneState)} in
     *  batch mode. */
    public BundleScores scoreColumns(Map<String, List<String>> columns, int threads,
                                     LocalDate today, Pool pool, int explain, Events events) {
        return scoreColumns(columns, threads, today, pool, explain, events, null);
    }

    /**
     * Scores declarations given as columns: field name to the values of every
     * declaration, all of one length. A field without a column is missing throughout.
     * Threads, today, pool, explain, events and state as in
     * {@link #score(List, int, LocalDate, Pool, int, Events, LaneState)}.
     *
     * @throws IllegalArgumentException columns of different lengths
     * @throws IllegalStateException    the bundle is closed, or the pool is, or the
     *                                  events' device keys are, or the state is
     */
    public BundleScores scoreColumns(Map<String, List<String>> columns, int threads,
                                     LocalDate today, Pool pool, int explain, Events events,
                                     LaneState state) {
        Objects.requireNonNull(columns, "columns");
        int n = -1;
        List<List<String>> byField = new ArrayList<>();
        for (String f : fields) {
            List<String> col = columns.get(f);
            byField.add(col);
            if (col != null) {
                if (n >= 0 && col.size() != n)
                    throw new IllegalArgumentException("column " + f + " has " + col.size()
                                                       + " values, another has " + n);
                n = col.size();
            }
        }
        return score(Math.max(n, 0), (r, j) -> byField.get(j) == null ? null
                                                : byField.get(j).get(r), threads, today,
                     pool, explain, events, state);
    }

    /** A filled batch, the rows it refused, and what frees the batch. */
    private record Source(SWIGTYPE_p_crisk_batch batch, List<BundleScores.Reject> rejects,
                          Runnable free) {
    }

    /**
     * Compares declarations with the bundle's reference distributions, as
     * {@code crisk monitor} does: the population stability index, noise, missing and unseen
     * shares and level of every schema feature and model score, worst first. Rejected
     * records are not counted; their number is {@code records.size()} minus the rows the
     * items were computed on.
     *
     * @param events border sensor events for the event features, or null (NaN)
     * @throws CriskException the bundle has no reference distributions
     *                        (CRISK_E_UNSUPPORTED) or they are invalid (CRISK_E_FORMAT)
     */
    public List<DriftItem> monitor(List<? extends Map<String, String>> records, Events events) {
        Objects.requireNonNull(records, "records");
        return withSource(rows(records.size(), Declarations.ofRecords(records, fields)), events,
                          (h, batch, rejects, eventRejects) -> drift(h, batch));
    }

    /**
     * As {@link #monitor(List, Events)}, in stream mode: adds the declarations to
     * {@code state}'s counts and returns the items of all it holds (the window's, or every
     * declaration added since it was made), as {@code crisk monitor --state FILE} does.
     *
     * @throws IllegalArgumentException {@code state} was made by another bundle
     * @throws IllegalStateException    the bundle or the state is closed
     */
    public List<DriftItem> monitor(List<? extends Map<String, String>> records, Events events,
                                   DriftState state) {
        Objects.requireNonNull(records, "records");
        Objects.requireNonNull(state, "state");
        return withSource(rows(records.size(), Declarations.ofRecords(records, fields)), events,
                          (h, batch, rejects, eventRejects) ->
                              DriftState.with(state, this, d -> drift(h, batch, d)));
    }

    /**
     * Returns fresh drift counts for stream mode ({@link DriftState}) over the
     * {@code window} most recent declarations (0: every one added).
     *
     * @throws CriskException        the bundle has no reference distributions
     *                               (CRISK_E_UNSUPPORTED) or they are invalid (CRISK_E_FORMAT)
     * @throws IllegalStateException the bundle is closed
     */
    public DriftState monitorStream(long window) {
        return monitorStream(ref -> CriskNative.drift_new(ref, window));
    }

    /**
     * Returns the drift counts saved at {@code path} ({@link DriftState#save}) when the
     * file exists (their own window kept), else fresh counts over {@code window}, as
     * {@code crisk monitor --state FILE --window N} does.
     *
     * @throws CriskException        as {@link #monitorStream(long)}; or the file is
     *                               malformed (CRISK_E_FORMAT) or was saved with another
     *                               bundle (CRISK_E_INTEGRITY), naming it
     */
    public DriftState monitorStream(Path path, long window) {
        Objects.requireNonNull(path, "path");
        return Files.exists(path)
            ? monitorStream(ref -> CriskNative.drift_load(ref, path.toString()))
            : monitorStream(window);
    }

    /** Loads the reference and makes counts against it with `counts`. */
    private DriftState monitorStream(
            Function<SWIGTYPE_p_crisk_reference, SWIGTYPE_p_crisk_drift> counts) {
        return new DriftState(this, handle.use(false, h -> {
            SWIGTYPE_p_crisk_reference ref = CriskNative.reference_load(h);
            try {
                return new DriftState.Native(ref, counts.apply(ref));
            } catch (RuntimeException e) {
                CriskNative.crisk_reference_free(ref);
                throw e;
            }
        }));
    }

    /** Runs `call` with the C bundle (for a state whose counts point into it). */
    <T> T use(Function<SWIGTYPE_p_crisk_bundle, T> call) {
        return handle.use(false, call);
    }

    /** Scores `batch` and counts it against the bundle's reference; returns the items. */
    private static List<DriftItem> drift(SWIGTYPE_p_crisk_bundle b, SWIGTYPE_p_crisk_batch batch) {
        SWIGTYPE_p_crisk_reference ref = CriskNative.reference_load(b);
        SWIGTYPE_p_crisk_drift d = null;
        try {
            d = CriskNative.drift_new(ref, 0);
            return drift(b, batch, d);
        } finally {
            if (d != null)
                CriskNative.crisk_drift_free(d);
            CriskNative.crisk_reference_free(ref);
        }
    }

    /** Scores `batch`, adds it to the counts `d`; returns their items, worst first. */
    private static List<DriftItem> drift(SWIGTYPE_p_crisk_bundle b, SWIGTYPE_p_crisk_batch batch,
                                         SWIGTYPE_p_crisk_drift d) {
        // Drift needs the scores, not the lanes: a throwaway lane state decides those, so
        // that a batch too small for the policy's budget shares is still counted.
        SWIGTYPE_p_crisk_lane_state lanes = CriskNative.lane_state_new(b);
        SWIGTYPE_p_crisk_results res = null;
        try {
            res = CriskNative.bundle_score_stream(b, batch, 1, null, 0, 0, lanes, 0);
            CriskNative.crisk_drift_add(d, batch, res);
        } finally {
            if (res != null)
                CriskNative.crisk_results_free(res);
            CriskNative.crisk_lane_state_free(lanes);
        }
        List<DriftItem> items = new ArrayList<>();
        for (long i = 0; i < CriskNative.crisk_drift_num_items(d); i++)
            items.add(DriftItem.of(d, i));
        items.sort(DriftItem::worstFirst);
        return Collections.unmodifiableList(items);
    }

    /** What is done with a filled batch: the C bundle, the batch, its rejected rows and
     *  refused events. */
    private interface BatchUse<T> {
        T apply(SWIGTYPE_p_crisk_bundle b, SWIGTYPE_p_crisk_batch batch,
                List<BundleScores.Reject> rejects, List<Events.Reject> eventRejects);
    }

    /** Appends every row to a batch (recording rejects), then scores it. */
    private BundleScores score(int n, Declarations.Cells cells, int threads,
                               LocalDate today, Pool pool, int explain, Events events,
                               LaneState state) {
        return score(rows(n, cells), threads, today, pool, explain, events, state);
    }

    /** The source that appends `n` rows of `cells` to a new batch, recording rejects. */
    private Function<SWIGTYPE_p_crisk_schema, Source> rows(int n, Declarations.Cells cells) {
        return schema -> {
            SWIGTYPE_p_crisk_batch batch = CriskNative.batch_new(schema);
            List<BundleScores.Reject> rejects = new ArrayList<>();
            try {
                Declarations.append(batch, fields.size(), n, cells, rejects);
            } catch (RuntimeException e) {
                CriskNative.crisk_batch_free(batch);
                throw e;
            }
            return new Source(batch, rejects, () -> CriskNative.crisk_batch_free(batch));
        };
    }

    /** Fills a batch with {@code read}, scores it (against the state when not null),
     *  copies the results. */
    private BundleScores score(Function<SWIGTYPE_p_crisk_schema, Source> read, int threads,
                               LocalDate today, Pool pool, int explain, Events events,
                               LaneState state) {
        if (threads < 0)
            throw new IllegalArgumentException("threads must be >= 0, not " + threads);
        if (explain < 0)
            throw new IllegalArgumentException("explain must be >= 0, not " + explain);
        return withSource(read, events, (h, batch, rejects, eventRejects) ->
            LaneState.with(state, s -> collect(h, batch, rejects, eventRejects, threads, today,
                                               pool, explain, s)));
    }

    /** Fills a batch with {@code read}, joins the events (when not null) to it and hands
     *  it to `use`. */
    private <T> T withSource(Function<SWIGTYPE_p_crisk_schema, Source> read, Events events,
                             BatchUse<T> use) {
        return handle.use(false, h -> {
            SWIGTYPE_p_crisk_schema schema = CriskNative.crisk_bundle_schema(h);
            Source source = read.apply(schema);
            SWIGTYPE_p_crisk_events joined = null;
            try {
                // After the rows: the events kept are those the batch's rows can use.
                joined = events == null ? null : events.join(schema, source.batch());
                List<Events.Reject> eventRejects =
                    joined == null ? List.of() : Events.rejects(joined);
                return use.apply(h, source.batch(), source.rejects(), eventRejects);
            } finally {
                source.free().run();
                if (joined != null)   // after the batch: events must outlive their join
                    CriskNative.crisk_events_free(joined);
            }
        });
    }

    /** Scores the filled batch with the C bundle `b` (with the pool's threads when there is
     * one; with `explain` reason codes per declaration; against the C lane state `state`
     * when not null) and copies the results, mapping them back to input rows past the
     * rejects, with the refused events `eventRejects`. */
    private BundleScores collect(SWIGTYPE_p_crisk_bundle b, SWIGTYPE_p_crisk_batch batch,
                                 List<BundleScores.Reject> rejects,
                                 List<Events.Reject> eventRejects, int threads,
                                 LocalDate today, Pool pool, int explain,
                                 SWIGTYPE_p_crisk_lane_state state) {
        SWIGTYPE_p_crisk_results res = Pool.with(pool, p -> CriskNative.bundle_score_stream(
            b, batch, threads, p, today == null ? 0 : 1,
            today == null ? 0 : today.toEpochDay(), state, explain));
        try {
            int size = Math.toIntExact(CriskNative.crisk_results_size(res));
            int width = 0;
            for (int outputs : modelOutputs)
                width += outputs;
            float[] scores = new float[Math.multiplyExact(size, width)];
            int[] ints = new int[size * 3];
            byte[] text = new byte[size * REASON_BYTES];
            CriskNative.results_collect(b, res, scores, ints);
            CriskNative.results_reasons(res, text);
            int[] inputRows = new int[size];
            String[] laneOf = new String[size];
            String[] reasons = new String[size];
            BundleScores.ReasonKind[] kinds = new BundleScores.ReasonKind[size];
            List<List<String>> hits = new ArrayList<>(size);
            double[] propensities = new double[size];
            for (int i = 0, row = 0, rej = 0; i < size; i++, row++) {
                while (rej < rejects.size() && rejects.get(rej).row() == row) {
                    rej++;
                    row++;
                }
                inputRows[i] = row;
                int lane = ints[3 * i];
                laneOf[i] = lane < lanes.size() ? lanes.get(lane) : null;
                int len = 0;
                while (len < REASON_BYTES && text[i * REASON_BYTES + len] != 0)
                    len++;
                reasons[i] = new String(text, i * REASON_BYTES, len, StandardCharsets.UTF_8);
                kinds[i] = BundleScores.ReasonKind.of(ints[3 * i + 1]);
                List<String> h = new ArrayList<>();
                for (int k = 0; k < ints[3 * i + 2]; k++)
                    h.add(CriskNative.crisk_results_hit_id(res, i, k));
                hits.add(Collections.unmodifiableList(h));
                propensities[i] = CriskNative.crisk_results_propensity(res, i);
            }
            BundleReasons codes = explain == 0 ? BundleReasons.NONE
                : BundleReasons.copy(b, res, size, explain, fields);
            return new BundleScores(modelNames, modelOutputs, inputRows, scores, laneOf,
                                    reasons, kinds, hits, propensities, rejects, eventRejects,
                                    codes);
        } finally {
            CriskNative.crisk_results_free(res);
        }
    }

    /** Frees the C bundle, after the calls already running. Idempotent; any thread. */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        return "crisk.Bundle[models " + modelNames + ", lanes " + lanes + ", "
            + fields.size() + " fields]";
    }
}
