/*
 * SparkScore.java — the Java Spark pattern of docs/java.md, run as a test (issue 16,
 * item 12): a local[2] Spark job reads the example bundle's declarations, scores each
 * partition as one batch with the bundle its executor loaded once, and must equal
 * single-process scoring of the same rows, row for row: per partition (the budget applies
 * per scored batch) for lanes, reasons and hits, and against the whole file at once for
 * the model scores, which do not depend on batching. Prints "N passed, N failed".
 *
 * usage: spark-submit --master local[2] --class SparkScore --jars crisk.jar APP.jar EXAMPLE
 */
import java.io.Serializable;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.crisk.Bundle;
import org.crisk.BundleScores;

import scala.Tuple2;

public final class SparkScore {
    /** One bundle per executor JVM and directory, loaded on first use, shared by tasks. */
    private static final Map<String, Bundle> BUNDLES = new ConcurrentHashMap<>();

    /** A scored declaration: where it came from and what crisk said. */
    record Scored(long position, int partition, int order, float[] scores, String lane,
                  String reason, String hits) implements Serializable {
    }

    private SparkScore() {
    }

    /** Scores one partition (position, record) as one batch with the executor's bundle. */
    private static Iterator<Scored> scorePartition(String dir, int partition,
                                                   Iterator<Tuple2<Long, Map<String, String>>> it) {
        List<Long> positions = new ArrayList<>();
        List<Map<String, String>> records = new ArrayList<>();
        it.forEachRemaining(t -> {
            positions.add(t._1());
            records.add(t._2());
        });
        Bundle bundle = BUNDLES.computeIfAbsent(dir, d -> Bundle.load(Path.of(d)));
        BundleScores s = bundle.score(records);   // threads = 1: Spark runs a task per core
        if (!s.rejects().isEmpty())
            throw new IllegalStateException("rejected: " + s.rejects());
        List<Scored> out = new ArrayList<>();
        for (int i = 0; i < s.size(); i++)
            out.add(scored(s, i, bundle.modelNames().size(), positions.get(s.inputRow(i)),
                           partition, s.inputRow(i)));
        return out.iterator();
    }

    /** Returns row i of `s` (scored by `models` models) as a Scored. */
    private static Scored scored(BundleScores s, int i, int models, long position,
                                 int partition, int order) {
        return new Scored(position, partition, order, scoresOf(s, i, models), s.lane(i),
                          s.reason(i), String.join(";", s.hits(i)));
    }

    /** Returns the first output of each of the `models` models for row i of `s`. */
    private static float[] scoresOf(BundleScores s, int i, int models) {
        float[] out = new float[models];
        for (int m = 0; m < models; m++)
            out[m] = s.score(i, m);
        return out;
    }

    /** Returns a CSV row read by Spark as a record (a null cell is a missing value). */
    private static Map<String, String> record(String[] columns, Row row) {
        Map<String, String> r = new HashMap<>();
        for (int j = 0; j < columns.length; j++)
            r.put(columns[j], row.getString(j));
        return r;
    }

    public static void main(String[] args) {
        String dir = args[0];
        SparkSession spark = SparkSession.builder().appName("crisk-java-spark")
            .config("spark.ui.enabled", "false").getOrCreate();
        List<Scored> got;
        List<Map<String, String>> all;
        try {
            Dataset<Row> csv = spark.read().option("header", "true")
                .csv(Path.of(dir, "declarations.csv").toString());
            String[] columns = csv.columns();
            JavaRDD<Tuple2<Long, Map<String, String>>> rows = csv.toJavaRDD().zipWithIndex()
                .map(t -> new Tuple2<>(t._2(), record(columns, t._1()))).repartition(2);
            got = new ArrayList<>(rows.mapPartitionsWithIndex(
                (p, it) -> scorePartition(dir, p, it), false).collect());
            all = rows.sortBy(Tuple2::_1, true, 1).map(Tuple2::_2).collect();
        } finally {
            spark.stop();
        }
        System.exit(check(dir, got, all) ? 0 : 1);
    }

    /** Compares the Spark results with single-process scoring; prints the tally. */
    private static boolean check(String dir, List<Scored> got, List<Map<String, String>> all) {
        int passed = 0;
        List<String> failed = new ArrayList<>();
        try (Bundle bundle = Bundle.load(Path.of(dir))) {
            int models = bundle.modelNames().size();
            BundleScores whole = bundle.score(all);
            Map<Integer, TreeMap<Integer, Scored>> byPartition = new TreeMap<>();
            for (Scored s : got)
                byPartition.computeIfAbsent(s.partition(), k -> new TreeMap<>()).put(s.order(), s);
            for (var part : byPartition.values()) {
                List<Map<String, String>> records = new ArrayList<>();
                for (Scored s : part.values())
                    records.add(all.get((int) s.position()));
                BundleScores want = bundle.score(records);
                int i = 0;
                for (Scored s : part.values()) {
                    Scored w = scored(want, i++, models, s.position(), s.partition(),
                                      s.order());
                    boolean same = Arrays.equals(w.scores(), s.scores())
                        && Arrays.equals(scoresOf(whole, (int) s.position(), models),
                                         s.scores())
                        && w.lane().equals(s.lane()) && w.reason().equals(s.reason())
                        && w.hits().equals(s.hits());
                    if (same)
                        passed++;
                    else
                        failed.add("position " + s.position() + ": spark " + s + ", single " + w);
                }
            }
            if (got.size() != all.size() || byPartition.size() != 2)
                failed.add(got.size() + " rows scored in " + byPartition.size()
                           + " partitions, want " + all.size() + " in 2");
        }
        failed.forEach(System.out::println);
        System.out.println(passed + " passed, " + failed.size() + " failed");
        return failed.isEmpty();
    }
}
