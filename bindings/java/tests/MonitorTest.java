package org.crisk.test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.crisk.Bundle;
import org.crisk.CriskException;
import org.crisk.DriftItem;
import org.crisk.DriftState;
import org.junit.Test;

/**
 * org.crisk.Bundle#monitor against `crisk monitor` on the same declarations (written by
 * models/generate.py at test time, scored without events so that the event features
 * drift): the same items, in the same order, with the same PSI and level. Stream mode
 * (Bundle#monitorStream, DriftState) against the same command with --state.
 */
public class MonitorTest {
    private static final Path SOURCE = Paths.get(System.getenv("CRISK_SOURCE_DIR"));
    private static final Path BUNDLE = SOURCE.resolve("models/example");

    /** Runs the tests; exits 0 only when every one passed. */
    public static void main(String[] args) {
        JUnitMain.run(MonitorTest.class);
    }

    /** Runs a command; returns its stdout, failing unless it exits with `expected`. */
    private static String run(Path work, int expected, String... cmd) throws Exception {
        Path out = work.resolve("stdout"), err = work.resolve("stderr");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile())
            .redirectError(err.toFile()).start();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", cmd));
        }
        assertEquals(Files.readString(err), expected, p.exitValue());
        return Files.readString(out);
    }

    @Test
    public void monitorMatchesTheCommandLine() throws Exception {
        Path work = Files.createTempDirectory("crisk-monitor-test");
        Path csv = work.resolve("decls.csv");
        run(work, 0, "python3", SOURCE.resolve("models/generate.py").toString(), "--rows",
            "2000", "--seed", "12", "--output", csv.toString());
        String table = run(work, 3, System.getenv("CRISK_CLI"), "monitor", "--bundle",
                           BUNDLE.toString(), "--input", csv.toString());
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> records = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);   // generated cells hold no commas
            Map<String, String> rec = new HashMap<>();
            for (int j = 0; j < header.length; j++)
                rec.put(header[j], cells[j]);
            records.add(rec);
        }
        try (Bundle bundle = Bundle.load(BUNDLE)) {
            List<DriftItem> items = bundle.monitor(records, null);
            String[] rows = table.split("\n");
            assertEquals(rows.length - 2, items.size());
            for (int i = 0; i < items.size(); i++) {
                String[] cols = rows[i + 2].trim().split("\\s+");
                DriftItem it = items.get(i);
                assertEquals(cols[0], it.name());
                assertEquals(cols[1], it.kind());
                assertEquals(cols[2], String.format(Locale.ROOT, "%.4f", it.psi()));
                assertEquals(cols[cols.length - 1], it.level());
            }
            assertEquals("alert", items.get(0).level());   // no events: event features drift
        }
    }

    /** Generates `rows` declarations with `seed`; returns the file and its records. */
    private static List<Map<String, String>> generate(Path csv, int rows, int seed)
            throws Exception {
        run(csv.getParent(), 0, "python3", SOURCE.resolve("models/generate.py").toString(),
            "--rows", Integer.toString(rows), "--seed", Integer.toString(seed), "--output",
            csv.toString());
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> records = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            String[] cells = line.split(",", -1);   // generated cells hold no commas
            Map<String, String> rec = new HashMap<>();
            for (int j = 0; j < header.length; j++)
                rec.put(header[j], cells[j]);
            records.add(rec);
        }
        return records;
    }

    /** The items of `crisk monitor --output` JSON file `json`: name, psi and level. */
    private static List<String> itemsOf(String json) {
        List<String> out = new ArrayList<>();
        var m = java.util.regex.Pattern.compile(
            "\\{\"name\":\"([^\"]+)\".*?\"psi\":([^,]+),.*?\"level\":\"(\\w+)\"")
            .matcher(json);
        while (m.find())
            out.add(m.group(1) + " " + m.group(2) + " " + m.group(3));
        return out;
    }

    private static List<String> itemsOf(List<DriftItem> items) {
        List<String> out = new ArrayList<>();
        for (DriftItem it : items)
            out.add(it.name() + " " + String.format(Locale.ROOT, "%.17g", it.psi()) + " "
                    + it.level());
        return out;
    }

    @Test
    public void streamSavedAndRestoredMatchesTheCommandLineState() throws Exception {
        Path work = Files.createTempDirectory("crisk-monitor-stream");
        List<Map<String, String>> a = generate(work.resolve("a.csv"), 1500, 21);
        List<Map<String, String>> b = generate(work.resolve("b.csv"), 1500, 22);
        String cli = System.getenv("CRISK_CLI");
        Path cliState = work.resolve("cli-state.json"), javaState = work.resolve("state.json");
        for (String part : new String[] {"a.csv", "b.csv"})
            run(work, 3, cli, "monitor", "--bundle", BUNDLE.toString(), "--input",
                work.resolve(part).toString(), "--state", cliState.toString(), "--window",
                "2000", "--output", work.resolve("drift.json").toString());
        List<DriftItem> items;
        try (Bundle bundle = Bundle.load(BUNDLE)) {
            try (DriftState state = bundle.monitorStream(javaState, 2000)) {
                bundle.monitor(a, null, state);
                assertEquals(1500, state.rows());
                state.save(javaState);
            }
            try (DriftState state = bundle.monitorStream(javaState, 0)) {  // resumes
                assertEquals(1500, state.rows());
                items = bundle.monitor(b, null, state);
                assertEquals(2000, state.rows());   // the window keeps the last 2000
            }
        }
        List<String> expected = itemsOf(Files.readString(work.resolve("drift.json")));
        List<String> got = itemsOf(items);
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < got.size(); i++) {
            String[] e = expected.get(i).split(" "), g = got.get(i).split(" ");
            assertEquals(e[0], g[0]);
            double psi = Double.parseDouble(e[1]);   // the JSON's 8 significant digits
            assertEquals(psi, Double.parseDouble(g[1]), 1e-7 * Math.max(1, Math.abs(psi)));
            assertEquals(e[2], g[2]);
        }
    }

    @Test
    public void stateOfAnotherBundleIsRefused() throws Exception {
        Path dir = Files.createTempDirectory("crisk-monitor-other");
        try (var files = Files.list(BUNDLE)) {
            for (Path f : (Iterable<Path>) files::iterator)
                Files.copy(f, dir.resolve(f.getFileName()));
        }
        Path policy = dir.resolve("policy.json");
        Files.writeString(policy, Files.readString(policy).replace("\"default_lane\"",
            "\"monitor\": {\"warn\": 0.1, \"alert\": 0.25},\n  \"default_lane\""));
        Path saved = dir.resolve("state.json");
        List<Map<String, String>> a = generate(dir.resolve("a.csv"), 200, 23);
        try (Bundle bundle = Bundle.load(BUNDLE); Bundle other = Bundle.load(dir)) {
            try (DriftState state = other.monitorStream(0)) {
                assertThrows(IllegalArgumentException.class,
                             () -> bundle.monitor(a, null, state));
                other.monitor(a, null, state);
                state.save(saved);
            }
            CriskException e = assertThrows(CriskException.class,
                                            () -> bundle.monitorStream(saved, 0));
            assertTrue(e.getMessage(), e.getMessage().contains(saved.toString()));
        }
    }

    @Test
    public void bundleWithoutReferenceIsRefused() throws Exception {
        Path dir = Files.createTempDirectory("crisk-monitor-bundle");
        try (var files = Files.list(BUNDLE)) {
            for (Path f : (Iterable<Path>) files::iterator)
                Files.copy(f, dir.resolve(f.getFileName()));
        }
        Path manifest = dir.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest)
            .replace(",\n  \"reference\": \"reference.json\"", ""));
        try (Bundle bundle = Bundle.load(dir)) {
            CriskException e = assertThrows(CriskException.class,
                () -> bundle.monitor(List.of(Map.of()), null));
            assertTrue(e.getMessage(), e.getMessage().contains("no reference distributions"));
        }
    }
}
