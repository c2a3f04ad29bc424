/*
 * JUnitMain.java — the main() every Java test class hands itself to: runs its JUnit 4
 * tests, prints each failure and a count, and exits 0 only when all passed. Built by meson
 * into crisk-test-support.jar on the tests' class path (java's source-file launcher
 * compiles only the test class's own file).
 */
package org.crisk.test;

import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.notification.Failure;

public final class JUnitMain {
    private JUnitMain() {
    }

    /** Runs the tests of `tests`; exits 0 only when every one passed (and one ran). */
    public static void run(Class<?> tests) {
        Result result = JUnitCore.runClasses(tests);
        for (Failure f : result.getFailures()) {
            System.out.println("FAIL " + f.getTestHeader() + ": " + f.getTrace());
        }
        int failed = result.getFailureCount();
        System.out.println((result.getRunCount() - failed) + " passed, " + failed + " failed");
        System.exit(result.wasSuccessful() && result.getRunCount() > 0 ? 0 : 1);
    }
}
