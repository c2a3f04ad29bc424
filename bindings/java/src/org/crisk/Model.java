package org.crisk;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A risk model loaded by the crisk C library: XGBoost (JSON, UBJSON), LightGBM (text) or
 * crisk logistic (JSON). It scores rows of float features, row-major, NaN meaning missing,
 * exactly as the training library does.
 *
 * <pre>{@code
 * try (Model model = Model.load(Path.of("fraud_xgb.json"))) {
 *     float[] scores = model.predict(rows, nrows);   // rows.length == nrows * numFeatures()
 * }
 * }</pre>
 *
 * <p><b>Threads.</b> A model is immutable once loaded: any number of threads may call
 * {@code predict} on one instance at once, without locking of their own. {@link #close()}
 * may be called from any thread at any time: it waits for the predictions already running
 * (a read-write lock: predictions share it, close takes it alone), then frees the C model;
 * a prediction that starts afterwards throws {@link IllegalStateException}. The accessors
 * ({@link #numFeatures()}, {@link #info()}, ...) keep working after close.
 *
 * <p><b>Memory.</b> The C model lives outside the Java heap. Close it when done
 * (try-with-resources); a {@link java.lang.ref.Cleaner} frees it if an unclosed model
 * becomes unreachable, but only as a safety net, at a time the garbage collector chooses.
 *
 * <p><b>Legacy binary models.</b> XGBoost's old binary format is read through libxgboost,
 * which the JNI library opens at run time for such a model only; without it installed
 * (Debian: libxgboost0) it fails with CRISK_E_DEPENDENCY. Save such models as JSON or UBJSON.
 */
public final class Model implements AutoCloseable {
    private final Handle<SWIGTYPE_p_crisk_model> handle;
    private final ModelInfo info;
    private final int numFeatures;
    private final int numOutputs;
    private final int numMargins;
    private final List<String> featureNames;
    private final List<List<String>> categories;

    /** One native prediction with the live handle and the pool's (null without one). */
    private interface Scoring {
        void run(SWIGTYPE_p_crisk_model handle, SWIGTYPE_p_crisk_pool pool);
    }

    private Model(SWIGTYPE_p_crisk_model handle) {
        this.handle = new Handle<>(handle, CriskNative::crisk_model_free, "model");
        try {
            NativeModelInfo n = new NativeModelInfo();
            try {
                CriskNative.crisk_model_get_info(handle, n);
                this.info = ModelInfo.of(n);
            } finally {
                n.delete();
            }
            this.numFeatures = Math.toIntExact(info.numFeatures());
            this.numOutputs = Math.toIntExact(info.numOutputs());
            this.numMargins = Math.toIntExact(CriskNative.crisk_model_num_margins(handle));
            this.featureNames = readFeatureNames(handle, numFeatures);
            this.categories = readCategories(handle, numFeatures);
        } catch (RuntimeException | Error e) {
            this.handle.close();
            throw e;
        }
    }

    /**
     * Loads the model file at {@code path} (any format crisk recognises from the contents).
     *
     * @throws IOException    the file cannot be read
     * @throws CriskException the contents are not a model crisk can score (CRISK_E_FORMAT,
     *                        CRISK_E_UNSUPPORTED, CRISK_E_LIMIT, ...); its message starts
     *                        with the path, as the C library's {@code crisk_model_load}'s
     */
    public static Model load(Path path) throws IOException {
        byte[] data = Files.readAllBytes(path);
        try {
            return fromBytes(data);
        } catch (CriskException e) {
            throw new CriskException(e.getCode(), e.getErrorName(), path + ": " + e.getDetail());
        }
    }

    /**
     * Loads a model from the bytes of a model file, e.g. one shipped to Spark executors as a
     * broadcast variable. The bytes are not kept.
     *
     * @throws CriskException the bytes are not a model crisk can score
     */
    public static Model fromBytes(byte[] data) {
        Objects.requireNonNull(data, "data");
        return new Model(CriskNative.load_buffer(data));
    }

    /** Returns the version of the C library, "MAJOR.MINOR.PATCH". */
    public static String libraryVersion() {
        return CriskNative.crisk_version_string();
    }

    /** Returns the number of features (floats) each row must have. */
    public int numFeatures() {
        return numFeatures;
    }

    /** Returns the outputs per row of a transformed prediction: 1, or the classes of a
     * multi-class model (multi:softmax outputs the class index, so 1). */
    public int numOutputs() {
        return numOutputs;
    }

    /** Returns the floats each row produces with these options: {@link #numOutputs()}, or
     * with margin output the number of margins (the classes of multi:softmax too). */
    public int outputsPerRow(PredictOptions options) {
        return options.margin() ? numMargins : numOutputs;
    }

    /** Returns the feature names stored in the model file, in column order, or an empty
     * list when the file stores none. */
    public List<String> featureNames() {
        return featureNames;
    }

    /**
     * Returns the category values feature {@code feature} stores (XGBoost 3.1+'s cats,
     * LightGBM's pandas_categorical): the value each category code stands for, in code
     * order, as text (numbers in their shortest form); an empty list when it stores none.
     */
    public List<String> categories(int feature) {
        return categories.get(Objects.checkIndex(feature, numFeatures));
    }

    /**
     * Re-codes a column of category values of feature {@code feature} to the model's codes,
     * by value, for that feature's column of the rows to score: {@code codes[i]} is the code
     * of {@code values[i]}; null is missing (NaN). Never pass codes of one's own category
     * list: the model's codes are the order it was trained with ({@link #categories}). A
     * feature storing numbers matches a value read as a decimal number ("27" is 27).
     *
     * @throws CriskException            CRISK_E_INPUT for a value an XGBoost model never saw
     *                                   (XGBoost refuses it), naming the feature and value; a
     *                                   LightGBM model scores such a value as missing (NaN)
     * @throws IllegalArgumentException  the feature stores no category values
     * @throws IllegalStateException     the model is closed
     */
    public float[] categoryCodes(int feature, String[] values) {
        Objects.requireNonNull(values, "values");
        if (categories(feature).isEmpty()) {
            throw new IllegalArgumentException("feature " + feature
                    + " stores no category values: pass its codes as numbers");
        }
        return handle.use(false, h -> {
            Map<String, Float> seen = new HashMap<>();
            float[] codes = new float[values.length];
            for (int i = 0; i < values.length; i++) {
                String v = values[i];
                codes[i] = v == null ? Float.NaN : seen.computeIfAbsent(v, k ->
                        (float) CriskNative.category_code(h, feature,
                                k.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
            return codes;
        });
    }

    /** Returns the description {@code crisk inspect} prints: format, objective, sizes. */
    public ModelInfo info() {
        return info;
    }

    /** Scores {@code nrows} rows with the default options; see
     * {@link #predict(float[], int, PredictOptions)}. */
    public float[] predict(float[] rows, int nrows) {
        return predict(rows, nrows, PredictOptions.DEFAULT);
    }

    /**
     * Scores {@code nrows} rows stored row-major in {@code rows}, whose length must be
     * {@code nrows * numFeatures()}, and returns {@code nrows * outputsPerRow(options)}
     * floats, row-major. The JVM copies {@code rows} in and the result out once each
     * (JNI Get/ReleaseFloatArrayElements); use the FloatBuffer form to avoid the copies.
     *
     * @throws CriskException         CRISK_E_SHAPE when the row width is not the model's,
     *                                CRISK_E_INVALID_ARGUMENT for a bad iteration range,
     *                                CRISK_E_INPUT for a NaN a logistic model refuses
     * @throws IllegalStateException  the model is closed, or the options' pool is
     */
    public float[] predict(float[] rows, int nrows, PredictOptions options) {
        Objects.requireNonNull(rows, "rows");
        float[] out = new float[outputLength(nrows, options)];
        score(options, (h, p) -> CriskNative.predict_array(h, rows, nrows, out,
                options.threads(), p, options.margin() ? 1 : 0, options.iterationBegin(),
                options.iterationEnd()));
        return out;
    }

    /** Scores into a direct buffer with the default options; see
     * {@link #predict(FloatBuffer, int, FloatBuffer, PredictOptions)}. */
    public void predict(FloatBuffer rows, int nrows, FloatBuffer out) {
        predict(rows, nrows, out, PredictOptions.DEFAULT);
    }

    /**
     * Scores {@code nrows} rows from {@code rows} into {@code out} without copying either:
     * the C library reads and writes the buffers' memory in place.
     *
     * <p>Both must be <b>direct</b> buffers in the <b>native byte order</b>, e.g.
     * {@code ByteBuffer.allocateDirect(4 * n).order(ByteOrder.nativeOrder()).asFloatBuffer()}.
     * A heap buffer is refused with {@link IllegalArgumentException} rather than copied in
     * secret: heap data goes through {@link #predict(float[], int, PredictOptions)}, whose
     * copy is documented. The floats between position and limit are used: {@code rows}
     * must have {@code nrows * numFeatures()} remaining, {@code out} exactly
     * {@code nrows * outputsPerRow(options)}. Neither buffer's position changes.
     *
     * @throws IllegalArgumentException a heap buffer, one not in native byte order, or one
     *                                  not aligned to 4 bytes (a view of a ByteBuffer
     *                                  at an odd offset)
     * @throws ReadOnlyBufferException  {@code out} is read-only
     * @throws CriskException           as for the float[] form; CRISK_E_SHAPE also when
     *                                  {@code out} has the wrong number of floats
     * @throws IllegalStateException    the model is closed
     */
    public void predict(FloatBuffer rows, int nrows, FloatBuffer out, PredictOptions options) {
        FloatBuffer in = nativeView(rows, "rows");
        FloatBuffer dst = nativeView(out, "out");
        if (out.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        outputLength(nrows, options);
        score(options, (h, p) -> CriskNative.predict_into(h, in, nrows, dst,
                options.threads(), p, options.margin() ? 1 : 0, options.iterationBegin(),
                options.iterationEnd()));
    }

    /** Returns the floats {@link #contributions} writes per row: for each margin
     *  (output group) one per feature and the bias, {@code numMargins x (numFeatures() + 1)}
     *  where numMargins is {@code outputsPerRow} with margin output. */
    public int contributionsPerRow() {
        return numMargins * (numFeatures + 1);
    }

    /** Returns the floats {@link #interactions} writes per row:
     *  {@code numMargins x (numFeatures() + 1) x (numFeatures() + 1)}. */
    public long interactionsPerRow() {
        return (long) numMargins * (numFeatures + 1) * (numFeatures + 1);
    }

    /** Explains {@code nrows} rows with the default options; see
     * {@link #contributions(float[], int, PredictOptions)}. */
    public float[] contributions(float[] rows, int nrows) {
        return contributions(rows, nrows, PredictOptions.DEFAULT);
    }

    /**
     * Returns the exact SHAP contributions of {@code nrows} rows (crisk_contributions:
     * TreeSHAP as XGBoost's {@code pred_contribs} and LightGBM's {@code pred_contrib}
     * compute it; coefficient times value for linear models), taking the rows as
     * {@link #predict(float[], int, PredictOptions)} does. The result holds
     * {@code nrows * contributionsPerRow()} floats laid out row, then margin (output
     * group), then feature, the last value of each group being the bias:
     * {@code out[(r * numMargins + g) * (numFeatures() + 1) + j]}. Values are in margin
     * space, so each group's values sum to the row's margin (a prediction with
     * {@code margin(true)}). The options' threads, pool and iteration range apply; its
     * margin flag is ignored.
     *
     * @throws CriskException        as {@code predict}; CRISK_E_UNSUPPORTED for a model
     *                               crisk cannot explain (LightGBM linear trees, a model
     *                               file without internal_count)
     * @throws IllegalStateException the model is closed
     */
    public float[] contributions(float[] rows, int nrows, PredictOptions options) {
        return explainArray(rows, nrows, options, false);
    }

    /**
     * Writes the contributions of {@code nrows} rows from {@code rows} into {@code out}
     * without copying either, with the buffers' rules of
     * {@link #predict(FloatBuffer, int, FloatBuffer, PredictOptions)}: direct, native byte
     * order, the floats between position and limit; {@code out} must have exactly
     * {@code nrows * contributionsPerRow()} remaining, laid out as
     * {@link #contributions(float[], int, PredictOptions)} returns them.
     */
    public void contributions(FloatBuffer rows, int nrows, FloatBuffer out,
                              PredictOptions options) {
        explainInto(rows, nrows, out, options, false);
    }

    /**
     * Returns the SHAP interaction values of {@code nrows} rows (crisk_interactions,
     * XGBoost's {@code pred_interactions} layout): {@code nrows * interactionsPerRow()}
     * floats, per row and margin a {@code (numFeatures() + 1)} square matrix whose line
     * {@code i} sums to feature i's contribution, the last diagonal entry being the bias.
     * Its cost grows as the cube of the features on a tree path: for small models and few
     * rows. Otherwise as {@link #contributions(float[], int, PredictOptions)}.
     */
    public float[] interactions(float[] rows, int nrows, PredictOptions options) {
        return explainArray(rows, nrows, options, true);
    }

    /** Writes the interaction values of {@code nrows} rows into {@code out} without
     * copying, as {@link #contributions(FloatBuffer, int, FloatBuffer, PredictOptions)}
     * writes contributions; {@code out} must have exactly
     * {@code nrows * interactionsPerRow()} remaining. */
    public void interactions(FloatBuffer rows, int nrows, FloatBuffer out,
                             PredictOptions options) {
        explainInto(rows, nrows, out, options, true);
    }

    /**
     * Frees the C model, after waiting for the predictions already running. Idempotent;
     * later predictions throw {@link IllegalStateException}.
     */
    @Override
    public void close() {
        handle.close();
    }

    @Override
    public String toString() {
        String shape = info.numTrees() > 0 ? info.numTrees() + " trees" : "linear";
        return "crisk.Model[" + info.format() + " " + info.booster() + " '" + info.objective()
                + "': " + shape + ", " + numFeatures + " features, " + numOutputs
                + " output(s)" + (isClosed() ? ", closed]" : "]");
    }

    /** Returns whether {@link #close()} has been called. */
    public boolean isClosed() {
        return handle.isClosed();
    }

    /** Runs one prediction on a model that is not closed (Handle.use: close() waits for
     * it), with the options' pool held open (Pool.with). */
    private void score(PredictOptions options, Scoring scoring) {
        handle.use(false, h -> Pool.with(options.pool(), p -> {
            scoring.run(h, p);
            return null;
        }));
    }

    /** Contributions (or interactions) into a new float[]. */
    private float[] explainArray(float[] rows, int nrows, PredictOptions options,
                                 boolean interactions) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(options, "options");
        float[] out = new float[arrayLength(nrows,
                interactions ? interactionsPerRow() : contributionsPerRow())];
        score(options, (h, p) -> CriskNative.explain_array(h, rows, nrows, out,
                options.threads(), p, interactions ? 1 : 0, options.iterationBegin(),
                options.iterationEnd()));
        return out;
    }

    /** Contributions (or interactions) between direct buffers. */
    private void explainInto(FloatBuffer rows, int nrows, FloatBuffer out,
                             PredictOptions options, boolean interactions) {
        Objects.requireNonNull(options, "options");
        FloatBuffer in = nativeView(rows, "rows");
        FloatBuffer dst = nativeView(out, "out");
        if (out.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        if (nrows < 0) {
            throw new IllegalArgumentException("nrows must be >= 0, not " + nrows);
        }
        score(options, (h, p) -> CriskNative.explain_into(h, in, nrows, dst,
                options.threads(), p, interactions ? 1 : 0, options.iterationBegin(),
                options.iterationEnd()));
    }

    /** Checks nrows and returns the output length nrows * outputsPerRow(options). */
    private int outputLength(int nrows, PredictOptions options) {
        Objects.requireNonNull(options, "options");
        return arrayLength(nrows, outputsPerRow(options));
    }

    /** Checks nrows and returns nrows * perRow, the length of a Java array of results. */
    private static int arrayLength(int nrows, long perRow) {
        if (nrows < 0) {
            throw new IllegalArgumentException("nrows must be >= 0, not " + nrows);
        }
        long max = Integer.MAX_VALUE - 8;
        if (perRow > 0 && nrows > max / perRow) {
            throw new IllegalArgumentException(nrows + " rows give " + perRow
                    + " outputs each, more than one Java array holds: score in batches");
        }
        return (int) (nrows * perRow);
    }

    /** Returns a view of buffer's remaining floats (GetDirectBufferAddress ignores the
     * position), after checking that the C library can use its memory as floats. */
    private static FloatBuffer nativeView(FloatBuffer buffer, String what) {
        Objects.requireNonNull(buffer, what);
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException(what + " is a heap FloatBuffer: pass a direct"
                    + " one, or a float[] to predict(float[], int, PredictOptions), which copies");
        }
        if (buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(what + " is in " + buffer.order()
                    + " byte order, not the native " + ByteOrder.nativeOrder()
                    + ": build it with ByteBuffer.order(ByteOrder.nativeOrder())");
        }
        return buffer.slice();
    }

    /** Returns each feature's stored category values (empty lists where none). */
    private static List<List<String>> readCategories(SWIGTYPE_p_crisk_model handle, int n) {
        List<List<String>> all = new ArrayList<>(n);
        for (int f = 0; f < n; f++) {
            int count = Math.toIntExact(CriskNative.crisk_model_num_categories(handle, f));
            List<String> values = new ArrayList<>(count);
            for (int c = 0; c < count; c++) {
                values.add(CriskNative.crisk_model_category(handle, f, c));
            }
            all.add(Collections.unmodifiableList(values));
        }
        return Collections.unmodifiableList(all);
    }

    /** Returns the model's feature names, or an empty list unless it names every one. */
    private static List<String> readFeatureNames(SWIGTYPE_p_crisk_model handle, int n) {
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String name = CriskNative.crisk_model_feature_name(handle, i);
            if (name == null) {
                return Collections.emptyList();
            }
            names.add(name);
        }
        return Collections.unmodifiableList(names);
    }
}
