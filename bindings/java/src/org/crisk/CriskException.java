package org.crisk;

import java.nio.charset.StandardCharsets;

/**
 * A failure reported by the crisk C library: a bad or unsupported model, a row width that
 * does not match the model, a bad option, a missing value a logistic model refuses.
 *
 * <p>It is unchecked. Almost every cause is a programming or deployment error (a model
 * file that is not a model, rows of the wrong width, an iteration range beyond the model)
 * that the code calling {@code predict} cannot repair locally, and a checked exception
 * could not cross the functional interfaces that batch-scoring code runs in (streams,
 * Spark's {@code mapPartitions}). Callers that do want to react, say to a bad model
 * upload, catch it and look at {@link #getErrorName()}.
 */
public final class CriskException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int code;
    private final String errorName;
    private final String detail;

    /** Called by the JNI wrapper with the C library's code, its name and its message. */
    CriskException(int code, String errorName, byte[] detailUtf8) {
        this(code, errorName, new String(detailUtf8, StandardCharsets.UTF_8));
    }

    /** Called by the public classes for a failure found on the Java side of a call. */
    CriskException(int code, String errorName, String detail) {
        super(errorName + ": " + detail);
        this.code = code;
        this.errorName = errorName;
        this.detail = detail;
    }

    /** Returns the negative CRISK_E_* code, as in crisk.h (e.g. -4 for CRISK_E_FORMAT). */
    public int getCode() {
        return code;
    }

    /** Returns the code's symbolic name, e.g. {@code "CRISK_E_SHAPE"}. */
    public String getErrorName() {
        return errorName;
    }

    /** Returns the C library's message alone: what is wrong and where. */
    public String getDetail() {
        return detail;
    }
}
