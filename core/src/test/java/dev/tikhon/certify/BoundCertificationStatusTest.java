package dev.tikhon.certify;

import dev.tikhon.data.Dataset;
import dev.tikhon.data.ToyData;
import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.models.Models;
import dev.tikhon.nn.Module;
import dev.tikhon.report.Progress;
import dev.tikhon.verify.BranchAndBound;
import dev.tikhon.verify.Verification;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code certify --method bab}: each branch-and-bound search of the radius bisection tells the certification's progress
 * bar where it stands (the image's own index, the radius tried, domains so far, the bound so far), as {@code verify}'s
 * searches do, and the line is cleared once the batch is done.
 */
class BoundCertificationStatusTest {

    @Test
    void eachSearchOfTheRadiusBisectionIsShownBesideTheBar() {
        Rng.seed(4);
        Module model = Models.build(Models.spec("mlp", List.of(2L), 2, Map.of("hidden", List.of(16, 16)))).train(false);
        Dataset data = ToyData.generate("moons", 64, 3);
        List<String> shown = new ArrayList<>();
        Progress bar = new Progress() {
            @Override public void step(long n) {}
            @Override public void skip(long n) {}
            @Override public void setExtra(String extra) { shown.add(extra); }
            @Override public void close() {}
        };
        // radii up to 64: past the attack's distances (31–33), so the bisection reaches radii only a search can settle
        CertificationRun.Plan plan = BoundCertification.plan(Verification.Method.BAB, 64, 4, BranchAndBound.Settings.DEFAULT.withDomains(8));
        CertificationRun.run(model, data, 6, plan, Device.CPU, bar);

        Pattern line = Pattern.compile("image (\\d+) at r (\\S+): (\\d+) domains, bound (\\S+)");
        int searches = 0;
        java.util.Set<Integer> images = new java.util.TreeSet<>();
        for (String s : shown) {
            Matcher m = line.matcher(s);
            if (!m.matches()) continue;
            searches++;
            assertThat(Integer.parseInt(m.group(1))).as(s).isBetween(0, 5);
            images.add(Integer.parseInt(m.group(1)));
            assertThat(Double.parseDouble(m.group(2))).as(s).isBetween(0.0, 64.0);
            assertThat(Integer.parseInt(m.group(3))).as(s).isBetween(1, 8);
            Double.parseDouble(m.group(4));
        }
        assertThat(searches).as("status lines among %s", shown).isPositive();
        assertThat(images).as("the images searched, by their own index").hasSizeGreaterThan(1);
        assertThat(shown).as("only status lines and clearings").allMatch(s -> s.isEmpty() || line.matcher(s).matches());
        assertThat(shown.get(shown.size() - 1)).as("cleared after the step").isEmpty();

        // a method without searches tells nothing, and its bar's text is left alone
        shown.clear();
        CertificationRun.run(model, data, 6, BoundCertification.plan(Verification.Method.CROWN, 64, 4, BranchAndBound.Settings.DEFAULT),
                Device.CPU, bar);
        assertThat(shown).isEmpty();
    }
}
