package org.crisk.test;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.crisk.Bundle;
import org.crisk.BundleScores;
import org.crisk.CriskException;
import org.crisk.DeviceKeys;
import org.crisk.Events;
import org.crisk.FitOptions;
import org.crisk.LaneState;
import org.crisk.Pool;
import org.crisk.Schema;
import org.junit.AfterClass;
import org.junit.BeforeClass;
import org.junit.Test;

/**
 * org.crisk.Bundle against the Python binding on the same bundle and rows: at test time,
 * tests/python/bundle_builder.py builds a bundle (schema fitted with crisk.Schema, XGBoost
 * trained on its training matrix), writes the declarations to score as CSV and the
 * Python scores, lanes, reasons and hits as CSV (scores as %.9g, exact floats); Java scores
 * the same CSV rows and must give the same results bit for bit, the same rejects too.
 * org.crisk.Schema fitted from the builder's training declarations (CSV) must save the
 * schema file Python's crisk.Schema saved and build its training matrix and features.
 * A bundle with a 4-class model must give every class, as xgboost's predict_proba
 * (computed by the builder) does; a Pool must change no result. Reason codes (explain)
 * must equal the Python binding's (the builder's reasons_expected.csv). The example bundle
 * (models/example, whose schema has event features) must score the builder's declarations
 * with its border sensor events and device keys (a file, lines or bytes) as the Python
 * binding does, bit for bit, and refuse the same events for the same reasons.
 */
public class BundleTest {
    private static final Path SOURCE = Paths.get(System.getenv("CRISK_SOURCE_DIR"));
    private static final LocalDate TODAY = LocalDate.of(2025, 6, 30);  // as the builder
    private static final int EXPLAIN = 4;   // reason codes, as the builder's EXPLAIN

    private static Path work;
    private static List<Map<String, String>> records;
    private static List<List<String>> expected;   // row, id, scores..., lane, reason, hits
    private static List<String> expectedHeader;

    /** Runs the tests; exits 0 only when every one passed. */
    public static void main(String[] args) {
        JUnitMain.run(BundleTest.class);
    }

    @BeforeClass
    public static void buildWithPython() throws Exception {
        work = Files.createTempDirectory("crisk-bundle-test");
        ProcessBuilder pb = new ProcessBuilder("python3",
            SOURCE.resolve("tests/python/bundle_builder.py").toString(), work.toString());
        pb.redirectErrorStream(true);
        pb.redirectOutput(work.resolve("builder.log").toFile());
        Process p = pb.start();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("bundle_builder.py timed out");
        }
        assertEquals("bundle_builder.py: " + Files.readString(work.resolve("builder.log")),
                     0, p.exitValue());
        records = readRecords(work.resolve("decls.csv"));
        List<List<String>> exp = readCsv(work.resolve("expected.csv"));
        expectedHeader = exp.get(0);
        expected = exp.subList(1, exp.size());
    }

    @AfterClass
    public static void cleanUp() throws IOException {
        if (work != null) {
            try (Stream<Path> s = Files.walk(work)) {
                s.sorted(Comparator.reverseOrder()).map(Path::toFile).forEach(File::delete);
            }
        }
    }

    /** Reads a CSV file of declarations (a header of field names) as records. */
    private static List<Map<String, String>> readRecords(Path path) throws IOException {
        List<List<String>> rows = readCsv(path);
        List<Map<String, String>> out = new ArrayList<>();
        for (List<String> row : rows.subList(1, rows.size())) {
            Map<String, String> rec = new HashMap<>();
            for (int j = 0; j < row.size(); j++)
                rec.put(rows.get(0).get(j), row.get(j));
            out.add(rec);
        }
        return out;
    }

    /** Parses a CSV file (RFC 4180: quoted cells, doubled quotes, no newlines in cells). */
    private static List<List<String>> readCsv(Path path) throws IOException {
        List<List<String>> out = new ArrayList<>();
        for (String line : Files.readAllLines(path, StandardCharsets.UTF_8)) {
            List<String> cells = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted && c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = !quoted;
                } else if (c == ',' && !quoted) {
                    cells.add(cell.toString());
                    cell.setLength(0);
                } else {
                    cell.append(c);
                }
            }
            cells.add(cell.toString());
            out.add(cells);
        }
        return out;
    }

    /** Checks `s` against the Python results, row for row. */
    private static void assertSameAsPython(Bundle bundle, BundleScores s) {
        assertSameAs(expectedHeader, expected, records.size(), bundle, s);
    }

    /** Checks `s`, the scores of `n` declarations, against Python's results `want` (the
     *  rows of a file of the builder's write_expected, whose header is `header`), row for
     *  row. */
    private static void assertSameAs(List<String> header, List<List<String>> rows, int n,
                                     Bundle bundle, BundleScores s) {
        List<String> models = bundle.modelNames();
        assertEquals(header.subList(2, 2 + models.size()), models);
        int scored = 0;
        int rejected = 0;
        for (List<String> e : rows) {
            int row = Integer.parseInt(e.get(0));
            if (e.get(2 + models.size()).equals("REJECTED")) {
                BundleScores.Reject r = s.rejects().get(rejected++);
                assertEquals(row, r.row());
                assertTrue(r.reason(), r.reason().startsWith("field \""));
                continue;
            }
            int i = scored++;
            assertEquals(row, s.inputRow(i));
            for (int m = 0; m < models.size(); m++) {
                float want = Float.parseFloat(e.get(2 + m));
                assertEquals("row " + row + " model " + models.get(m),
                             Float.floatToIntBits(want), Float.floatToIntBits(s.score(i, m)));
            }
            assertEquals("row " + row, e.get(2 + models.size()), s.lane(i));
            assertEquals("row " + row, e.get(3 + models.size()), s.reason(i));
            assertEquals("row " + row, e.get(4 + models.size()), String.join(";", s.hits(i)));
            assertEquals("row " + row, e.get(5 + models.size()),
                         s.reasonKind(i).name().toLowerCase(java.util.Locale.ROOT));
            assertEquals("row " + row, Double.parseDouble(e.get(6 + models.size())),
                         s.propensity(i), 0.0);
        }
        assertEquals(scored, s.size());
        assertEquals(rejected, s.rejects().size());
        assertEquals(n, s.size() + s.rejects().size());
    }

    @Test
    public void recordsScoreAsPythonDoes() {
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            BundleScores s = bundle.score(records, 1, TODAY);
            assertSameAsPython(bundle, s);
            assertEquals(List.of(5, 17, 33),
                         s.rejects().stream().map(BundleScores.Reject::row).toList());
            assertTrue(s.rejects().get(0).reason().contains("declared_value"));
            // Several threads inside the call change nothing.
            assertSameAsPython(bundle, bundle.score(records, 2, TODAY));
        }
    }

    /** Returns the records as columns: each of the bundle's fields to its values. */
    private static Map<String, List<String>> columnsOf(Bundle bundle) {
        Map<String, List<String>> columns = new LinkedHashMap<>();
        for (String f : bundle.fieldNames()) {
            List<String> col = new ArrayList<>();
            for (Map<String, String> r : records)
                col.add(r.get(f));
            columns.put(f, col);
        }
        return columns;
    }

    @Test
    public void columnsScoreAsRecordsDo() {
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            Map<String, List<String>> columns = columnsOf(bundle);
            assertSameAsPython(bundle, bundle.scoreColumns(columns, 1, TODAY));
            columns.put("origin", List.of("CN"));
            assertThrows(IllegalArgumentException.class,
                         () -> bundle.scoreColumns(columns, 1, TODAY));
        }
    }

    /** Reads a matrix CSV of the builder (a header of names, %.9g values, empty when
     *  missing) into row-major floats, checking the header against `names`. */
    private static float[] readMatrix(Path path, List<String> names) throws IOException {
        List<List<String>> rows = readCsv(path);
        assertEquals(names, rows.get(0));
        float[] out = new float[(rows.size() - 1) * names.size()];
        for (int r = 1; r < rows.size(); r++) {
            for (int j = 0; j < names.size(); j++) {
                String c = rows.get(r).get(j);
                out[(r - 1) * names.size() + j] = c.isEmpty() ? Float.NaN : Float.parseFloat(c);
            }
        }
        return out;
    }

    @Test
    public void schemaFitsAsPythonDoes() throws IOException {
        try (Schema schema = Schema.load(work.resolve("schema_unfitted.json"))) {
            schema.fit(work.resolve("train.csv"), "fraud", FitOptions.DEFAULT);
            float[] matrix = readMatrix(work.resolve("py_matrix.csv"), schema.featureNames());
            float[] features = readMatrix(work.resolve("py_features.csv"),
                                          schema.featureNames());
            assertTrue(matrix.length > 0);
            assertArrayEquals(matrix, schema.trainingMatrix(work.resolve("train.csv"), "fraud",
                                                            FitOptions.DEFAULT), 0f);
            assertArrayEquals(features, schema.features(work.resolve("train.csv")), 0f);
            Path saved = work.resolve("java_schema.json");
            schema.save(saved);
            assertArrayEquals(Files.readAllBytes(work.resolve("bundle/schema.json")),
                              Files.readAllBytes(saved));
        }
    }

    @Test
    public void aPoolScoresAsNoPool() {
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            Map<String, List<String>> columns = columnsOf(bundle);
            for (int size : new int[] {1, 2, 0}) {
                try (Pool pool = Pool.create(size)) {
                    for (int threads : new int[] {0, 1, 2}) {
                        assertSameAsPython(bundle, bundle.score(records, threads, TODAY, pool));
                        assertSameAsPython(bundle,
                                           bundle.scoreColumns(columns, threads, TODAY, pool));
                    }
                }
            }
            Pool closed = Pool.create(2);
            closed.close();
            closed.close();
            IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> bundle.score(records, 0, TODAY, closed));
            assertEquals("the crisk pool is closed", e.getMessage());
        }
    }

    /** The builder's kind bundle has a 4-class model: every class of it comes back, equal
     *  to xgboost's predict_proba (kind_expected.csv, computed by the builder). */
    @Test
    public void multiClassModelGivesEveryClass() throws IOException {
        List<List<String>> exp = readCsv(work.resolve("kind_expected.csv"));
        int classes = exp.get(0).size() - 1;
        assertEquals(4, classes);
        try (Bundle bundle = Bundle.load(work.resolve("kind/bundle"));
             Pool pool = Pool.create(2)) {
            assertEquals(List.of("fraud", "revenue", "kind"), bundle.modelNames());
            for (BundleScores s : List.of(bundle.score(records, 1, TODAY),
                                          bundle.score(records, 0, TODAY, pool))) {
                assertEquals(1, s.numOutputs(0));
                assertEquals(1, s.numOutputs(1));
                assertEquals(classes, s.numOutputs(2));
                assertEquals(exp.size() - 1, s.size());
                boolean otherClasses = false;
                for (int i = 0; i < s.size(); i++) {
                    List<String> e = exp.get(i + 1);
                    assertEquals(Integer.parseInt(e.get(0)), s.inputRow(i));
                    float[] got = s.scores(i, "kind");
                    assertEquals(classes, got.length);
                    double sum = 0;
                    for (int k = 0; k < classes; k++) {
                        float want = Float.parseFloat(e.get(1 + k));
                        assertEquals("row " + s.inputRow(i) + " class " + k, want, got[k], 1e-6);
                        assertEquals(got[k], s.score(i, 2, k), 0f);
                        otherClasses |= k > 0 && got[k] > 1e-3;
                        sum += got[k];
                    }
                    assertEquals(1.0, sum, 1e-5);
                    assertEquals(got[0], s.score(i, "kind"), 0f);
                    assertEquals(s.score(i, 0), s.scores(i, "fraud")[0], 0f);
                }
                assertTrue("the classes are not all the first one", otherClasses);
                assertThrows(IndexOutOfBoundsException.class, () -> s.score(0, 2, classes));
                assertThrows(IndexOutOfBoundsException.class, () -> s.score(0, 0, 1));
            }
        }
    }

    /** Asserts that {@code got} is the float the builder wrote as %.9g in {@code want}. */
    private static void assertBits(String what, String want, float got) {
        assertEquals(what, Float.floatToIntBits(Float.parseFloat(want)),
                     Float.floatToIntBits(got));
    }

    /** Reason codes (explain = K) equal the Python binding's (reasons_expected.csv, by the
     *  builder): fields, values (missing ones included), contributions, bias and rest bit
     *  for bit, from records and from columns; they sum to the score model's margin (the
     *  logit of its binary:logistic score); rejected rows have none. */
    @Test
    public void reasonCodesAsPythonGivesThem() throws IOException {
        List<List<String>> exp = readCsv(work.resolve("reasons_expected.csv"));
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            for (BundleScores s : List.of(
                     bundle.score(records, 1, TODAY, null, EXPLAIN),
                     bundle.scoreColumns(columnsOf(bundle), 2, TODAY, null, EXPLAIN))) {
                assertEquals(EXPLAIN, s.explain());
                assertEquals(exp.size(), s.size());
                boolean missing = false;
                for (int i = 0; i < s.size(); i++) {
                    List<String> e = exp.get(i);
                    String at = "row " + e.get(0);
                    assertEquals(at, Integer.parseInt(e.get(0)), s.inputRow(i));
                    assertBits(at, e.get(1), s.explainBias(i));
                    assertBits(at, e.get(2), s.explainRest(i));
                    int n = (e.size() - 3) / 3;
                    assertEquals(at, n, s.numReasons(i));
                    double sum = (double) s.explainBias(i) + s.explainRest(i);
                    for (int k = 0; k < n; k++) {
                        assertEquals(at, e.get(3 + 3 * k), s.reasonField(i, k));
                        String v = s.reasonValue(i, k);
                        assertEquals(at, e.get(4 + 3 * k), v == null ? "" : v);
                        missing |= v == null;
                        assertBits(at, e.get(5 + 3 * k), s.reasonContribution(i, k));
                        sum += s.reasonContribution(i, k);
                    }
                    double p = s.score(i, "fraud");
                    assertEquals(at, Math.log(p / (1 - p)), sum, 1e-3);
                    final int row = i;
                    assertThrows(IndexOutOfBoundsException.class, () -> s.reasonField(row, n));
                }
                assertTrue("a missing value is a reason somewhere", missing);
            }
        }
    }

    /** With a logistic score model (the example bundle with its policy's score model
     *  switched to its logistic fraud model, scored with its events), each declaration's
     *  reasons + bias + rest equal the logit of that model's score, ranked by magnitude, and
     *  the reasons carry much of the margins' spread. */
    @Test
    public void reasonCodesOfALogisticScoreModel() throws IOException {
        Path example = SOURCE.resolve("models/example"), dir = work.resolve("logistic_bundle");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(example)) {
            for (Path f : (Iterable<Path>) files::iterator)
                Files.copy(f, dir.resolve(f.getFileName()));
        }
        String policy = Files.readString(dir.resolve("policy.json"));
        String switched = policy.replace("\"score_model\": \"fraud\"",
                                         "\"score_model\": \"fraud_logistic\"");
        assertFalse("the policy names its score model as expected", switched.equals(policy));
        Files.writeString(dir.resolve("policy.json"), switched);
        List<Map<String, String>> decls = readRecords(example.resolve("declarations.csv"));
        try (Bundle bundle = Bundle.load(dir);
             DeviceKeys keys = DeviceKeys.load(example.resolve("device_keys.json"))) {
            BundleScores s = bundle.score(decls, 1, null, null, 3,
                                          Events.file(example.resolve("events.jsonl"), keys));
            assertEquals(decls.size(), s.size());
            double[] reasons = new double[s.size()], margins = new double[s.size()];
            for (int i = 0; i < s.size(); i++) {
                String at = "row " + i;
                assertEquals(at, 3, s.numReasons(i));
                double sum = (double) s.explainBias(i) + s.explainRest(i), last = 1e300;
                for (int k = 0; k < 3; k++) {
                    float c = s.reasonContribution(i, k);
                    assertTrue(at, Math.abs(c) <= last);
                    last = Math.abs(c);
                    reasons[i] += c;
                }
                double p = s.score(i, "fraud_logistic");
                margins[i] = Math.log(p / (1 - p));
                assertEquals(at, margins[i], sum + reasons[i], 1e-3);
            }
            assertTrue("the reasons carry the margins' spread",
                       spread(reasons) > 0.1 * spread(margins));
        }
    }

    /** Returns the standard deviation of xs. */
    private static double spread(double[] xs) {
        double mean = 0, sq = 0;
        for (double x : xs)
            mean += x / xs.length;
        for (double x : xs)
            sq += (x - mean) * (x - mean) / xs.length;
        return Math.sqrt(sq);
    }

    /** Without explain there are no reason codes; K above the number of fields gives every
     *  contributing field (rest 0), the first K of which are those of a smaller K, whose
     *  rest sums the others; a negative K is refused. */
    @Test
    public void reasonCodesWithoutExplainAndBeyondTheFields() {
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            BundleScores none = bundle.score(records, 1, TODAY);
            assertEquals(0, none.explain());
            assertEquals(0, none.numReasons(0));
            assertTrue(Float.isNaN(none.explainBias(0)) && Float.isNaN(none.explainRest(0)));
            assertThrows(IndexOutOfBoundsException.class, () -> none.reasonField(0, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> none.numReasons(none.size()));
            int fields = bundle.fieldNames().size();
            BundleScores all = bundle.score(records, 1, TODAY, null, fields + 2);
            BundleScores top = bundle.score(records, 1, TODAY, null, EXPLAIN);
            for (int i = 0; i < all.size(); i++) {
                assertTrue(all.numReasons(i) < fields);
                assertEquals(0f, all.explainRest(i), 0f);
                assertEquals(top.explainBias(i), all.explainBias(i), 0f);
                double beyond = 0;
                for (int k = 0; k < all.numReasons(i); k++) {
                    if (k < top.numReasons(i)) {
                        assertEquals(top.reasonField(i, k), all.reasonField(i, k));
                        assertEquals(top.reasonValue(i, k), all.reasonValue(i, k));
                        assertEquals(top.reasonContribution(i, k),
                                     all.reasonContribution(i, k), 0f);
                    } else {
                        beyond += all.reasonContribution(i, k);
                    }
                }
                assertEquals(top.explainRest(i), beyond, 1e-5);
            }
            assertThrows(IllegalArgumentException.class,
                         () -> bundle.score(records, 1, TODAY, null, -1));
        }
    }

    @Test
    public void errorsAndClose() {
        CriskException e = assertThrows(CriskException.class,
                                        () -> Bundle.load(work.resolve("nowhere")));
        assertTrue(e.getCode() < 0);
        assertTrue(e.getDetail(), e.getDetail().contains("nowhere"));
        Bundle bundle = Bundle.load(work.resolve("bundle"));
        assertEquals(List.of("fraud", "revenue"), bundle.modelNames());
        assertEquals(List.of("red", "yellow", "blue", "green"), bundle.lanes());
        assertTrue(bundle.toString().contains("fraud"));
        BundleScores none = bundle.score(List.of());
        assertEquals(0, none.size());
        bundle.close();
        bundle.close();
        assertThrows(IllegalStateException.class, () -> bundle.score(records));
    }

    /** Returns a file of the builder's write_expected: its header and its rows. */
    private static List<List<String>> expectedFile(String name) throws IOException {
        return readCsv(work.resolve(name));
    }

    /** Asserts that `got` are the refused events Python reported
     *  (event_rejects_expected.csv: line, row, kind, reason). */
    private static void assertRejectsAsPython(List<Events.Reject> got) throws IOException {
        List<List<String>> want = readCsv(work.resolve("event_rejects_expected.csv"));
        assertEquals(List.of("line", "row", "kind", "reason"), want.get(0));
        assertEquals(want.size() - 1, got.size());
        for (int i = 0; i < got.size(); i++) {
            List<String> e = want.get(i + 1);
            Events.Reject r = got.get(i);
            assertEquals(Long.parseLong(e.get(0)), r.line());
            assertEquals(Long.parseLong(e.get(1)), r.row());
            assertEquals(e.get(2), r.kind().name().toLowerCase(java.util.Locale.ROOT));
            assertEquals(e.get(3), r.reason());
        }
    }

    /** The example bundle scores the builder's declarations with their events (as a file,
     *  as lines, as bytes; from records and from columns, with a pool) exactly as the
     *  Python binding did, and refuses the same events; the events decide some lanes, so
     *  scoring without them gives Python's results without them, and no event profile
     *  hits. */
    @Test
    public void eventsScoreAsPythonDoes() throws IOException {
        List<Map<String, String>> decls = readRecords(work.resolve("events_decls.csv"));
        List<List<String>> with = expectedFile("events_expected.csv");
        List<List<String>> without = expectedFile("noevents_expected.csv");
        Path file = work.resolve("events.jsonl");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        try (Bundle bundle = Bundle.load(SOURCE.resolve("models/example"));
             DeviceKeys keys = DeviceKeys.load(work.resolve("device_keys.json"));
             Pool pool = Pool.create(2)) {
            Map<String, List<String>> columns = new HashMap<>();
            for (String f : bundle.fieldNames())
                columns.put(f, decls.stream().map(r -> r.get(f)).toList());
            List<BundleScores> scored = List.of(
                bundle.score(decls, 1, TODAY, null, 0, Events.file(file, keys)),
                bundle.score(decls, 1, TODAY, null, 0, Events.lines(lines, keys)),
                bundle.score(decls, 0, TODAY, pool, 0,
                             Events.bytes(Files.readAllBytes(file), keys)),
                bundle.scoreColumns(columns, 2, TODAY, null, 0, Events.file(file, keys)));
            for (BundleScores s : scored) {
                assertSameAs(with.get(0), with.subList(1, with.size()), decls.size(), bundle, s);
                assertRejectsAsPython(s.eventRejects());
            }
            BundleScores plain = bundle.score(decls, 1, TODAY);
            assertSameAs(without.get(0), without.subList(1, without.size()), decls.size(),
                         bundle, plain);
            assertEquals(List.of(), plain.eventRejects());
            boolean evHit = false;
            boolean otherLane = false;
            BundleScores s = scored.get(0);
            for (int i = 0; i < s.size(); i++) {
                evHit |= s.hits(i).stream().anyMatch(h -> h.startsWith("EV-"));
                assertTrue(plain.hits(i).stream().noneMatch(h -> h.startsWith("EV-")));
                otherLane |= !s.lane(i).equals(plain.lane(i));
            }
            assertTrue("an event profile decides some declaration", evHit);
            assertTrue("the events change some lane", otherLane);
            // the two-argument forms: the calling thread, each declaration's own date
            BundleScores own = bundle.score(decls, file, keys);
            BundleScores ownLines = bundle.score(decls, lines, keys);
            assertRejectsAsPython(own.eventRejects());
            for (int i = 0; i < own.size(); i++) {
                assertEquals(own.score(i, 0), ownLines.score(i, 0), 0f);
                assertEquals(own.lane(i), ownLines.lane(i));
            }
        }
    }

    /** The builder's stream holds a truncated line, a key of an unknown kind, a signed
     *  event copied under another id and one copied to a device the key file does not
     *  list: each is refused with its kind, as are the generator's forged breaches.
     *  Without the keys no device is known and every event is refused (but the two refused
     *  earlier for other reasons); demanding an HMAC of every event refuses every unsigned
     *  one. */
    @Test
    public void eventRejectsByKind() throws IOException {
        List<Map<String, String>> decls = readRecords(work.resolve("events_decls.csv"));
        Path file = work.resolve("events.jsonl");
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        long signed = lines.stream().filter(l -> l.contains("\"hmac\":")).count();
        try (Bundle bundle = Bundle.load(SOURCE.resolve("models/example"));
             DeviceKeys keys = DeviceKeys.load(work.resolve("device_keys.json"))) {
            Map<Events.RejectKind, Long> kinds = countKinds(
                bundle.score(decls, file, keys).eventRejects());
            assertEquals(Map.of(Events.RejectKind.MALFORMED, 1L,
                                Events.RejectKind.UNKNOWN_KEY, 1L,
                                Events.RejectKind.UNKNOWN_DEVICE, 1L,
                                Events.RejectKind.BAD_HMAC, 3L), kinds);
            assertEquals(Map.of(Events.RejectKind.MALFORMED, 1L,
                                Events.RejectKind.UNKNOWN_KEY, 1L,
                                Events.RejectKind.UNKNOWN_DEVICE, (long) lines.size() - 2),
                         countKinds(bundle.score(decls, file, null).eventRejects()));
            Map<Events.RejectKind, Long> strict = countKinds(bundle.score(
                decls, 1, TODAY, null, 0, Events.file(file, keys).requireHmac(true))
                .eventRejects());
            assertEquals(lines.size() - signed - 2,
                         (long) strict.get(Events.RejectKind.MISSING_HMAC));
            assertEquals(kinds.get(Events.RejectKind.BAD_HMAC),
                         strict.get(Events.RejectKind.BAD_HMAC));
        }
    }

    /** Returns how many of `rejects` there are of each kind. */
    private static Map<Events.RejectKind, Long> countKinds(List<Events.Reject> rejects) {
        Map<Events.RejectKind, Long> out = new HashMap<>();
        for (Events.Reject r : rejects)
            out.merge(r.kind(), 1L, Long::sum);
        return out;
    }

    /** A missing key file or event file fails with a CriskException naming it; a line
     *  holding a line break is refused before any call; closing keys twice is safe, and
     *  scoring with closed keys throws. */
    @Test
    public void eventErrorsAndClose() throws IOException {
        CriskException e = assertThrows(CriskException.class,
            () -> DeviceKeys.load(work.resolve("no_such_keys.json")));
        assertEquals("CRISK_E_IO", e.getErrorName());
        assertTrue(e.getDetail(), e.getDetail().contains("no_such_keys.json"));
        List<Map<String, String>> decls = readRecords(work.resolve("events_decls.csv"));
        DeviceKeys keys = DeviceKeys.load(work.resolve("device_keys.json"));
        try (Bundle bundle = Bundle.load(SOURCE.resolve("models/example"))) {
            Path nowhere = work.resolve("no_such_events.jsonl");
            CriskException missing = assertThrows(CriskException.class,
                () -> bundle.score(decls, nowhere, keys));
            assertEquals("CRISK_E_IO", missing.getErrorName());
            assertTrue(missing.getDetail(), missing.getDetail().contains("no_such_events"));
            IllegalArgumentException split = assertThrows(IllegalArgumentException.class,
                () -> Events.lines(List.of("{}", "{\n}"), keys));
            assertTrue(split.getMessage(), split.getMessage().startsWith("event 1:"));
            assertFalse(keys.isClosed());
            keys.close();
            keys.close();
            assertTrue(keys.isClosed());
            IllegalStateException closed = assertThrows(IllegalStateException.class,
                () -> bundle.score(decls, work.resolve("events.jsonl"), keys));
            assertEquals("the crisk device key set is closed", closed.getMessage());
        }
    }

    /** Asserts that `got` gives the declarations `want` gave: the same input rows, scores
     *  (bit for bit), lanes, reasons and hits, and rejects at the same rows. */
    private static void assertSameScores(Bundle bundle, BundleScores want, BundleScores got) {
        assertEquals(want.size(), got.size());
        for (int i = 0; i < want.size(); i++) {
            assertEquals(want.inputRow(i), got.inputRow(i));
            for (int m = 0; m < bundle.modelNames().size(); m++)
                assertEquals(Float.floatToIntBits(want.score(i, m)),
                             Float.floatToIntBits(got.score(i, m)));
            assertEquals("row " + i, want.lane(i), got.lane(i));
            assertEquals("row " + i, want.reason(i), got.reason(i));
            assertEquals("row " + i, want.hits(i), got.hits(i));
        }
        assertEquals(want.rejects().stream().map(BundleScores.Reject::row).toList(),
                     got.rejects().stream().map(BundleScores.Reject::row).toList());
    }

    /** Writes the CSV file `csv` as JSON Lines (an empty cell is null) to `out`. */
    private static void writeJsonLines(Path csv, Path out) throws IOException {
        List<List<String>> rows = readCsv(csv);
        List<String> lines = new ArrayList<>();
        for (List<String> row : rows.subList(1, rows.size())) {
            StringBuilder b = new StringBuilder("{");
            for (int j = 0; j < row.size(); j++) {
                String v = row.get(j);
                b.append(j == 0 ? "" : ",").append('"').append(rows.get(0).get(j))
                 .append("\":");
                b.append(v.isEmpty() ? "null"
                         : '"' + v.replace("\\", "\\\\").replace("\"", "\\\"") + '"');
            }
            lines.add(b.append('}').toString());
        }
        Files.write(out, lines, StandardCharsets.UTF_8);
    }

    /** A CSV or JSON Lines file is scored through the library's reader as the same rows
     *  given as records are (issue 16, item 7): same scores, lanes, reasons, hits, and the
     *  rejected rows kept at their positions, their reasons naming the file and line. A
     *  file that tells no format, or does not exist, is refused naming it. */
    @Test
    public void filesScoreAsRecords() throws IOException {
        Path csv = work.resolve("decls.csv");
        Path jsonl = work.resolve("decls.jsonl");
        writeJsonLines(csv, jsonl);
        try (Bundle bundle = Bundle.load(work.resolve("bundle"))) {
            BundleScores want = bundle.score(records, 1, TODAY);
            for (Path file : List.of(csv, jsonl)) {
                BundleScores got = bundle.score(file, 1, TODAY, null, 0, null, null);
                assertSameScores(bundle, want, got);
                assertFalse(got.rejects().isEmpty());
                for (BundleScores.Reject r : got.rejects()) {
                    int line = r.row() + (file == csv ? 2 : 1);   // the CSV header is line 1
                    assertTrue(r.reason(), r.reason().startsWith(file + " line " + line + ": "));
                }
            }
            Path text = work.resolve("decls.txt");
            Files.copy(csv, text);
            CriskException e = assertThrows(CriskException.class, () -> bundle.score(text));
            assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());
            assertTrue(e.getDetail(), e.getDetail().contains("decls.txt"));
            e = assertThrows(CriskException.class,
                             () -> bundle.score(work.resolve("nowhere.csv")));
            assertEquals("CRISK_E_IO", e.getErrorName());
            assertTrue(e.getDetail(), e.getDetail().contains("nowhere.csv"));
        }
    }

    /** Stream mode (issue 16, defect 2 and item 7): the example policy's 2% red budget
     *  refuses a one-declaration batch without a lane state, naming stream mode, where it
     *  sent every declaration to red; with a state, declarations scored one per call get
     *  the lanes and reasons of the same declarations in one call, also across a state
     *  saved and resumed, and red keeps to a small share. */
    @Test
    public void streamModeOneDeclarationPerCall() throws IOException {
        List<Map<String, String>> decls =
            readRecords(SOURCE.resolve("models/example/declarations.csv"));
        Path saved = work.resolve("lanes.state");
        try (Bundle bundle = Bundle.load(SOURCE.resolve("models/example"))) {
            CriskException e = assertThrows(CriskException.class,
                                            () -> bundle.score(decls.subList(0, 1)));
            assertEquals("CRISK_E_INVALID_ARGUMENT", e.getErrorName());
            assertTrue(e.getDetail(), e.getDetail().contains("lane \"red\"'s share 0.02")
                       && e.getDetail().contains("stream mode"));
            BundleScores whole;
            try (LaneState state = bundle.stream()) {
                whole = bundle.score(decls, state);
            }
            int half = decls.size() / 2, red = 0;
            try (LaneState state = bundle.stream(saved)) {   // no file yet: a fresh state
                for (int i = 0; i < half; i++)
                    red += assertSameDecision(whole, i, bundle.score(decls.subList(i, i + 1),
                                                                     state));
                state.save(saved);
            }
            try (LaneState state = bundle.stream(saved)) {   // resumes
                for (int i = half; i < decls.size(); i++)
                    red += assertSameDecision(whole, i, bundle.score(decls.subList(i, i + 1),
                                                                     state));
            }
            assertTrue("red " + red + " of " + decls.size(), red < decls.size() / 10);
            LaneState closed = bundle.stream();
            closed.close();
            assertThrows(IllegalStateException.class,
                         () -> bundle.score(decls.subList(0, 1), closed));
        }
    }

    /** Asserts that `one`, the scores of declaration i alone, has the lane and reason of
     *  row i in `whole`; returns 1 when that lane is red. */
    private static int assertSameDecision(BundleScores whole, int i, BundleScores one) {
        assertEquals(1, one.size());
        assertEquals("declaration " + i, whole.lane(i), one.lane(0));
        assertEquals("declaration " + i, whole.reason(i), one.reason(0));
        return "red".equals(one.lane(0)) ? 1 : 0;
    }
}
