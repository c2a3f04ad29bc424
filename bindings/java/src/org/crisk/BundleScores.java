package org.crisk;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The decisions of one {@link Bundle#score} call: for each scored declaration (in input
 * order, {@code i} from 0 to {@link #size()} - 1) its position in the input, every model's
 * scores (one per class of a multi-class model, as {@code crisk score} writes them), its
 * lane, the reason for that lane and the ids of the risk profiles it hit; and
 * the rejected declarations with the reason. Every input row is either scored or
 * rejected. Immutable; it holds no native memory.
 *
 * <p>Scored with explain = K > 0 ({@link Bundle#score(java.util.List, int,
 * java.time.LocalDate, Pool, int)}), it also holds each declaration's reason codes
 * (docs/bundle.md, "Reason codes"; {@code crisk score --explain K}): up to K declaration
 * fields ({@link #numReasons(int)}), ranked by absolute contribution to the policy's score
 * model's margin, each with the declaration's value of it and the signed contribution,
 * and the {@link #explainBias(int) bias} and {@link #explainRest(int) rest} that complete
 * the sum: contributions + bias + rest == the score model's margin (to float rounding).
 *
 * <p>Scored with {@link Events}, it also lists the events refused
 * ({@link #eventRejects()}: line, row, kind, reason; {@code crisk score --event-rejects}).
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
        DEFAULT,
        /** The score model gave no score: the policy's unscored lane. */
        UNSCORED,
        /** Drawn for exploration, with the probability {@link #propensity} gives. */
        EXPLORE;

        /** Returns the kind of C code {@code code} (1 = PROFILE ... 7 = EXPLORE), or null
         *  for any other value. */
        static ReasonKind of(int code) {
            return Names.constant(values(), code);
        }
    }

    private final List<String> models;
    private final int[] outputs;   // values per declaration of each model
    private final int[] offsets;   // where each model's values start in a declaration's
    private final int width;       // values per declaration, all models together
    private final int[] inputRows;
    private final float[] scores;
    private final String[] lanes;
    private final String[] reasons;
    private final ReasonKind[] kinds;
    private final List<List<String>> hits;
    private final double[] propensities;
    private final List<Reject> rejects;
    private final List<Events.Reject> eventRejects;
    private final BundleReasons reasonCodes;

    /** Returns where each model's values start among a declaration's, given each model's
     *  output count, with the total width as the last element. */
    static int[] starts(int[] outputs) {
        int[] at = new int[outputs.length + 1];
        for (int m = 0; m < outputs.length; m++)
            at[m + 1] = at[m] + outputs[m];
        return at;
    }

    /** Takes the results as Bundle copied them: `scores` holds, per declaration, every
     *  output of model 0, then of model 1, ... (`outputs[m]` values for model m). */
    BundleScores(List<String> models, int[] outputs, int[] inputRows, float[] scores,
                 String[] lanes, String[] reasons, ReasonKind[] kinds,
                 List<List<String>> hits, double[] propensities, List<Reject> rejects,
                 List<Events.Reject> eventRejects, BundleReasons reasonCodes) {
        this.models = models;
        this.outputs = outputs;
        this.offsets = starts(outputs);
        this.width = offsets[outputs.length];
        this.inputRows = inputRows;
        this.scores = scores;
        this.lanes = lanes;
        this.reasons = reasons;
        this.kinds = kinds;
        this.hits = hits;
        this.propensities = propensities;
        this.rejects = Collections.unmodifiableList(rejects);
        this.eventRejects = eventRejects;
        this.reasonCodes = reasonCodes;
    }

    /** Returns the number of scored declarations. */
    public int size() {
        return inputRows.length;
    }

    /** Returns the position in the input of scored declaration {@code i}. */
    public int inputRow(int i) {
        return inputRows[i];
    }

    /** Returns how many values model {@code model} gives per declaration: 1, or the
     *  number of classes of a multi-class model (multi:softprob, LightGBM multiclass,
     *  multinomial logistic). */
    public int numOutputs(int model) {
        return outputs[model];
    }

    /** Returns model {@code model}'s score (its first output, crisk_results_score) for
     *  declaration {@code i}; NaN when the model could not score it. */
    public float score(int i, int model) {
        return score(i, model, 0);
    }

    /** Returns output {@code k} (the probability of class k of a multi-class model;
     *  crisk_results_score_k) of model {@code model} for declaration {@code i}; NaN when
     *  the model could not score it.
     *
     * @throws IndexOutOfBoundsException k is not below {@link #numOutputs(int)} */
    public float score(int i, int model, int k) {
        Objects.checkIndex(k, outputs[model]);
        Objects.checkIndex(i, inputRows.length);
        return scores[i * width + offsets[model] + k];
    }

    /** Returns every output of model {@code model} for declaration {@code i}, in the
     *  model's class order: {@link #numOutputs(int)} floats (a copy). */
    public float[] scores(int i, int model) {
        Objects.checkIndex(i, inputRows.length);
        int from = i * width + offsets[model];
        return Arrays.copyOfRange(scores, from, from + outputs[model]);
    }

    /** Returns the score (first output) of the model named {@code name} for declaration
     *  {@code i}. */
    public float score(int i, String name) {
        return score(i, modelIndex(name));
    }

    /** Returns every output of the model named {@code name} for declaration {@code i}. */
    public float[] scores(int i, String name) {
        return scores(i, modelIndex(name));
    }

    /** Returns the index of the model named {@code name}. */
    private int modelIndex(String name) {
        int m = models.indexOf(name);
        if (m < 0)
            throw new IllegalArgumentException("no model " + name + " (models: " + models + ")");
        return m;
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

    /** Returns declaration {@code i}'s selection propensity: the probability the policy
     *  gave it, before any draw, of being selected by some rule (crisk_results_propensity;
     *  docs/bundle.md, "Propensity"). */
    public double propensity(int i) {
        return propensities[i];
    }

    /** Returns K, the reason codes asked for per declaration (0: scored without
     *  explain). */
    public int explain() {
        return reasonCodes.explain();
    }

    /** Returns how many reason codes declaration {@code i} has (crisk_results_num_reasons):
     *  at most {@link #explain()}, fewer when fewer fields contribute; 0 without explain or
     *  when the score model did not score it. */
    public int numReasons(int i) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.count(i);
    }

    /** Returns the declaration field of reason {@code k} of declaration {@code i}
     *  (crisk_results_reason_field); reason 0 has the largest |contribution|.
     *
     * @throws IndexOutOfBoundsException k is not below {@link #numReasons(int)} */
    public String reasonField(int i, int k) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.field(i, k);
    }

    /** Returns declaration {@code i}'s value of the field of reason {@code k} as text
     *  (crisk_results_reason_value: text and HS codes as stored, numbers as %.15g, dates as
     *  YYYY-MM-DD), or null when the value is missing.
     *
     * @throws IndexOutOfBoundsException k is not below {@link #numReasons(int)} */
    public String reasonValue(int i, int k) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.value(i, k);
    }

    /** Returns the signed contribution of reason {@code k} of declaration {@code i} to the
     *  score model's margin (crisk_results_reason_contribution; positive: towards a higher
     *  score).
     *
     * @throws IndexOutOfBoundsException k is not below {@link #numReasons(int)} */
    public float reasonContribution(int i, int k) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.contribution(i, k);
    }

    /** Returns declaration {@code i}'s bias, the score model's expected margin
     *  (crisk_results_explain_bias); NaN without explain or when not explained. */
    public float explainBias(int i) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.term(i, 0);
    }

    /** Returns declaration {@code i}'s rest, the contributions of the fields beyond its
     *  reasons summed (crisk_results_explain_rest); NaN without explain or when not
     *  explained. */
    public float explainRest(int i) {
        Objects.checkIndex(i, inputRows.length);
        return reasonCodes.term(i, 1);
    }

    /** Returns the rejected declarations, in input order. */
    public List<Reject> rejects() {
        return rejects;
    }

    /** Returns the events refused (docs/events.md, "Rejects"), in stream order: empty when
     *  scored without events, or when every event passed. Each refused event is here,
     *  never dropped silently: the events read = the accepted + these. */
    public List<Events.Reject> eventRejects() {
        return eventRejects;
    }
}
