package org.crisk;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Objects;

/**
 * The reason codes of one {@link Bundle#score} call made with explain = K > 0
 * (docs/bundle.md, "Reason codes"), copied out of the C results in one crossing
 * (crisk_helpers.h's results_explain): per declaration K slots of (field, value,
 * contribution), filled up to the declaration's number of reasons, and its bias and rest.
 * Immutable; {@link BundleScores} serves them.
 */
final class BundleReasons {
    /** No reason codes: the call did not ask for them. */
    static final BundleReasons NONE = new BundleReasons(0, new int[0], new String[0],
                                                        new String[0], new float[0]);

    private final int explain;         // K: slots per declaration
    private final int[] counts;        // reasons per declaration (<= K)
    private final String[] fields;     // slot r * K + k
    private final String[] values;     // slot r * K + k; null when missing
    private final float[] numbers;     // per declaration: K contributions, bias, rest

    private BundleReasons(int explain, int[] counts, String[] fields, String[] values,
                          float[] numbers) {
        this.explain = explain;
        this.counts = counts;
        this.fields = fields;
        this.values = values;
        this.numbers = numbers;
    }

    /** Copies the reason codes of the `size` declarations of results `res` (of bundle
     *  `b`, scored with explain = `explain` > 0); `schemaFields` names the schema's fields
     *  by index. */
    static BundleReasons copy(SWIGTYPE_p_crisk_bundle b, SWIGTYPE_p_crisk_results res,
                              int size, int explain, List<String> schemaFields) {
        int slots = Math.multiplyExact(size, explain);
        float[] numbers = new float[Math.multiplyExact(size, explain + 2)];
        int[] ints = new int[Math.multiplyExact(slots, 2)];
        byte[] text = new byte[Math.toIntExact(CriskNative.results_explain_bytes(res))];
        CriskNative.results_explain(b, res, explain, numbers, ints, text);
        int[] counts = new int[size];
        String[] fields = new String[slots];
        String[] values = new String[slots];
        for (int s = 0, at = 0; s < slots; s++) {
            int field = ints[2 * s];
            int len = ints[2 * s + 1];
            if (field < 0)
                continue;
            counts[s / explain]++;
            fields[s] = schemaFields.get(field);
            values[s] = len == 0 ? null : new String(text, at, len, StandardCharsets.UTF_8);
            at += len;
        }
        return new BundleReasons(explain, counts, fields, values, numbers);
    }

    /** Returns K, the reasons asked for per declaration (0: none). */
    int explain() {
        return explain;
    }

    /** Returns how many reasons declaration {@code i} has. */
    int count(int i) {
        return explain == 0 ? 0 : counts[i];
    }

    /** Returns the slot of reason {@code k} of declaration {@code i}, after checking both. */
    private int slot(int i, int k) {
        Objects.checkIndex(k, count(i));
        return i * explain + k;
    }

    /** Returns the field of reason {@code k} of declaration {@code i}. */
    String field(int i, int k) {
        return fields[slot(i, k)];
    }

    /** Returns the value of reason {@code k} of declaration {@code i}, null when missing. */
    String value(int i, int k) {
        return values[slot(i, k)];
    }

    /** Returns the contribution of reason {@code k} of declaration {@code i}. */
    float contribution(int i, int k) {
        slot(i, k);
        return numbers[i * (explain + 2) + k];
    }

    /** Returns declaration {@code i}'s bias ({@code which} 0) or rest (1); NaN without
     *  explain. */
    float term(int i, int which) {
        return explain == 0 ? Float.NaN : numbers[i * (explain + 2) + explain + which];
    }
}
