package org.crisk;

/**
 * How {@link Schema#fit} fits a schema's tables, and how {@link Schema#trainingMatrix}
 * assigns out-of-fold features (crisk_fit_options): the number of folds, the seed of the
 * fold assignment, and the default smoothing m of a risk rate whose feature gives none.
 * Use the same options for the fit and the training matrix.
 *
 * @param folds     out-of-fold folds, at least 2 (default 5)
 * @param seed      fold assignment seed, not negative (default 1)
 * @param smoothing the rate smoothing m, (sum + m * prior) / (count + m) (default 20)
 */
public record FitOptions(int folds, long seed, double smoothing) {
    /** The defaults of crisk, the Python binding and {@code crisk fit}: 5 folds, seed 1,
     *  smoothing 20. */
    public static final FitOptions DEFAULT = new FitOptions(5, 1, 20.0);

    /** Checks the options as Java arguments; the C library checks them again. */
    public FitOptions {
        if (folds < 2)
            throw new IllegalArgumentException("folds must be >= 2, not " + folds);
        if (seed < 0)
            throw new IllegalArgumentException("seed must be >= 0, not " + seed);
        if (!(smoothing >= 0) || Double.isInfinite(smoothing))
            throw new IllegalArgumentException("smoothing must be finite and >= 0, not "
                                               + smoothing);
    }
}
