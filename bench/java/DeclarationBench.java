/*
 * bench/java/DeclarationBench.java — one declaration a call through the Java binding: a
 * clearance system's call, one record in and its lane out, with the example bundle's
 * border sensor events (loaded once) and a streaming lane state, timed per call with
 * System.nanoTime after a JIT warm-up; p50 and p99 of each run, medians over the runs; and
 * the thread's CPU time per call over each run (timing included), its median, which a
 * loaded machine's scheduler does not inflate.
 *
 *   java -cp build/bindings/java/crisk.jar bench/java/DeclarationBench.java \
 *        [--bundle models/example] [--calls 2000] [--runs 5] [--warmup 20000] [--no-events]
 *        [--api decider|score]
 *
 * --api decider (the default): Bundle.decider, the events read once into an EventIndex,
 * the record as a String[] in field order, one Decision reused. --api score: a batch of
 * one record per call through Bundle.score, the events read again at every call (the only
 * path before the Decider).
 *
 * Before timing, the lanes decided one a call are checked against the same declarations
 * scored as one batch with a fresh state (every one must agree, or the bench fails).
 */

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.crisk.Bundle;
import org.crisk.BundleScores;
import org.crisk.Decider;
import org.crisk.Decision;
import org.crisk.DeviceKeys;
import org.crisk.EventIndex;
import org.crisk.Events;
import org.crisk.LaneState;

public final class DeclarationBench {
    /** The command line, with its defaults. */
    private static final class Options {
        Path bundle = Path.of("models/example");
        int calls = 2000;
        int runs = 5;
        int warmup = 20000;
        boolean events = true;
        boolean decider = true;
    }

    /** One declaration a call, as the binding offers it: returns the lane's index. */
    private interface Call {
        int lane(int record);
    }

    public static void main(String[] args) throws IOException {
        Options o = parse(args);
        List<Map<String, String>> records = readCsv(o.bundle.resolve("declarations.csv"));
        try (Bundle bundle = Bundle.load(o.bundle);
             DeviceKeys keys = DeviceKeys.load(o.bundle.resolve("device_keys.json"))) {
            Events events = o.events
                ? Events.bytes(Files.readAllBytes(o.bundle.resolve("events.jsonl")), keys) : null;
            checkLanes(bundle, records, events);
            try (LaneState state = bundle.stream();
                 EventIndex index = events == null ? null : bundle.loadEvents(events);
                 Decider decider = bundle.decider(state, index)) {
                if (o.decider) {
                    String[][] values = inFieldOrder(records, bundle.fieldNames());
                    Decision d = decider.newDecision();
                    report(o, records.size(), r -> {
                        decider.decide(values[r], d);
                        return d.laneIndex();
                    });
                } else {
                    report(o, records.size(), r -> bundle.lanes().indexOf(bundle.score(
                        List.of(records.get(r)), 1, null, null, 0, events, state).lane(0)));
                }
            }
        }
    }

    /** Times o.runs runs of o.calls calls (after o.warmup untimed ones) and prints the
     *  medians of their p50 and p99 in microseconds. */
    private static void report(Options o, int n, Call call) {
        for (int c = 0; c < o.warmup; c++)
            call.lane(c % n);
        double[] p50 = new double[o.runs], p99 = new double[o.runs], cpu = new double[o.runs];
        long[] ns = new long[o.calls];
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int run = 0; run < o.runs; run++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            for (int c = 0; c < o.calls; c++) {
                long t0 = System.nanoTime();
                int lane = call.lane(c % n);
                ns[c] = System.nanoTime() - t0;
                if (lane < 0)
                    throw new IllegalStateException("a declaration got no lane");
            }
            cpu[run] = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / o.calls;
            Arrays.sort(ns);
            p50[run] = quantile(ns, 0.5) / 1e3;
            p99[run] = quantile(ns, 0.99) / 1e3;
        }
        System.out.printf("java declaration-1 (%s, %s, %s): p50 %.2f us, p99 %.2f us, "
                          + "cpu %.2f us a call (medians of %d runs of %d calls; p99 by run "
                          + "%s)%n",
                          o.decider ? "Decider" : "Bundle.score", o.bundle,
                          o.events ? "with events" : "without events",
                          median(p50), median(p99), median(cpu), o.runs, o.calls,
                          Arrays.toString(p99));
    }

    /** Fails unless every lane decided one declaration a call by a Decider (fresh state,
     *  the events read once) equals the lane of the same declarations scored as one batch
     *  (another fresh state). */
    private static void checkLanes(Bundle bundle, List<Map<String, String>> records,
                                   Events events) {
        try (LaneState whole = bundle.stream(); LaneState one = bundle.stream();
             EventIndex index = events == null ? null : bundle.loadEvents(events);
             Decider decider = bundle.decider(one, index)) {
            BundleScores all = bundle.score(records, 1, null, null, 0, events, whole);
            for (int i = 0; i < records.size(); i++) {
                String lane = decider.decide(inFieldOrder(List.of(records.get(i)),
                                                          bundle.fieldNames())[0]).lane();
                if (!lane.equals(all.lane(i)))
                    throw new IllegalStateException("declaration " + i + ": lane " + lane
                                                    + " one a call, " + all.lane(i)
                                                    + " in one batch");
            }
        }
    }

    /** Returns each record's values in the order of `fields`. */
    private static String[][] inFieldOrder(List<Map<String, String>> records,
                                           List<String> fields) {
        String[][] out = new String[records.size()][];
        for (int r = 0; r < out.length; r++) {
            Map<String, String> record = records.get(r);
            out[r] = fields.stream().map(record::get).toArray(String[]::new);
        }
        return out;
    }

    /** Reads a CSV file without quoted cells (the example's) into records. */
    private static List<Map<String, String>> readCsv(Path path) throws IOException {
        List<String> lines = Files.readAllLines(path);
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            if (line.indexOf('"') >= 0)
                throw new IllegalArgumentException(path + ": quoted cells are not read here");
            String[] cells = line.split(",", -1);
            Map<String, String> r = new HashMap<>();
            for (int j = 0; j < header.length; j++)
                r.put(header[j], j < cells.length ? cells[j] : null);
            out.add(r);
        }
        return out;
    }

    /** As bench.c's quantile: the element at q * (n - 1), rounded, of sorted values. */
    private static double quantile(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.round(q * (sorted.length - 1)))];
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bundle" -> o.bundle = Path.of(args[++i]);
                case "--calls" -> o.calls = Integer.parseInt(args[++i]);
                case "--runs" -> o.runs = Integer.parseInt(args[++i]);
                case "--warmup" -> o.warmup = Integer.parseInt(args[++i]);
                case "--no-events" -> o.events = false;
                case "--api" -> o.decider = switch (args[++i]) {
                    case "decider" -> true;
                    case "score" -> false;
                    default -> throw new IllegalArgumentException("--api decider|score");
                };
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                    + " (--bundle DIR --calls N --runs N --warmup N --no-events"
                    + " --api decider|score)");
            }
        }
        return o;
    }
}
