package org.crisk;

import java.util.Collections;
import java.util.List;

/**
 * The decisions of one {@link Bundle#score} call: for each scored declaration (in input
 * order, {@code i} from 0 to {@link #size()} - 1) its position in the input, every model's
 * score, its lane, the reason for that lane and the ids of the risk profiles it hit; and
 * the rejected declarations with the reason. Every input row is either scored or
 * rejected. Immutable; it holds no native memory.
 */
public final class BundleScores {
    /** A declaration the schema refused: its position in the input and why. */
    public record Reject(int row, String reason) {
    }

    /** Why a declaration's lane was chosen (crisk_reason_kind; Python's reason_kind). */
    public enum ReasonKind {
        /** A mandatory risk-profile hit. */
        PROFILE,
        /** A model score at or above a lane threshold. */
        THRESHOLD,
        /** Among the riskiest share of the batch (or stream): the inspection budget. */
        BUDGET,
        /** Drawn for compliance sampling. */
        RANDOM,
        /** None of the above: the policy's default lane. */
        DEFAULT;

        /** Returns the kind of C code {@code code} (1 = PROFILE ... 5 = DEFAULT), or null
         *  for any other value. */
        static ReasonKind of(int code) {
            ReasonKind[] all = values();
            return code >= 1 && code <= all.length ? all[code - 1] : null;
        }
    }

    private final List<String> models;
    private final int[] inputRows;
    private final float[] scores;
    private final String[] lanes;
    private final String[] reasons;
    private final ReasonKind[] kinds;
    private final List<List<String>> hits;
    private final List<Reject> rejects;

    BundleScores(List<String> models, int[] inputRows, float[] scores, String[] lanes,
                 String[] reasons, ReasonKind[] kinds, List<List<String>> hits,
                 List<Reject> rejects) {
        this.models = models;
        this.inputRows = inputRows;
        this.scores = scores;
        this.lanes = lanes;
        this.reasons = reasons;
        this.kinds = kinds;
        this.hits = hits;
        this.rejects = Collections.unmodifiableList(rejects);
    }

    /** Returns the number of scored declarations. */
    public int size() {
        return inputRows.length;
    }

    /** Returns the position in the input of scored declaration {@code i}. */
    public int inputRow(int i) {
        return inputRows[i];
    }

    /** Returns model {@code model}'s score (its first output) for declaration {@code i};
     *  NaN when the model could not score it. */
    public float score(int i, int model) {
        return scores[i * models.size() + model];
    }

    /** Returns the score of the model named {@code name} for declaration {@code i}. */
    public float score(int i, String name) {
        int m = models.indexOf(name);
        if (m < 0)
            throw new IllegalArgumentException("no model " + name + " (models: " + models + ")");
        return score(i, m);
    }

    /** Returns the lane of declaration {@code i}. */
    public String lane(int i) {
        return lanes[i];
    }

    /** Returns the one-line reason for declaration {@code i}'s lane (at most 511 bytes). */
    public String reason(int i) {
        return reasons[i];
    }

    /** Returns the kind of reason for declaration {@code i}'s lane. */
    public ReasonKind reasonKind(int i) {
        return kinds[i];
    }

    /** Returns the ids of the risk profiles declaration {@code i} hit, in file order. */
    public List<String> hits(int i) {
        return hits.get(i);
    }

    /** Returns the rejected declarations, in input order. */
    public List<Reject> rejects() {
        return rejects;
    }
}
