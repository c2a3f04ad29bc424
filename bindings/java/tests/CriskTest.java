package org.crisk.test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertNotEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.crisk.CriskException;
import org.crisk.Model;
import org.crisk.ModelInfo;
import org.crisk.Pool;
import org.crisk.PredictOptions;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * The Java binding against the C library: the example model scored through crisk.jar must
 * give exactly what `crisk predict` (the CLI over the same C library) prints for the same
 * CSV, and the binding's own contracts (threads, close, errors, direct buffers, the
 * self-extracting jar) must hold. Run by `meson test --suite java` through java's
 * source-file launcher, with crisk.jar and JUnit 4 on the class path; the environment
 * names the CLI (CRISK_CLI), the source tree (CRISK_SOURCE_DIR) and the jar (CRISK_JAR).
 */
public class CriskTest {
    private static final Path SOURCE = Paths.get(System.getenv("CRISK_SOURCE_DIR"));
    private static final Path MODEL = SOURCE.resolve("models/example-features/fraud_xgb.json");
    private static final Path CSV = SOURCE.resolve("models/example-features/features.csv");

    private static Model model;
    private static float[] rows;   // features.csv in the model's column order
    private static int nrows;
    private static int width;

    /** Runs the tests; exits 0 only when every one passed. */
    public static void main(String[] args) {
        JUnitMain.run(CriskTest.class);
    }

    @BeforeClass
    public static void loadExample() throws IOException {
        model = Model.load(MODEL);
        width = model.numFeatures();
        List<String> lines = Files.readAllLines(CSV, StandardCharsets.UTF_8);
        List<String> header = Arrays.asList(lines.get(0).split(",", -1));
        List<String> names = model.featureNames();
        assertEquals("the example model stores its feature names", width, names.size());
        nrows = lines.size() - 1;
        rows = new float[nrows * width];
        for (int r = 0; r < nrows; r++) {
            String[] cells = lines.get(r + 1).split(",", -1);
            for (int c = 0; c < width; c++) {
                String cell = cells[header.indexOf(names.get(c))];
                rows[r * width + c] = cell.isEmpty() ? Float.NaN : Float.parseFloat(cell);
            }
        }
    }

    /** Returns what `crisk predict` prints for the example CSV (%.9g: exact floats). */
    private static float[] cliScores(String... extra) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getenv("CRISK_CLI"), "predict",
                "--model", MODEL.toString(), "--input", CSV.toString()));
        cmd.addAll(List.of(extra));
        Run run = Run.of(new ProcessBuilder(cmd));
        assertEquals(run.err, 0, run.status);
        String[] lines = run.out.trim().split("\n");
        assertEquals("score", lines[0]);
        float[] scores = new float[lines.length - 1];
        for (int i = 0; i < scores.length; i++) {
            scores[i] = Float.parseFloat(lines[i + 1]);
        }
        return scores;
    }

    @Test
    public void scoresAsTheCommandLine() throws Exception {
        assertEquals(nrows, cliScores().length);
        assertArrayEquals(cliScores(), model.predict(rows, nrows), 0f);
        PredictOptions margin = PredictOptions.builder().margin(true).build();
        assertArrayEquals(cliScores("--margin"), model.predict(rows, nrows, margin), 0f);
        PredictOptions threads = PredictOptions.builder().threads(2).build();
        assertArrayEquals(cliScores("--threads", "2"), model.predict(rows, nrows, threads), 0f);
    }

    @Test
    public void describesTheModelAsInspect() throws Exception {
        Run run = Run.of(new ProcessBuilder(System.getenv("CRISK_CLI"), "inspect",
                "--model", MODEL.toString()));
        assertEquals(run.err, 0, run.status);
        Map<String, String> inspect = new HashMap<>();
        for (String line : run.out.split("\n")) {
            String[] kv = line.split(": ", 2);
            inspect.put(kv[0], kv[1]);
        }
        Run version = Run.of(new ProcessBuilder(System.getenv("CRISK_CLI"), "--version"));
        assertEquals("crisk " + Model.libraryVersion(), version.out.trim());
        ModelInfo info = model.info();
        assertEquals(inspect.get("format"), info.format());
        assertEquals(inspect.get("objective"), info.objective());
        assertEquals(inspect.get("booster"), info.booster());
        assertEquals(inspect.get("trees"), Long.toString(info.numTrees()));
        assertEquals(inspect.get("iterations"), Long.toString(info.numIterations()));
        assertEquals(inspect.get("nodes"), Long.toString(info.numNodes()));
        assertEquals(inspect.get("features"), Integer.toString(model.numFeatures()));
        assertEquals(inspect.get("outputs"), Integer.toString(model.numOutputs()));
        // Every CSV column is one of the model's named features.
        String header = Files.readAllLines(CSV).get(0);
        assertEquals(Arrays.stream(header.split(",")).sorted().toList(),
                model.featureNames().stream().sorted().toList());
        assertThrows(UnsupportedOperationException.class, () -> model.featureNames().add("x"));
    }

    /**
     * Text category values re-coded through the model's stored categories (each the
     * value's position in categories(), missing NaN) score as `crisk predict` scores the
     * same text cells, re-coded in C; a value the model never saw is refused by the
     * XGBoost model (XGBoost raises) and missing for the LightGBM one (pandas makes it NaN).
     */
    @Test
    public void recodesCategoriesByValue() throws Exception {
        String[] origin = {"VN", "NA", null, "DE", "TR", "AE", "CN"};
        String[] chapter = {"93", "10", "27", null, "61", "93", "27"};
        Path dir = Files.createTempDirectory("crisk-categories");
        Path csv = dir.resolve("cases.csv");
        StringBuilder text = new StringBuilder("chapter,x,origin\n");
        for (int i = 0; i < origin.length; i++) {
            text.append(chapter[i] == null ? "" : chapter[i]).append(',').append(i * 0.5f)
                    .append(',').append(origin[i] == null ? "" : origin[i]).append('\n');
        }
        Files.writeString(csv, text);
        for (String name : List.of("categorical_xgb.json", "categorical_lgb.txt")) {
            Path file = SOURCE.resolve("tests/c/fixtures").resolve(name);
            try (Model m = Model.load(file)) {
                assertEquals(List.of("origin", "chapter", "x"), m.featureNames());
                assertTrue(m.categories(2).isEmpty());
                float[] o = m.categoryCodes(0, origin);
                float[] c = m.categoryCodes(1, chapter);
                float[] rows = new float[origin.length * 3];
                for (int i = 0; i < origin.length; i++) {
                    assertEquals(origin[i] == null ? Float.NaN : m.categories(0).indexOf(origin[i]),
                            o[i], 0f);
                    assertEquals(chapter[i] == null ? Float.NaN
                            : m.categories(1).indexOf(chapter[i]), c[i], 0f);
                    rows[i * 3] = o[i];
                    rows[i * 3 + 1] = c[i];
                    rows[i * 3 + 2] = i * 0.5f;
                }
                Run run = Run.of(new ProcessBuilder(System.getenv("CRISK_CLI"), "predict",
                        "--model", file.toString(), "--input", csv.toString()));
                assertEquals(run.err, 0, run.status);
                String[] lines = run.out.trim().split("\n");
                float[] cli = new float[lines.length - 1];
                for (int i = 0; i < cli.length; i++) {
                    cli[i] = Float.parseFloat(lines[i + 1]);
                }
                assertArrayEquals(cli, m.predict(rows, origin.length), 0f);
                String[] unseen = {"ZZ"};
                if (m.info().format().equals("xgboost")) {
                    CriskException e = assertThrows(CriskException.class,
                            () -> m.categoryCodes(0, unseen));
                    assertEquals("CRISK_E_INPUT", e.getErrorName());
                    assertTrue(e.getMessage(), e.getMessage().contains("\"ZZ\""));
                } else {
                    assertTrue(Float.isNaN(m.categoryCodes(0, unseen)[0]));
                }
                assertThrows(IllegalArgumentException.class,
                        () -> m.categoryCodes(2, new String[] {"1"}));
            }
        }
    }

    @Test
    public void featureNamesAreDecodedAsUtf8() throws Exception {
        // A name outside ASCII, with a character beyond the BMP (4 UTF-8 bytes, which JNI's
        // modified UTF-8 would garble), survives the trip through C.
        String name = "valeur_d\u00e9clar\u00e9e_\u20ac_\ud835\udc01";
        String json = Files.readString(MODEL).replace("\"declared_value_eur\"", "\"" + name + "\"");
        try (Model renamed = Model.fromBytes(json.getBytes(StandardCharsets.UTF_8))) {
            List<String> expected = new ArrayList<>(model.featureNames());
            expected.set(expected.indexOf("declared_value_eur"), name);
            assertEquals(expected, renamed.featureNames());
            assertArrayEquals(model.predict(rows, nrows), renamed.predict(rows, nrows), 0f);
        }
    }

    @Test
    public void loadErrorsNameTheFile() throws IOException {
        Path bad = Files.createTempFile("crisk-not-a-model", ".json");
        try {
            Files.write(bad, "{\"learner\": 1".getBytes(StandardCharsets.UTF_8));
            CriskException e = assertThrows(CriskException.class, () -> Model.load(bad));
            assertEquals("CRISK_E_FORMAT", e.getErrorName());
            assertTrue(e.getMessage(), e.getDetail().startsWith(bad + ": "));
        } finally {
            Files.delete(bad);
        }
    }

    @Test
    public void iterationRange() {
        long iterations = model.info().numIterations();
        PredictOptions all = PredictOptions.builder().iterationRange(0, iterations).build();
        assertArrayEquals(model.predict(rows, nrows), model.predict(rows, nrows, all), 0f);
        PredictOptions first = PredictOptions.builder().iterationRange(0, 1).build();
        assertFalse(Arrays.equals(model.predict(rows, nrows), model.predict(rows, nrows, first)));
        PredictOptions beyond = PredictOptions.builder().iterationRange(0, iterations + 1).build();
        CriskException e = assertThrows(CriskException.class,
                () -> model.predict(rows, nrows, beyond));
        assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());
    }

    @Test
    public void directBuffersAreReadAndWrittenInPlace() {
        float[] expected = model.predict(rows, nrows);
        // Rows start at position 3 of a larger buffer; outputs land between sentinels.
        FloatBuffer in = direct(3 + rows.length);
        in.position(3);
        in.put(rows).position(3);
        FloatBuffer all = direct(nrows + 4);
        for (int i = 0; i < all.capacity(); i++) {
            all.put(i, -7f);
        }
        FloatBuffer out = all.duplicate().position(2).limit(2 + nrows);
        model.predict(in, nrows, out);
        for (int i = 0; i < nrows; i++) {
            assertEquals(expected[i], all.get(2 + i), 0f);
        }
        assertEquals(-7f, all.get(1), 0f);
        assertEquals(-7f, all.get(nrows + 2), 0f);
        assertEquals("positions are left alone", 3, in.position());
        assertEquals(2, out.position());
        // Heap buffers, a foreign byte order and a read-only output are refused.
        FloatBuffer outRow = direct(1);
        float[] row = Arrays.copyOf(rows, width);
        assertThrows(IllegalArgumentException.class,
                () -> model.predict(FloatBuffer.wrap(row), 1, outRow));
        FloatBuffer swapped = ByteBuffer.allocateDirect(4 * width)
                .order(ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN
                        ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN)
                .asFloatBuffer();
        assertThrows(IllegalArgumentException.class, () -> model.predict(swapped, 1, outRow));
        FloatBuffer misaligned = ByteBuffer.allocateDirect(4 * width + 1).position(1).slice()
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        assertThrows(IllegalArgumentException.class, () -> model.predict(misaligned, 1, outRow));
        FloatBuffer oneRow = direct(width).put(row).flip();
        assertThrows(ReadOnlyBufferException.class,
                () -> model.predict(oneRow, 1, outRow.asReadOnlyBuffer()));
        CriskException e = assertThrows(CriskException.class,
                () -> model.predict(oneRow, 1, direct(2)));
        assertEquals("CRISK_E_SHAPE", e.getErrorName());
    }

    /** Returns what `crisk predict --contribs` prints for `n` rows of `m` (written to a
     *  CSV first), row-major, with the header checked against the model's layout. */
    private static float[] cliContributions(Path modelFile, Model m, float[] x, int n)
            throws Exception {
        int f = m.numFeatures();
        List<String> names = new ArrayList<>(m.featureNames());
        for (int c = names.size(); c < f; c++) {
            names.add("f" + c);
        }
        StringBuilder csv = new StringBuilder(String.join(",", names)).append('\n');
        for (int r = 0; r < n; r++) {
            for (int c = 0; c < f; c++) {
                float v = x[r * f + c];
                csv.append(c > 0 ? "," : "").append(Float.isNaN(v) ? "" : Float.toString(v));
            }
            csv.append('\n');
        }
        Path input = Files.createTempFile("crisk-contribs", ".csv");
        try {
            Files.writeString(input, csv);
            Run run = Run.of(new ProcessBuilder(System.getenv("CRISK_CLI"), "predict",
                    "--model", modelFile.toString(), "--input", input.toString(), "--contribs"));
            assertEquals(run.err, 0, run.status);
            String[] lines = run.out.trim().split("\n");
            String[] header = lines[0].split(",");
            assertEquals(m.contributionsPerRow(), header.length);
            assertEquals("bias", header[f]);
            assertEquals(n, lines.length - 1);
            float[] out = new float[n * m.contributionsPerRow()];
            for (int r = 0; r < n; r++) {
                String[] cells = lines[r + 1].split(",", -1);
                assertEquals(header.length, cells.length);
                for (int k = 0; k < cells.length; k++) {
                    out[r * cells.length + k] = Float.parseFloat(cells[k]);
                }
            }
            return out;
        } finally {
            Files.delete(input);
        }
    }

    /** Checks that each row's contributions (one group: a single-margin model) sum to
     *  its margin within 1e-5, and that they are the command line's, exactly. */
    private static void assertExplainsAsTheCommandLine(Path modelFile, Model m, float[] x,
                                                       int n) throws Exception {
        float[] contribs = m.contributions(x, n);
        int per = m.contributionsPerRow();
        assertEquals(m.numFeatures() + 1, per);
        assertEquals(n * per, contribs.length);
        float[] margins = m.predict(x, n, PredictOptions.builder().margin(true).build());
        for (int r = 0; r < n; r++) {
            double sum = 0;
            for (int k = 0; k < per; k++) {
                sum += contribs[r * per + k];
            }
            assertEquals("row " + r, margins[r], sum, 1e-5);
        }
        assertArrayEquals(cliContributions(modelFile, m, x, n), contribs, 0f);
    }

    @Test
    public void contributionsSumToTheMarginAndMatchTheCommandLine() throws Exception {
        assertExplainsAsTheCommandLine(MODEL, model, rows, nrows);
        // Two models of the example bundle, on rows drawn at random: a regression tree
        // model and a logistic model (whose rows must have no missing value).
        java.util.Random random = new java.util.Random(20261127);
        for (String name : List.of("revenue_xgb.json", "fraud_logistic.json")) {
            Path file = SOURCE.resolve("models/example").resolve(name);
            try (Model m = Model.load(file)) {
                int n = 40;
                float[] x = new float[n * m.numFeatures()];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) (random.nextGaussian() * 3);
                }
                assertExplainsAsTheCommandLine(file, m, x, n);
            }
        }
    }

    @Test
    public void contributionsIntoDirectBuffers() {
        float[] expected = model.contributions(rows, nrows);
        int per = model.contributionsPerRow();
        FloatBuffer in = direct(rows.length).put(rows).flip();
        FloatBuffer all = direct(nrows * per + 2);
        all.put(0, -7f).put(nrows * per + 1, -7f);
        FloatBuffer out = all.duplicate().position(1).limit(1 + nrows * per);
        PredictOptions two = PredictOptions.builder().threads(2).margin(true).build();
        model.contributions(in, nrows, out, two);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], all.get(1 + i), 0f);
        }
        assertEquals(-7f, all.get(0), 0f);
        assertEquals(-7f, all.get(nrows * per + 1), 0f);
        assertEquals(1, out.position());
        CriskException e = assertThrows(CriskException.class,
                () -> model.contributions(in, nrows, direct(nrows * per - 1),
                                          PredictOptions.DEFAULT));
        assertEquals("CRISK_E_SHAPE", e.getErrorName());
        assertThrows(IllegalArgumentException.class,
                () -> model.contributions(FloatBuffer.wrap(rows), nrows, out,
                                          PredictOptions.DEFAULT));
        // The iteration range explains the first trees only: still summing to their margin.
        PredictOptions first = PredictOptions.builder().iterationRange(0, 1).build();
        float[] c1 = model.contributions(rows, nrows, first);
        float[] m1 = model.predict(rows, nrows, PredictOptions.builder().iterationRange(0, 1)
                .margin(true).build());
        for (int r = 0; r < nrows; r++) {
            double sum = 0;
            for (int k = 0; k < per; k++) {
                sum += c1[r * per + k];
            }
            assertEquals(m1[r], sum, 1e-5);
        }
    }

    @Test
    public void interactionLinesSumToTheContributions() {
        int n = Math.min(nrows, 8);
        float[] x = Arrays.copyOf(rows, n * width);
        float[] contribs = model.contributions(x, n);
        float[] inter = model.interactions(x, n, PredictOptions.DEFAULT);
        int side = width + 1;
        assertEquals((long) side * side, model.interactionsPerRow());
        assertEquals(n * side * side, inter.length);
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < side; i++) {
                double line = 0;
                for (int j = 0; j < side; j++) {
                    line += inter[(r * side + i) * side + j];
                }
                assertEquals("row " + r + " line " + i, contribs[r * side + i], line, 1e-5);
            }
        }
        FloatBuffer out = direct(inter.length);
        model.interactions(direct(x.length).put(x).flip(), n, out, PredictOptions.DEFAULT);
        for (int i = 0; i < inter.length; i++) {
            assertEquals(inter[i], out.get(i), 0f);
        }
    }

    private static FloatBuffer direct(int floats) {
        return ByteBuffer.allocateDirect(4 * floats).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
    }

    /** A check one Java thread runs: true when every result was as expected. */
    private interface ThreadCheck {
        boolean run(int thread) throws Exception;
    }

    /** Runs `check` on `threads` Java threads at once and asserts that each passed. */
    private static void onThreads(int threads, ThreadCheck check) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<Boolean>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                results.add(pool.submit(() -> check.run(thread)));
            }
            for (Future<Boolean> f : results) {
                assertTrue(f.get(60, TimeUnit.SECONDS));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    public void eightThreadsShareOneModel() throws Exception {
        float[] expected = model.predict(rows, nrows);
        onThreads(8, t -> {
            int first = t * 7;  // each thread scores its own window, many times
            for (int rep = 0; rep < 50; rep++) {
                int n = 1 + (first + rep) % (nrows - first);
                float[] got = model.predict(
                        Arrays.copyOfRange(rows, first * width, (first + n) * width), n);
                if (!Arrays.equals(got, Arrays.copyOfRange(expected, first, first + n))) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Returns the example rows repeated `times` times: enough rows that a call splits
     *  them over several threads (crisk gives a thread 512 rows to predict). */
    private static float[] tiled(int times) {
        float[] out = new float[rows.length * times];
        for (int t = 0; t < times; t++) {
            System.arraycopy(rows, 0, out, t * rows.length, rows.length);
        }
        return out;
    }

    @Test
    public void aPoolGivesWhatNoPoolGives() throws Exception {
        int n = nrows * 10;
        float[] x = tiled(10);
        PredictOptions margin = PredictOptions.builder().margin(true).build();
        float[] want = model.predict(x, n);
        float[] wantMargin = model.predict(x, n, margin);
        float[] wantContribs = model.contributions(x, n);
        int few = 40;  // interactions cost the cube of a path's features: few rows
        float[] xFew = Arrays.copyOf(x, few * width);
        float[] wantInter = model.interactions(xFew, few, PredictOptions.DEFAULT);
        for (int size : new int[] {1, 2, 3, 0}) {
            try (Pool pool = Pool.create(size)) {
                assertTrue(pool.toString(), pool.threads() >= 1
                           && (size == 0 || pool.threads() <= size));
                for (int threads : new int[] {0, 1, 2}) {
                    String what = "pool of " + size + ", threads " + threads;
                    PredictOptions opts = PredictOptions.builder().pool(pool).threads(threads)
                            .build();
                    assertArrayEquals(what, want, model.predict(x, n, opts), 0f);
                    FloatBuffer out = direct(n);
                    model.predict(direct(x.length).put(x).flip(), n, out, opts);
                    for (int i = 0; i < n; i++) {
                        assertEquals(what, want[i], out.get(i), 0f);
                    }
                    PredictOptions m = PredictOptions.builder().pool(pool).threads(threads)
                            .margin(true).build();
                    assertArrayEquals(what, wantMargin, model.predict(x, n, m), 0f);
                    assertArrayEquals(what, wantContribs, model.contributions(x, n, opts), 0f);
                    assertArrayEquals(what, wantInter, model.interactions(xFew, few, opts), 0f);
                }
            }
        }
        // And what the command line prints for the same rows.
        try (Pool pool = Pool.create(2)) {
            PredictOptions opts = PredictOptions.builder().pool(pool).threads(0).build();
            assertArrayEquals(cliScores(), model.predict(rows, nrows, opts), 0f);
        }
    }

    @Test
    public void threadsShareOnePool() throws Exception {
        int n = nrows * 5;
        float[] x = tiled(5);
        float[] want = model.predict(x, n);
        try (Pool pool = Pool.create(2)) {
            PredictOptions opts = PredictOptions.builder().pool(pool).threads(0).build();
            onThreads(4, t -> {
                for (int rep = 0; rep < 10; rep++) {
                    if (!Arrays.equals(want, model.predict(x, n, opts))) {
                        return false;
                    }
                }
                return true;
            });
        }
    }

    @Test
    public void aClosedPoolIsRefusedAndClosesTwice() {
        Pool pool = Pool.create(2);
        PredictOptions opts = PredictOptions.builder().pool(pool).threads(0).build();
        assertArrayEquals(model.predict(rows, nrows), model.predict(rows, nrows, opts), 0f);
        assertFalse(pool.isClosed());
        pool.close();
        pool.close();  // idempotent
        assertTrue(pool.isClosed());
        assertTrue(pool.toString(), pool.toString().contains("closed"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> model.predict(rows, nrows, opts));
        assertEquals("the crisk pool is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> model.contributions(rows, nrows, opts));
        assertThrows(IllegalStateException.class,
                () -> model.interactions(rows, 1, opts));
        assertThrows(IllegalStateException.class,
                () -> model.predict(direct(rows.length).put(rows).flip(), nrows,
                                    direct(nrows), opts));
        CriskException bad = assertThrows(CriskException.class, () -> Pool.create(-1));
        assertEquals("CRISK_E_INVALID_ARGUMENT", bad.getErrorName());
    }

    @Test
    public void closeWaitsForPredictionsAndForbidsLaterOnes() throws Exception {
        float[] expected = model.predict(rows, nrows);
        Model m = Model.load(MODEL);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        CountDownLatch started = new CountDownLatch(4);
        try {
            List<Future<Integer>> results = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                Callable<Integer> job = () -> {
                    started.countDown();
                    int scored = 0;
                    while (true) {
                        float[] got;
                        try {
                            got = m.predict(rows, nrows);
                        } catch (IllegalStateException closed) {
                            return scored;
                        }
                        assertArrayEquals(expected, got, 0f);
                        scored++;
                    }
                };
                results.add(pool.submit(job));
            }
            started.await();
            m.close();
            for (Future<Integer> f : results) {
                f.get(60, TimeUnit.SECONDS);  // each stopped with IllegalStateException
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(m.isClosed());
        m.close();  // idempotent
        assertEquals(model.numFeatures(), m.numFeatures());  // accessors outlive close
        assertThrows(IllegalStateException.class, () -> m.predict(rows, nrows));
        assertThrows(IllegalStateException.class,
                () -> m.predict(direct(rows.length).put(rows).flip(), nrows, direct(nrows)));

        Model scoped;
        try (Model t = Model.fromBytes(Files.readAllBytes(MODEL))) {
            scoped = t;
            assertArrayEquals(expected, t.predict(rows, nrows), 0f);
        }
        assertTrue(scoped.isClosed());
        assertThrows(IllegalStateException.class, () -> scoped.predict(rows, nrows));
    }

    @Test
    public void errorsCarryTheCodeNameAndMessage() throws Exception {
        CriskException bad = assertThrows(CriskException.class,
                () -> Model.fromBytes("{\"learner\": 42}".getBytes(StandardCharsets.UTF_8)));
        assertEquals("CRISK_E_FORMAT", bad.getErrorName());
        assertTrue(bad.getCode() < 0);
        assertFalse(bad.getDetail().isEmpty());
        assertEquals("CRISK_E_FORMAT: " + bad.getDetail(), bad.getMessage());

        CriskException empty = assertThrows(CriskException.class,
                () -> Model.fromBytes(new byte[0]));
        assertEquals("CRISK_E_FORMAT", empty.getErrorName());

        CriskException shape = assertThrows(CriskException.class,
                () -> model.predict(Arrays.copyOf(rows, 2 * (width - 1)), 2));
        assertEquals("CRISK_E_SHAPE", shape.getErrorName());
        assertNotEquals(bad.getCode(), shape.getCode());
        assertThrows(CriskException.class, () -> model.predict(new float[width + 1], 2));

        assertThrows(NoSuchFileException.class,
                () -> Model.load(SOURCE.resolve("no/such/model.json")));
        assertThrows(IllegalArgumentException.class, () -> model.predict(rows, -1));
        assertThrows(IllegalArgumentException.class,
                () -> PredictOptions.builder().threads(-1));
        assertThrows(NullPointerException.class, () -> model.predict((float[]) null, 1));
        assertEquals(0, model.predict(new float[0], 0).length);
    }

    /** The probe a fresh JVM runs with nothing but crisk.jar on its class path. */
    private static final String PROBE = String.join("\n",
            "import java.nio.file.Path;",
            "public class Probe {",
            "  public static void main(String[] a) throws Exception {",
            "    try (org.crisk.Model m = org.crisk.Model.load(Path.of(a[0]))) {",
            "      float[] row = new float[m.numFeatures()];",
            "      for (int i = 0; i < row.length; i++) row[i] = Float.parseFloat(a[1 + i]);",
            "      System.out.println(m.predict(row, 1)[0]);",
            "    }",
            "  }",
            "}", "");

    /** Returns a ProcessBuilder for a fresh JVM running the probe with crisk.jar only:
     * no java.library.path, no LD_LIBRARY_PATH, and the given extra JVM options. */
    private static ProcessBuilder probe(Path dir, String... jvmOptions) throws IOException {
        Path source = dir.resolve("Probe.java");
        Files.writeString(source, PROBE);
        List<String> cmd = new ArrayList<>(List.of(
                Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.library.path=" + dir, "-Djava.io.tmpdir=" + dir,
                "-cp", System.getenv("CRISK_JAR")));
        cmd.addAll(List.of(jvmOptions));
        cmd.add(source.toString());
        cmd.add(MODEL.toString());
        for (int c = 0; c < width; c++) {
            cmd.add(Float.toString(rows[c]));
        }
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("LD_LIBRARY_PATH");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        return pb;
    }

    @Test
    public void theJarExtractsItsNativeLibraryInAFreshJvm() throws Exception {
        Path dir = Files.createTempDirectory("crisk-probe");
        try {
            Run run = Run.of(probe(dir));
            assertEquals(run.err, 0, run.status);
            assertEquals(model.predict(Arrays.copyOf(rows, width), 1)[0],
                    Float.parseFloat(run.out.trim()), 0f);
            // The extracted copy is removed once loaded.
            try (var left = Files.list(dir)) {
                assertEquals(List.of("Probe.java"),
                        left.map(p -> p.getFileName().toString()).toList());
            }

            Path missing = dir.resolve("nowhere").resolve("libcrisk_jni.so");
            Run fail = Run.of(probe(dir, "-Dcrisk.library.path=" + missing));
            assertNotEquals(0, fail.status);
            assertTrue(fail.err, fail.err.contains("UnsatisfiedLinkError")
                    && fail.err.contains(missing.toString())
                    && fail.err.contains("crisk.library.path"));
        } finally {
            try (var left = Files.list(dir)) {
                for (Path p : left.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    /** A finished process: its exit status, standard output and standard error. */
    private static final class Run {
        final int status;
        final String out;
        final String err;

        private Run(int status, String out, String err) {
            this.status = status;
            this.out = out;
            this.err = err;
        }

        static Run of(ProcessBuilder pb) throws Exception {
            Path errFile = Files.createTempFile("crisk-test", ".err");
            try {
                pb.redirectError(errFile.toFile());
                Process p = pb.start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError("timed out: " + pb.command());
                }
                return new Run(p.exitValue(), out, Files.readString(errFile));
            } finally {
                Files.delete(errFile);
            }
        }
    }
}
