package org.crisk.test;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertThrows;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.crisk.Bundle;
import org.crisk.BundleScores;
import org.crisk.CriskException;
import org.crisk.Decider;
import org.crisk.Decision;
import org.crisk.DeviceKeys;
import org.crisk.EventIndex;
import org.crisk.Events;
import org.crisk.LaneState;
import org.junit.Test;

/**
 * org.crisk.Decider, one declaration a call, against Bundle.score of the same declarations
 * as one batch in stream mode: with the example bundle (models/example) and its border
 * sensor events read once into an EventIndex, every decision (each model's score bit for
 * bit, lane, reason, kind, hits, propensity) must be the batch's, with and without events
 * and a fixed date; a rejected declaration throws naming its field and leaves the stream
 * as the batch's reject does; misuse fails with the exception that names it.
 */
public class DeciderTest {
    private static final Path EXAMPLE = Paths.get(System.getenv("CRISK_SOURCE_DIR"))
        .resolve("models/example");

    /** Runs the tests; exits 0 only when every one passed. */
    public static void main(String[] args) {
        JUnitMain.run(DeciderTest.class);
    }

    @Test
    public void decisionsAreTheBatchsWithEvents() throws IOException {
        try (Bundle bundle = Bundle.load(EXAMPLE);
             DeviceKeys keys = DeviceKeys.load(EXAMPLE.resolve("device_keys.json"))) {
            Events events = Events.file(EXAMPLE.resolve("events.jsonl"), keys);
            BundleScores batch = scoreAsBatch(bundle, records(), null, events);
            try (EventIndex index = bundle.loadEvents(events); LaneState state = bundle.stream();
                 Decider decider = bundle.decider(state, index)) {
                assertEquals(batch.eventRejects(), index.rejects());
                assertEquals(3, index.rejects().size());
                int eventHits = assertSameDecisions(bundle, batch, decider, records());
                assertTrue("an event profile decides some declaration", eventHits > 0);
            }
        }
    }

    @Test
    public void decisionsAreTheBatchsWithoutEventsAndWithADate() throws IOException {
        LocalDate today = LocalDate.of(2025, 6, 30);
        try (Bundle bundle = Bundle.load(EXAMPLE); LaneState state = bundle.stream();
             Decider decider = bundle.decider(state, null, today)) {
            BundleScores batch = scoreAsBatch(bundle, records(), today, null);
            assertEquals(0, assertSameDecisions(bundle, batch, decider, records()));
        }
    }

    /** A record given by field name decides as its values in field order do. */
    @Test
    public void recordsDecideAsValues() throws IOException {
        List<Map<String, String>> records = records();
        try (Bundle bundle = Bundle.load(EXAMPLE); LaneState a = bundle.stream();
             LaneState b = bundle.stream(); Decider byName = bundle.decider(a, null);
             Decider byOrder = bundle.decider(b, null)) {
            Decision d = byName.newDecision();
            for (Map<String, String> record : records.subList(0, 50)) {
                byName.decide(record, d);
                Decision e = byOrder.decide(values(bundle, record));
                assertEquals(e.toString(), d.toString());
                assertEquals(Float.floatToIntBits(e.score(0)), Float.floatToIntBits(d.score(0)));
            }
        }
    }

    /** Bad values are rejected as the batch rejects them, with the same message naming the
     *  field (a non-ASCII identifier names its code point: the text crossed as the batch
     *  path's UTF-8); the decider goes on, and the stream continues as the batch's (which
     *  reports the rows and scores the others) does. */
    @Test
    public void rejectsAsTheBatch() throws IOException {
        List<Map<String, String>> records = new ArrayList<>(records().subList(0, 60));
        records.get(3).put("importer_id", "IMP\uD83D\uDE00");
        records.get(7).put("declared_value", "12;5");
        try (Bundle bundle = Bundle.load(EXAMPLE); LaneState state = bundle.stream();
             Decider decider = bundle.decider(state, null)) {
            BundleScores batch = scoreAsBatch(bundle, records, null, null);
            assertEquals(List.of(3, 7), batch.rejects().stream().map(BundleScores.Reject::row)
                                             .toList());
            assertTrue(batch.rejects().get(0).reason().contains("U+1F600"));
            Decision d = decider.newDecision();
            for (int i = 0, scored = 0, rejected = 0; i < records.size(); i++) {
                String[] values = values(bundle, records.get(i));
                if (i == 3 || i == 7) {
                    CriskException e = assertThrows(CriskException.class,
                                                    () -> decider.decide(values, d));
                    assertEquals(-8, e.getCode());
                    assertEquals(batch.rejects().get(rejected++).reason(), e.getDetail());
                    assertSame(bundle, batch, scored - 1, d);   // d as it was
                    continue;
                }
                decider.decide(values, d);
                assertSame(bundle, batch, scored++, d);
            }
        }
    }

    /** Deciders on two threads, each with its own lane state, sharing the bundle and the
     *  event index, each decide every declaration as the batch does. */
    @Test
    public void oneDeciderPerThread() throws Exception {
        try (Bundle bundle = Bundle.load(EXAMPLE);
             DeviceKeys keys = DeviceKeys.load(EXAMPLE.resolve("device_keys.json"))) {
            Events events = Events.file(EXAMPLE.resolve("events.jsonl"), keys);
            BundleScores batch = scoreAsBatch(bundle, records(), null, events);
            try (EventIndex index = bundle.loadEvents(events)) {
                List<Thread> threads = new ArrayList<>();
                List<Throwable> failures = java.util.Collections.synchronizedList(
                    new ArrayList<>());
                for (int t = 0; t < 2; t++) {
                    threads.add(new Thread(() -> {
                        try (LaneState state = bundle.stream();
                             Decider decider = bundle.decider(state, index)) {
                            assertSameDecisions(bundle, batch, decider, records());
                        } catch (Throwable e) {
                            failures.add(e);
                        }
                    }));
                }
                for (Thread t : threads)
                    t.start();
                for (Thread t : threads)
                    t.join();
                assertEquals(List.of(), failures);
            }
        }
    }

    @Test
    public void misuseFailsNamingIt() throws IOException {
        try (Bundle bundle = Bundle.load(EXAMPLE); Bundle other = Bundle.load(EXAMPLE);
             DeviceKeys keys = DeviceKeys.load(EXAMPLE.resolve("device_keys.json"));
             EventIndex otherEvents = other.loadEvents(
                 Events.file(EXAMPLE.resolve("events.jsonl"), keys))) {
            String[] values = values(bundle, records().get(0));
            assertThrows(IllegalArgumentException.class, () -> bundle.decider(null, otherEvents));
            LaneState state = bundle.stream();
            Decider decider = bundle.decider(state, null);
            Decision empty = decider.newDecision();
            assertNull(empty.lane());
            assertEquals(-1, empty.laneIndex());
            assertThrows(IllegalArgumentException.class,
                         () -> decider.decide(new String[values.length - 1], empty));
            try (Decider foreign = other.decider(null, null)) {
                assertThrows(IllegalArgumentException.class,
                             () -> decider.decide(values, foreign.newDecision()));
            }
            try (Decider batchMode = bundle.decider(null, null)) {
                CriskException e = assertThrows(CriskException.class,
                                                () -> batchMode.decide(values));
                assertTrue(e.getDetail(), e.getDetail().contains("stream"));
            }
            decider.decide(values, empty);
            assertTrue(empty.laneIndex() >= 0);
            state.close();
            assertThrows(IllegalStateException.class, () -> decider.decide(values, empty));
            decider.close();
            assertTrue(decider.isClosed());
            assertThrows(IllegalStateException.class, () -> decider.decide(values, empty));
        }
    }

    /** Scores `records` as one batch in stream mode with a fresh state. */
    private static BundleScores scoreAsBatch(Bundle bundle, List<Map<String, String>> records,
                                             LocalDate today, Events events) {
        try (LaneState state = bundle.stream()) {
            return bundle.score(records, 1, today, null, 0, events, state);
        }
    }

    /** Decides each record with `decider` into one reused Decision and asserts it is the
     *  batch's decision; returns how many hit an event profile (EV-). */
    private static int assertSameDecisions(Bundle bundle, BundleScores batch, Decider decider,
                                           List<Map<String, String>> records) {
        assertEquals(records.size(), batch.size());
        Decision d = decider.newDecision();
        int eventHits = 0;
        for (int i = 0; i < records.size(); i++) {
            decider.decide(values(bundle, records.get(i)), d);
            assertSame(bundle, batch, i, d);
            eventHits += d.hits().stream().anyMatch(h -> h.startsWith("EV-")) ? 1 : 0;
        }
        return eventHits;
    }

    /** Asserts `d` is declaration `i` of `batch`, scores bit for bit. */
    private static void assertSame(Bundle bundle, BundleScores batch, int i, Decision d) {
        String at = "declaration " + i;
        for (int m = 0; m < bundle.modelNames().size(); m++)
            assertEquals(at, Float.floatToIntBits(batch.score(i, m)),
                         Float.floatToIntBits(d.score(m)));
        assertEquals(at, batch.lane(i), d.lane());
        assertEquals(at, bundle.lanes().indexOf(batch.lane(i)), d.laneIndex());
        assertEquals(at, batch.reason(i), d.reason());
        assertEquals(at, batch.reasonKind(i), d.reasonKind());
        assertEquals(at, batch.hits(i), d.hits());
        assertEquals(at, batch.hits(i).size(), d.numHits());
        assertEquals(at, Double.doubleToLongBits(batch.propensity(i)),
                     Double.doubleToLongBits(d.propensity()));
    }

    /** Returns the record's values in the bundle's field order. */
    private static String[] values(Bundle bundle, Map<String, String> record) {
        return bundle.fieldNames().stream().map(record::get).toArray(String[]::new);
    }

    /** Reads the example declarations (a CSV file without quoted cells) as records. */
    private static List<Map<String, String>> records() throws IOException {
        List<String> lines = Files.readAllLines(EXAMPLE.resolve("declarations.csv"));
        String[] header = lines.get(0).split(",", -1);
        List<Map<String, String>> out = new ArrayList<>();
        for (String line : lines.subList(1, lines.size())) {
            assertTrue("no quoted cells", line.indexOf('"') < 0);
            String[] cells = line.split(",", -1);
            Map<String, String> r = new HashMap<>();
            for (int j = 0; j < header.length; j++)
                r.put(header[j], cells[j]);
            out.add(r);
        }
        return out;
    }
}
