package org.crisk;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * The decision for one declaration, as a {@link Decider} fills it: every model's scores, the
 * lane and its reason, the profiles hit and the selection propensity; the values
 * {@link BundleScores} gives for a declaration of a batch. A caller that keeps one and
 * passes it to {@link Decider#decide(String[], Decision)} at every call allocates
 * nothing per call (its text fields are decoded only when asked for). It is empty (no
 * lane) until a decider fills it.
 *
 * <p><b>Threads.</b> Not thread-safe: it is the output of one call at a time, as an array
 * would be.
 */
public final class Decision {
    private final Bundle bundle;
    private final List<String> lanes;
    private final List<String> models;
    private final int[] outputs;   // values of each model
    private final int[] offsets;   // where each model's values start after the head
    // As crisk_helpers.h's decision_copy fills them: lane index, reason kind, hits,
    // propensity (DECISION_HEAD), then every model's scores; the reason, then each hit's
    // id, NUL-ended (grown by the decider when the hits need more).
    final double[] numbers;
    byte[] text = new byte[REASON_BYTES];

    static final int HEAD = 4;              // DECISION_HEAD
    static final int REASON_BYTES = 512;    // DECISION_REASON_BYTES: longest reason kept

    /** An empty decision for `bundle`, whose lanes, models and each model's outputs these
     *  are. */
    Decision(Bundle bundle, List<String> lanes, List<String> models, int[] outputs) {
        this.bundle = bundle;
        this.lanes = lanes;
        this.models = models;
        this.outputs = outputs;
        this.offsets = BundleScores.starts(outputs);
        this.numbers = new double[HEAD + offsets[outputs.length]];
        numbers[0] = -1;              // no lane yet
        numbers[3] = Double.NaN;
    }

    /** Returns whether this is a decision of {@code b}. */
    boolean of(Bundle b) {
        return bundle == b;
    }

    /** Returns the lane, or null before the decision is filled. */
    public String lane() {
        int lane = laneIndex();
        return lane >= 0 && lane < lanes.size() ? lanes.get(lane) : null;
    }

    /** Returns the lane's index in {@link Bundle#lanes()} (most severe first), -1 before
     *  the decision is filled. */
    public int laneIndex() {
        return (int) numbers[0];
    }

    /** Returns the kind of reason for the lane, null before the decision is filled. */
    public BundleScores.ReasonKind reasonKind() {
        return BundleScores.ReasonKind.of((int) numbers[1]);
    }

    /** Returns the one-line reason for the lane (at most 511 bytes), decoded at each call. */
    public String reason() {
        return laneIndex() < 0 ? null : string(0);
    }

    /** Returns model {@code model}'s score (its first output); NaN when the model could
     *  not score the declaration. */
    public float score(int model) {
        return score(model, 0);
    }

    /** Returns output {@code k} of model {@code model} (class k of a multi-class model).
     *
     * @throws IndexOutOfBoundsException k is not below the model's outputs */
    public float score(int model, int k) {
        Objects.checkIndex(k, outputs[model]);
        return (float) numbers[HEAD + offsets[model] + k];
    }

    /** Returns the score (first output) of the model named {@code name}. */
    public float score(String name) {
        int m = models.indexOf(name);
        if (m < 0)
            throw new IllegalArgumentException("no model " + name + " (models: " + models + ")");
        return score(m);
    }

    /** Returns the number of risk profiles the declaration hit. */
    public int numHits() {
        return (int) numbers[2];
    }

    /** Returns the id of profile hit {@code k}, in file order, decoded at each call.
     *
     * @throws IndexOutOfBoundsException k is not below {@link #numHits()} */
    public String hit(int k) {
        Objects.checkIndex(k, numHits());
        int at = 0;
        for (int skip = 0; skip <= k; skip++)
            at = end(at) + 1;
        return string(at);
    }

    /** Returns the ids of the profiles hit, in file order (a new list). */
    public List<String> hits() {
        List<String> out = new ArrayList<>(numHits());
        for (int k = 0; k < numHits(); k++)
            out.add(hit(k));
        return Collections.unmodifiableList(out);
    }

    /** Returns the selection propensity (crisk_results_propensity; docs/bundle.md,
     *  "Propensity"); NaN before the decision is filled. */
    public double propensity() {
        return numbers[3];
    }

    /** Returns where the NUL-ended text at {@code at} ends. */
    private int end(int at) {
        while (text[at] != 0)
            at++;
        return at;
    }

    private String string(int at) {
        return new String(text, at, end(at) - at, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "crisk.Decision[" + lane() + ", " + reason() + ", hits " + hits() + "]";
    }
}
