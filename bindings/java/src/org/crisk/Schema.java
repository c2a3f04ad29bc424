package org.crisk;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A declaration schema (docs/schema.md): the fields of a declaration, the features built
 * from them, and the fitted tables those features need (category dictionaries, risk
 * rates, unit-value bands). The operations of the Python binding's {@code crisk.Schema}:
 * load a schema file, {@link #fit} its tables from labelled declarations, build the
 * out-of-fold {@link #trainingMatrix} to train a model on, build the {@link #features} a
 * bundle scores with, and {@link #save} the fitted file a bundle names.
 *
 * <pre>{@code
 * try (Schema schema = Schema.load(Path.of("schema.json"))) {
 *     schema.fit(Path.of("train.csv"), "fraud", FitOptions.DEFAULT);   // or .jsonl
 *     float[] x = schema.trainingMatrix(Path.of("train.csv"), "fraud", FitOptions.DEFAULT);
 *     schema.save(Path.of("bundle/schema.json"));
 * }
 * }</pre>
 *
 * <p>Declarations come from a CSV or JSON Lines file (the format by the extension: .csv,
 * .jsonl, .ndjson; read as {@code crisk fit} reads it, the label a column or key holding
 * 0 or 1), or as text records ({@code Map<String,String>}, field name to value, as
 * {@link Bundle#score} takes them) with a {@code float[]} of labels. Matrices are
 * row-major {@code float[]}s of {@code rows x numFeatures()}, NaN for missing, in
 * {@link #featureNames()} order. Every row must be valid: unlike {@link Bundle#score},
 * which reports rejected rows and goes on, a rejected row throws CRISK_E_INPUT naming it
 * (its line in a file, its position in a list), since a silently shortened table would
 * misalign labels and matrix rows.
 *
 * <p><b>Threads.</b> {@link #fit} changes the schema: it waits for the calls running and
 * runs alone. Any number of threads may build matrices or save at once. {@link #close()}
 * waits as {@link Model#close()} does; a call that starts afterwards throws
 * {@link IllegalStateException}. A {@link java.lang.ref.Cleaner} frees an unclosed schema
 * as a safety net only.
 */
public final class Schema implements AutoCloseable {
    private final SWIGTYPE_p_crisk_schema handle;   // for calls under owner.use only
    private final Handle<SWIGTYPE_p_crisk_schema> owner;
    private final List<String> fields;
    private final List<String> features;

    /** One native call with a batch of declarations. */
    private interface BatchCall<T> {
        T run(SWIGTYPE_p_crisk_batch batch);
    }

    /** One native call with the declarations of a file. */
    private interface FileCall<T> {
        T run(SWIGTYPE_p_decl_file file);
    }

    private Schema(SWIGTYPE_p_crisk_schema handle) {
        this.handle = handle;
        this.owner = new Handle<>(handle, CriskNative::crisk_schema_free, "schema");
        this.fields = Names.of(CriskNative.crisk_schema_num_fields(handle),
                               i -> CriskNative.crisk_schema_field_name(handle, i));
        this.features = Names.of(CriskNative.crisk_schema_num_features(handle),
                                 i -> CriskNative.crisk_schema_feature_name(handle, i));
    }

    /**
     * Loads the schema file at {@code path}, fitted or not (a schema without fitted tables
     * builds only the features that need none until {@link #fit}).
     *
     * @throws CriskException the file is missing or not a valid schema; the message names
     *                        the JSON path
     */
    public static Schema load(Path path) {
        Objects.requireNonNull(path, "path");
        return new Schema(CriskNative.schema_load(path.toString()));
    }

    /** Returns the declaration field names, in the schema's order. */
    public List<String> fieldNames() {
        return fields;
    }

    /** Returns the feature names, in the order of a matrix's columns. */
    public List<String> featureNames() {
        return features;
    }

    /** Returns the number of features: the width of a matrix row. */
    public int numFeatures() {
        return features.size();
    }

    /** As {@link #fit(Path, String, FitOptions)} with {@link FitOptions#DEFAULT}. */
    public Schema fit(Path file, String label) {
        return fit(file, label, FitOptions.DEFAULT);
    }

    /**
     * Fits the tables from the declarations of a CSV or JSON Lines file whose column (or
     * key) {@code label} holds each one's 0 or 1, replacing any fitted state; the same
     * tables {@code crisk fit} writes for the same file and options. Returns this schema.
     *
     * @throws CriskException CRISK_E_IO (unreadable), CRISK_E_INPUT (a bad header or a
     *                        rejected row, named with its line), CRISK_E_INVALID_ARGUMENT
     * @throws IllegalStateException the schema is closed
     */
    public Schema fit(Path file, String label, FitOptions options) {
        Objects.requireNonNull(options, "options");
        return fromFile(file, label, true, f -> {
            CriskNative.decl_file_fit(handle, f, options.folds(), options.seed(),
                                      options.smoothing());
            return this;
        });
    }

    /** As {@link #fit(List, float[], FitOptions)} with {@link FitOptions#DEFAULT}. */
    public Schema fit(List<? extends Map<String, String>> records, float[] labels) {
        return fit(records, labels, FitOptions.DEFAULT);
    }

    /**
     * Fits the tables from declarations given as records and their labels
     * ({@code labels[i]}, 0 or 1, for {@code records.get(i)}), replacing any fitted
     * state. Returns this schema.
     *
     * @throws CriskException CRISK_E_INPUT naming the first rejected record,
     *                        CRISK_E_INVALID_ARGUMENT (labels not one per record, not 0/1)
     * @throws IllegalStateException the schema is closed
     */
    public Schema fit(List<? extends Map<String, String>> records, float[] labels,
                      FitOptions options) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(options, "options");
        return fromRecords(records, true, b -> {
            CriskNative.schema_fit(handle, b, labels, options.folds(), options.seed(),
                                   options.smoothing());
            return this;
        });
    }

    /**
     * Returns the training matrix of a file's declarations: every feature as
     * {@link #features} builds it, except that each row's risk features come from tables
     * fitted on the other folds only, so a row's own label does not leak into them. Use
     * the options of the fit. {@code rows x numFeatures()} floats, row-major, in file
     * order (as {@code crisk fit --matrix} writes them).
     *
     * @throws CriskException as {@link #fit(Path, String, FitOptions)}
     */
    public float[] trainingMatrix(Path file, String label, FitOptions options) {
        Objects.requireNonNull(options, "options");
        return fromFile(file, label, false, f -> {
            float[] out = new float[matrixLength(CriskNative.decl_file_size(f))];
            CriskNative.decl_file_training_matrix(handle, f, options.folds(), options.seed(),
                                                  options.smoothing(), out);
            return out;
        });
    }

    /** Returns the training matrix of records and their labels; see
     *  {@link #trainingMatrix(Path, String, FitOptions)}. */
    public float[] trainingMatrix(List<? extends Map<String, String>> records, float[] labels,
                                  FitOptions options) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(options, "options");
        return fromRecords(records, false, b -> {
            float[] out = new float[matrixLength(CriskNative.crisk_batch_size(b))];
            CriskNative.schema_training_matrix_array(handle, b, labels, options.folds(),
                                                     options.seed(), options.smoothing(), out);
            return out;
        });
    }

    /**
     * Returns the scoring features of a file's declarations from the fitted tables
     * ({@code rows x numFeatures()} floats, row-major, in file order), as a bundle with
     * this schema builds them ({@code crisk fit --features}).
     *
     * @throws CriskException CRISK_E_INVALID_ARGUMENT naming a feature whose tables are not
     *                        fitted yet; otherwise as {@link #fit(Path, String, FitOptions)}
     */
    public float[] features(Path file) {
        return fromFile(file, "", false, f -> {
            float[] out = new float[matrixLength(CriskNative.decl_file_size(f))];
            CriskNative.schema_features_array(handle, CriskNative.decl_file_batch(f), out);
            return out;
        });
    }

    /** Returns the scoring features of declarations given as records; see
     *  {@link #features(Path)}. */
    public float[] features(List<? extends Map<String, String>> records) {
        return fromRecords(records, false, b -> {
            float[] out = new float[matrixLength(CriskNative.crisk_batch_size(b))];
            CriskNative.schema_features_array(handle, b, out);
            return out;
        });
    }

    /**
     * Writes the schema with its fitted tables to {@code path} (JSON), a file that
     * {@link #load} reads back to the same features, bit for bit.
     *
     * @throws CriskException CRISK_E_IO naming the file
     */
    public void save(Path path) {
        Objects.requireNonNull(path, "path");
        locked(false, () -> {
            CriskNative.crisk_schema_save(handle, path.toString());
            return null;
        });
    }

    /** Frees the C schema, after the calls already running. Idempotent; any thread. */
    @Override
    public void close() {
        owner.close();
    }

    @Override
    public String toString() {
        return "crisk.Schema[" + fields.size() + " fields, " + features.size() + " features "
            + features.subList(0, Math.min(4, features.size()))
            + (features.size() > 4 ? "...]" : "]");
    }

    /** Runs `call` under the write lock (`exclusive`: it changes the schema) or the read
     *  lock, on a schema that is not closed (Handle.use). */
    private <T> T locked(boolean exclusive, java.util.function.Supplier<T> call) {
        return owner.use(exclusive, h -> call.get());
    }

    /** Reads `file` (with the labels of column `label`, "" for none) and runs `call` on
     *  it, then frees it. */
    private <T> T fromFile(Path file, String label, boolean exclusive, FileCall<T> call) {
        Objects.requireNonNull(file, "file");
        Objects.requireNonNull(label, "label");
        return locked(exclusive, () -> {
            SWIGTYPE_p_decl_file f = CriskNative.decl_file_read(handle, file.toString(), label);
            try {
                return call.run(f);
            } finally {
                CriskNative.decl_file_free(f);
            }
        });
    }

    /** Appends `records` to a new batch (the first rejected one throws) and runs `call`
     *  on it, then frees it. */
    private <T> T fromRecords(List<? extends Map<String, String>> records, boolean exclusive,
                              BatchCall<T> call) {
        Declarations.Cells cells = Declarations.ofRecords(records, fields);
        return locked(exclusive, () -> {
            SWIGTYPE_p_crisk_batch batch = CriskNative.batch_new(handle);
            try {
                Declarations.append(batch, fields.size(), records.size(), cells, null);
                return call.run(batch);
            } finally {
                CriskNative.crisk_batch_free(batch);
            }
        });
    }

    /** Returns rows x numFeatures(), after checking that one Java array holds it. */
    private int matrixLength(long rows) {
        long n = rows * features.size();
        if (n > Integer.MAX_VALUE - 8)
            throw new IllegalArgumentException(rows + " declarations give " + n
                    + " matrix values, more than one Java array holds: split the input");
        return (int) n;
    }
}
