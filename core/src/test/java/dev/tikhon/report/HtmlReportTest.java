package dev.tikhon.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class HtmlReportTest {
    @TempDir
    Path dir;

    @Test
    void showsMetricsImagesAndDataFiles() throws Exception {
        Charts.line(dir.resolve("loss.png"), "Loss", "epoch", "loss", List.of());
        Charts.line(dir.resolve("distance histogram.png"), "Distances", "d", "n", List.of());
        Files.writeString(dir.resolve("history.csv"), "epoch\n1\n");
        Json.write(dir.resolve("metrics.json"), Map.of("acc", 0.9));
        Map<String, Object> test = new LinkedHashMap<>();
        test.put("acc", 0.893417);
        test.put("loss", 1.23456e-7);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("epochs", 10);
        metrics.put("test", test);
        metrics.put("diverged", Double.NaN);

        Path index = HtmlReport.write(dir, "CNN on MNIST", "Plain training, 10 epochs", metrics);
        String html = Files.readString(index);

        assertThat(index).isEqualTo(dir.resolve("index.html"));
        assertThat(html).startsWith("<!DOCTYPE html>")
                .contains("<title>CNN on MNIST</title>", "Plain training, 10 epochs")
                .contains("<td>epochs</td><td class=\"num\">10</td>")
                .contains("<td>test.acc</td><td class=\"num\">0.8934</td>")
                .contains("<td>test.loss</td><td class=\"num\">1.235e-07</td>")
                .contains("<td>diverged</td><td class=\"num\">—</td>").doesNotContain("NaN")
                .contains("<img src=\"loss.png\" alt=\"loss\">", "<figcaption>loss</figcaption>")
                .contains("<img src=\"distance%20histogram.png\"")
                .contains("<a href=\"history.csv\">history.csv</a>", "<a href=\"metrics.json\">metrics.json</a>")
                .doesNotContain("http://", "https://", "<script");
    }

    @Test
    void escapesEverythingItWasGiven() throws Exception {
        Map<String, Object> metrics = Map.of("<b>key</b>", "<script>alert('x')</script>");

        String html = Files.readString(HtmlReport.write(dir, "A <script>alert(1)</script> & B", "\"quoted\"", metrics));

        assertThat(html).doesNotContain("<script", "<b>")
                .contains("A &lt;script&gt;alert(1)&lt;/script&gt; &amp; B")
                .contains("&lt;b&gt;key&lt;/b&gt;", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;", "&quot;quoted&quot;");
    }

    @Test
    void givenImagesAreShownInTheGivenOrderAndLongListsAreCut() throws Exception {
        Charts.line(dir.resolve("a.png"), "a", "x", "y", List.of());
        Charts.line(dir.resolve("b.png"), "b", "x", "y", List.of());
        List<Double> perClass = IntStream.range(0, 25).mapToObj(i -> i / 100.0).toList();

        String html = Files.readString(HtmlReport.write(dir, "t", null, Map.of("per_class", perClass), List.of("b.png")));

        assertThat(html).contains("<img src=\"b.png\"").doesNotContain("<img src=\"a.png\"")
                .contains("[0, 0.01, 0.02").contains("(25 in all)").doesNotContain("0.24")
                .doesNotContain("class=\"desc\"");
    }

    @Test
    void flattensNestedMapsWithDottedKeys() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("l2", Map.of("eps", 0.5));
        inner.put("acc", 0.7);
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("robust", inner);
        metrics.put("clean", 0.9);

        assertThat(HtmlReport.flatten(metrics)).containsExactly(
                Map.entry("robust.l2.eps", 0.5), Map.entry("robust.acc", 0.7), Map.entry("clean", 0.9));
    }

    @Test
    void writesAtomicallyWithoutTemporaryFiles() throws Exception {
        HtmlReport.write(dir, "first", null, Map.of());
        HtmlReport.write(dir, "second", null, Map.of());

        assertThat(Files.readString(dir.resolve("index.html"))).contains("second").doesNotContain("first", "<h2>Result");
        try (var files = Files.list(dir)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("index.html");
        }
    }
}
