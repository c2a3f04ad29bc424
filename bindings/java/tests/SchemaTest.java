package org.crisk.test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.crisk.CriskException;
import org.crisk.FitOptions;
import org.crisk.Schema;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * org.crisk.Schema against the command line over the same C library: at test time,
 * models/generate.py writes labelled declarations (CSV) and `crisk fit` fits
 * models/schema.json from them, writing the fitted schema, the training matrix (--matrix)
 * and the scoring features (--features), values as %.9g (exact floats). A Schema fitted in
 * Java from the same file (as CSV, as JSON Lines converted here, and as records) must
 * save the same file byte for byte and build the same matrices bit for bit.
 */
public class SchemaTest {
    private static final Path SOURCE = Paths.get(System.getenv("CRISK_SOURCE_DIR"));
    private static final Path SCHEMA = SOURCE.resolve("models/schema.json");

    private static Path work;
    private static Path trainCsv;
    private static Path trainJsonl;
    private static List<Map<String, String>> records;
    private static float[] labels;
    private static List<String> cliFeatureNames;
    private static float[] cliMatrix;
    private static float[] cliFeatures;

    /** Runs the tests; exits 0 only when every one passed. */
    public static void main(String[] args) {
        JUnitMain.run(SchemaTest.class);
    }

    /** Runs a command, its output to `log`; fails the test unless it exits 0. */
    private static void run(Path log, String... cmd) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.redirectErrorStream(true);
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + Arrays.toString(cmd));
        }
        assertEquals(Arrays.toString(cmd) + ": " + Files.readString(log), 0, p.exitValue());
    }

    @BeforeClass
    public static void fitWithTheCommandLine() throws Exception {
        work = Files.createTempDirectory("crisk-schema-test");
        trainCsv = work.resolve("train.csv");
        run(work.resolve("generate.log"), "python3",
            SOURCE.resolve("models/generate.py").toString(), "--rows", "1500", "--seed", "5",
            "--output", trainCsv.toString());
        run(work.resolve("fit.log"), System.getenv("CRISK_CLI"), "fit",
            "--schema", SCHEMA.toString(), "--input", trainCsv.toString(), "--label", "fraud",
            "--output", work.resolve("cli.json").toString(),
            "--matrix", work.resolve("matrix.csv").toString(),
            "--features", work.resolve("features.csv").toString());
        List<String> lines = Files.readAllLines(trainCsv, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",", -1);
        records = new ArrayList<>();
        labels = new float[lines.size() - 1];
        StringBuilder jsonl = new StringBuilder();
        for (int r = 1; r < lines.size(); r++) {
            String[] cells = lines.get(r).split(",", -1);   // generated cells hold no commas
            Map<String, String> rec = new HashMap<>();
            StringBuilder obj = new StringBuilder("{");
            for (int j = 0; j < header.length; j++) {
                rec.put(header[j], cells[j]);
                String value = header[j].equals("fraud") ? cells[j]
                    : cells[j].isEmpty() ? "null" : "\"" + cells[j] + "\"";
                obj.append(j > 0 ? "," : "").append('"').append(header[j]).append("\":")
                   .append(value);
            }
            records.add(rec);
            labels[r - 1] = Float.parseFloat(rec.get("fraud"));
            jsonl.append(obj).append("}\n");
        }
        trainJsonl = work.resolve("train.jsonl");
        Files.writeString(trainJsonl, jsonl);
        cliFeatureNames = new ArrayList<>();
        cliMatrix = readMatrix(work.resolve("matrix.csv"), 1, cliFeatureNames);
        cliFeatures = readMatrix(work.resolve("features.csv"), 0, null);
    }

    @AfterClass
    public static void cleanUp() throws IOException {
        if (work != null) {
            try (Stream<Path> s = Files.walk(work)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** Reads a `crisk fit` matrix CSV (id, features, then `trailing` more columns; empty
     *  is missing) into row-major floats, and its feature names into `names` if given. */
    private static float[] readMatrix(Path path, int trailing, List<String> names)
            throws IOException {
        List<String> lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",", -1);
        int f = header.length - 1 - trailing;
        if (names != null) {
            names.addAll(Arrays.asList(header).subList(1, 1 + f));
        }
        float[] out = new float[(lines.size() - 1) * f];
        for (int r = 1; r < lines.size(); r++) {
            String[] cells = lines.get(r).split(",", -1);
            for (int j = 0; j < f; j++) {
                String c = cells[1 + j];
                out[(r - 1) * f + j] = c.isEmpty() ? Float.NaN : Float.parseFloat(c);
            }
        }
        return out;
    }

    /** Checks that `schema` is fitted as `crisk fit` fitted it: the same saved file, the
     *  same training matrix and scoring features. */
    private static void assertFittedAsTheCommandLine(Schema schema, String name)
            throws IOException {
        Path saved = work.resolve(name + ".json");
        schema.save(saved);
        assertArrayEquals(name, Files.readAllBytes(work.resolve("cli.json")),
                          Files.readAllBytes(saved));
        assertArrayEquals(name, cliMatrix,
                          schema.trainingMatrix(trainCsv, "fraud", FitOptions.DEFAULT), 0f);
        assertArrayEquals(name, cliFeatures, schema.features(trainCsv), 0f);
        assertArrayEquals(name, cliFeatures, schema.features(records), 0f);
        assertArrayEquals(name, cliMatrix,
                          schema.trainingMatrix(records, labels, FitOptions.DEFAULT), 0f);
    }

    @Test
    public void fitFromCsvAsCriskFit() throws IOException {
        try (Schema schema = Schema.load(SCHEMA)) {
            assertEquals(cliFeatureNames, schema.featureNames());
            assertEquals(schema.featureNames().size(), schema.numFeatures());
            assertTrue(schema.fieldNames().contains("declared_value"));
            assertTrue(schema.toString().contains(schema.numFeatures() + " features"));
            assertFittedAsTheCommandLine(schema.fit(trainCsv, "fraud"), "csv");
        }
        try (Schema fitted = Schema.load(work.resolve("cli.json"))) {
            assertArrayEquals(cliFeatures, fitted.features(trainCsv), 0f);
        }
    }

    @Test
    public void fitFromJsonLinesAndRecordsAsFromCsv() throws IOException {
        try (Schema schema = Schema.load(SCHEMA)) {
            assertFittedAsTheCommandLine(schema.fit(trainJsonl, "fraud", FitOptions.DEFAULT),
                                         "jsonl");
        }
        try (Schema schema = Schema.load(SCHEMA)) {
            assertFittedAsTheCommandLine(schema.fit(records, labels), "records");
        }
        // Other options give other tables.
        try (Schema schema = Schema.load(SCHEMA)) {
            FitOptions other = new FitOptions(3, 9, 5.0);
            schema.fit(trainCsv, "fraud", other);
            assertTrue(!Arrays.equals(cliMatrix, schema.trainingMatrix(trainCsv, "fraud", other)));
        }
    }

    @Test
    public void errorsNameTheRowAndTheFile() throws IOException {
        try (Schema schema = Schema.load(SCHEMA)) {
            CriskException e = assertThrows(CriskException.class,
                                            () -> schema.features(trainCsv));
            assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());   // not fitted yet
            List<String> lines = new ArrayList<>(Files.readAllLines(trainCsv));
            lines.set(4, lines.get(4).replaceFirst(",2025-", ",2025-13-"));
            Path bad = work.resolve("bad.csv");
            Files.write(bad, lines);
            e = assertThrows(CriskException.class, () -> schema.fit(bad, "fraud"));
            assertEquals("CRISK_E_INPUT", e.getErrorName());
            assertTrue(e.getDetail(), e.getDetail().contains("bad.csv line 5"));
            e = assertThrows(CriskException.class, () -> schema.fit(bad, "no_such_label"));
            assertEquals("CRISK_E_INPUT", e.getErrorName());
            Map<String, String> broken = new HashMap<>(records.get(2));
            broken.put("declared_value", "12,5x");
            List<Map<String, String>> some = new ArrayList<>(records.subList(0, 10));
            some.set(2, broken);
            e = assertThrows(CriskException.class, () -> schema.fit(some, new float[10]));
            assertTrue(e.getDetail(), e.getDetail().startsWith("declaration 2: "));
            e = assertThrows(CriskException.class,
                () -> schema.fit(records.subList(0, 10), new float[9]));
            assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());
            e = assertThrows(CriskException.class,
                () -> schema.fit(work.resolve("train.txt"), "fraud"));
            assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());
            e = assertThrows(CriskException.class,
                () -> schema.fit(work.resolve("nowhere.csv"), "fraud"));
            assertEquals("CRISK_E_IO", e.getErrorName());
            assertThrows(IllegalArgumentException.class, () -> new FitOptions(1, 1, 20));
            e = assertThrows(CriskException.class,
                () -> Schema.load(work.resolve("nowhere.json")));
            assertTrue(e.getDetail(), e.getDetail().contains("nowhere.json"));
            schema.close();
            schema.close();
            assertThrows(IllegalStateException.class, () -> schema.features(records));
            assertThrows(IllegalStateException.class, () -> schema.save(work.resolve("x.json")));
        }
    }
}
