package org.crisk;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.LongFunction;

/** The name lists the handles expose (fields, features, models, lanes), read once. */
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
}
