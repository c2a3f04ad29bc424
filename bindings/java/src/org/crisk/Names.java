package org.crisk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongFunction;

/** The name lists the handles expose (fields, features, models, lanes), read once, and the
 *  Java constants of C enums numbered from 1. */
final class Names {
    private Names() {
    }

    /** Returns the unmodifiable list of names 0 .. count - 1 given by {@code name}. */
    static List<String> of(long count, LongFunction<String> name) {
        List<String> out = new ArrayList<>();
        for (long i = 0; i < count; i++)
            out.add(name.apply(i));
        return Collections.unmodifiableList(out);
    }

    /** Returns the constant of C code {@code code} among {@code all}, the constants of codes
     *  1, 2, ... in order, or null for any other code. */
    static <E extends Enum<E>> E constant(E[] all, int code) {
        return code >= 1 && code <= all.length ? all[code - 1] : null;
    }
}
