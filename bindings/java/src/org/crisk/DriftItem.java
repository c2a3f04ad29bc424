package org.crisk;

/**
 * The drift of one schema feature or model score against the bundle's reference
 * distributions ({@link Bundle#monitor}; docs/bundle.md, "Reference distributions").
 *
 * @param name       the feature's or the model's name
 * @param kind       {@code numeric}, {@code category} (a category feature) or {@code score}
 * @param psi        the population stability index (NaN with no declaration)
 * @param noise      (bins - 1) / rows: the PSI a sample of the reference itself has on
 *                   average
 * @param missingRef the reference's share of missing values; {@code missingNow}: now
 * @param unseenRef  a category's share of values the fitted dictionary lacks, in the
 *                   reference; {@code unseenNow}: now (0 for numeric items)
 * @param level      {@code ok}, {@code warn} or {@code alert}, by the reference's thresholds
 */
public record DriftItem(String name, String kind, double psi, double noise,
                        double missingRef, double missingNow, double unseenRef,
                        double unseenNow, String level) {
    private static final String[] KINDS = {"numeric", "category", "score"};
    private static final String[] LEVELS = {"ok", "warn", "alert"};

    /** Reads item `i` of the C counts `d`. */
    static DriftItem of(SWIGTYPE_p_crisk_drift d, long i) {
        double[] v = new double[8];
        CriskNative.drift_item_values(d, i, v);
        return new DriftItem(CriskNative.drift_item_name(d, i), KINDS[(int) v[7]], v[0], v[1],
                             v[2], v[3], v[4], v[5], LEVELS[(int) v[6]]);
    }

    /** Worst first: by level, then PSI (NaN last), then name. */
    static int worstFirst(DriftItem a, DriftItem b) {
        int byLevel = Integer.compare(levelOf(b), levelOf(a));
        if (byLevel != 0)
            return byLevel;
        if (Double.isNaN(a.psi) != Double.isNaN(b.psi))
            return Double.isNaN(a.psi) ? 1 : -1;
        int byPsi = Double.compare(b.psi, a.psi);
        return byPsi != 0 ? byPsi : a.name.compareTo(b.name);
    }

    private static int levelOf(DriftItem d) {
        return java.util.Arrays.asList(LEVELS).indexOf(d.level);
    }
}
