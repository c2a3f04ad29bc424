package org.crisk;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.Locale;

/**
 * Loads the JNI library, libcrisk_jni, once per class loader, the way sqlite-jdbc does:
 * <ol>
 *   <li>from the system property {@value #PATH_PROPERTY} when it is set: the library
 *       file, or a directory that holds it (a pre-installed copy);</li>
 *   <li>else from the jar: the copy for this platform, at
 *       {@code org/crisk/native/<OS>/<arch>/libcrisk_jni.so}, extracted to a temporary
 *       file in {@code java.io.tmpdir} and loaded from there;</li>
 *   <li>else from {@code java.library.path}.</li>
 * </ol>
 * When none works, an {@link UnsatisfiedLinkError} says what was tried and why it
 * failed: the dynamic linker's own message names a missing C dependency (libcjson,
 * OpenBLAS).
 */
final class NativeLoader {
    /** The system property naming a pre-installed JNI library (file or directory). */
    static final String PATH_PROPERTY = "crisk.library.path";
    private static final String NAME = "crisk_jni";

    private NativeLoader() {
    }

    /** Loads the library; called once, from the static initializer of CriskNativeJNI. */
    static void load() {
        String file = System.mapLibraryName(NAME);
        String configured = System.getProperty(PATH_PROPERTY);
        if (configured != null && !configured.isEmpty()) {
            Path path = Paths.get(configured);
            if (Files.isDirectory(path)) {
                path = path.resolve(file);
            }
            loadFile(path, "-D" + PATH_PROPERTY + "=" + configured);
            return;
        }
        String resource = "/org/crisk/native/" + os() + "/" + arch() + "/" + file;
        try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
            if (in != null) {
                loadExtracted(in, file, resource);
                return;
            }
        } catch (IOException e) {
            throw linkError("could not extract " + resource + " from the crisk jar to "
                    + System.getProperty("java.io.tmpdir") + ": " + e, e);
        }
        try {
            System.loadLibrary(NAME);
        } catch (UnsatisfiedLinkError e) {
            throw linkError("the crisk jar has no native library for this platform (no "
                    + resource + "), none is named by -D" + PATH_PROPERTY
                    + ", and java.library.path has none: " + e.getMessage(), e);
        }
    }

    /** Copies the jar's library to a fresh temporary file, loads it, and removes the file
     * (a loaded library stays mapped; where the OS refuses, it goes at exit). */
    private static void loadExtracted(InputStream in, String file, String resource)
            throws IOException {
        int dot = file.lastIndexOf('.');
        Path tmp = Files.createTempFile(file.substring(0, dot) + "-", file.substring(dot));
        try {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            loadFile(tmp, resource + " (extracted to " + tmp + ")");
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                tmp.toFile().deleteOnExit();
            }
        }
    }

    /** Loads the library at `path`; `origin` says where that path came from. */
    private static void loadFile(Path path, String origin) {
        if (!Files.isRegularFile(path)) {
            throw linkError("no crisk JNI library at " + path + " (from " + origin + ")", null);
        }
        try {
            System.load(path.toAbsolutePath().toString());
        } catch (UnsatisfiedLinkError e) {
            String why = e.getMessage();
            // The dynamic linker's message names the missing library; say where to get it.
            String hint = why != null && why.contains("cannot open shared object file")
                    ? " -- a C library it links is not installed; libcrisk_jni needs libcjson"
                      + " and OpenBLAS (Debian: libcjson1, libopenblas0-serial)"
                    : "";
            throw linkError("could not load " + path + " (from " + origin + "): " + why + hint,
                    e);
        }
    }

    /** Returns an UnsatisfiedLinkError with `message` prefixed by what failed. */
    private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("crisk: " + message);
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }

    /** Returns the operating system's folder name in the jar: Linux, Mac or Windows. */
    static String os() {
        String name = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        if (name.startsWith("linux")) {
            return "Linux";
        }
        if (name.startsWith("mac") || name.startsWith("darwin")) {
            return "Mac";
        }
        if (name.startsWith("windows")) {
            return "Windows";
        }
        return name.replaceAll("\\W", "");
    }

    /** Returns the processor's folder name in the jar, as meson's cpu_family names it:
     * x86_64, x86, aarch64, arm, ppc64, riscv64, s390x... */
    static String arch() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64":
            case "x86_64":
                return "x86_64";
            case "x86":
            case "i386":
            case "i686":
                return "x86";
            case "arm64":
                return "aarch64";
            case "ppc64le":
                return "ppc64";
            default:
                return arch;
        }
    }
}
