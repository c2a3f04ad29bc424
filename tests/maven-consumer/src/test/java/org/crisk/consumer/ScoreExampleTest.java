package org.crisk.consumer;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.crisk.Bundle;
import org.crisk.BundleScores;
import org.crisk.LaneState;
import org.junit.Test;

/**
 * The example bundle (models/example) scored in stream mode through the installed
 * org.crisk:crisk artifact, as a clearance system would: a lane state, the declarations
 * file read by the library's reader. It must give what `crisk score --state` gave for the
 * same file with a fresh state (crisk.expected, written by run_consumer.py): the same
 * scores bit for bit, lanes, reasons and hits, row for row.
 */
public class ScoreExampleTest {
    /** Splits one CSV record (RFC 4180 quoting; the CLI writes no line break in a cell). */
    private static List<String> cells(String line) {
        List<String> out = new ArrayList<>();
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
                out.add(cell.toString());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        out.add(cell.toString());
        return out;
    }

    @Test
    public void scoresTheExampleInStreamModeAsTheCliDoes() throws IOException {
        Path example = Path.of(System.getProperty("crisk.example"));
        List<String> expected = Files.readAllLines(Path.of(System.getProperty("crisk.expected")),
                                                   StandardCharsets.UTF_8);
        List<String> header = cells(expected.get(0));
        try (Bundle bundle = Bundle.load(example); LaneState state = bundle.stream()) {
            BundleScores s = bundle.score(example.resolve("declarations.csv"), state);
            assertTrue(s.rejects().isEmpty());
            assertEquals(expected.size() - 1, s.size());
            List<String> models = bundle.modelNames();
            assertEquals(models, header.subList(1, 1 + models.size()));
            for (int i = 0; i < s.size(); i++) {
                List<String> want = cells(expected.get(i + 1));
                for (int m = 0; m < models.size(); m++)
                    assertEquals("row " + i + " " + models.get(m),
                                 Float.floatToIntBits(Float.parseFloat(want.get(1 + m))),
                                 Float.floatToIntBits(s.score(i, m)));
                int k = 1 + models.size();
                assertEquals("row " + i, want.get(k), s.lane(i));
                assertEquals("row " + i, want.get(k + 1), s.reason(i));
                assertEquals("row " + i, want.get(k + 2), String.join(";", s.hits(i)));
            }
        }
    }
}
