package org.crisk;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Declarations given as text cells, appended to a C batch: what {@link Bundle} and
 * {@link Schema} share. The cells cross to C as one block (UTF-8 bytes and the end offset
 * of each cell, crisk_helpers.h's batch_append_rows), not one call per value.
 */
final class Declarations {
    static final int E_INPUT = -8;  // CRISK_E_INPUT: a row the batch rejects

    /** The text of cell (row, field), null when missing. */
    interface Cells {
        String get(int row, int field);
    }

    private Declarations() {
    }

    /** Returns the cells of records (field name to value) for the given fields, after
     *  checking that no record is null. */
    static Cells ofRecords(List<? extends Map<String, String>> records, List<String> fields) {
        Objects.requireNonNull(records, "records");
        for (int r = 0; r < records.size(); r++)
            Objects.requireNonNull(records.get(r), "records[" + r + "]");
        return (r, j) -> records.get(r).get(fields.get(j));
    }

    /**
     * Appends rows 0..n-1 of {@code cells} ({@code nfields} fields each) to {@code batch}.
     * A row the batch rejects goes to {@code rejects} (its position and the reason) when
     * that is not null; with null, the first rejected row throws CRISK_E_INPUT naming it.
     */
    static void append(SWIGTYPE_p_crisk_batch batch, int nfields, int n, Cells cells,
                       List<BundleScores.Reject> rejects) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        long[] ends = new long[Math.multiplyExact(n, nfields)];
        for (int r = 0, k = 0; r < n; r++) {
            for (int j = 0; j < nfields; j++, k++) {
                String v = cells.get(r, j);
                if (v != null)
                    data.writeBytes(v.getBytes(StandardCharsets.UTF_8));
                ends[k] = data.size();
            }
        }
        byte[] bytes = data.toByteArray();
        int start = 0;
        while (start < n) {
            long before = CriskNative.crisk_batch_size(batch);
            try {
                CriskNative.batch_append_rows(batch, bytes, ends, nfields, start, n);
                return;
            } catch (CriskException e) {
                if (e.getCode() != E_INPUT)
                    throw e;
                int row = start + (int) (CriskNative.crisk_batch_size(batch) - before);
                if (rejects == null)
                    throw new CriskException(E_INPUT, e.getErrorName(),
                                             "declaration " + row + ": " + e.getDetail());
                rejects.add(new BundleScores.Reject(row, e.getDetail()));
                start = row + 1;
            }
        }
    }
}
