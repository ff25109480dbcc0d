package dev.tikhon;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The layering rules of docs/architecture.md, checked on the compiled main classes: no package cycles (each
 * package under dev.tikhon is a slice, subpackages included), nothing outside engine/ touches org.bytedeco, and
 * nothing outside cli/ uses cli/. Each rule is also run on a fixture that breaks it, so that it can fail.
 */
class ArchitectureTest {
    private static JavaClasses main;
    private static JavaClasses fixtures;

    @BeforeAll
    static void importClasses() {
        main = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.tikhon");
        fixtures = new ClassFileImporter().importPackages("dev.tikhon.archfixture");
    }

    static ArchRule noCycles(String root) {
        return slices().matching(root + ".(*)..").should().beFreeOfCycles();
    }

    static ArchRule bindingOnlyIn(String root) {
        return noClasses().that().resideOutsideOfPackage(root + ".engine..")
                .should().dependOnClassesThat().resideInAPackage("org.bytedeco..");
    }

    static ArchRule cliOnTop(String root) {
        return noClasses().that().resideOutsideOfPackage(root + ".cli..")
                .should().dependOnClassesThat().resideInAPackage(root + ".cli..");
    }

    @Test
    void mainClassesWereImported() {
        assertThat(main.contain("dev.tikhon.engine.Tensor")).isTrue();
        assertThat(main.contain("dev.tikhon.cli.Main")).isTrue();
        assertThat(main.stream().noneMatch(c -> c.getPackageName().startsWith("dev.tikhon.archfixture"))).isTrue();
    }

    @Test
    void packagesFormNoCycle() {
        noCycles("dev.tikhon").check(main);
    }

    @Test
    void onlyTheEngineTouchesLibtorch() {
        bindingOnlyIn("dev.tikhon").check(main);
    }

    @Test
    void onlyTheCliUsesTheCli() {
        cliOnTop("dev.tikhon").check(main);
    }

    @Test
    void theRulesCatchWhatTheyForbid() {
        assertThat(noCycles("dev.tikhon.archfixture.cycle").evaluate(fixtures).hasViolation()).as("a cycle a ↔ b").isTrue();
        assertThat(noCycles("dev.tikhon.archfixture.clean").evaluate(fixtures).hasViolation()).as("a → b only").isFalse();
        assertThat(bindingOnlyIn("dev.tikhon.archfixture").evaluate(fixtures).hasViolation()).as("org.bytedeco outside engine").isTrue();
        assertThat(cliOnTop("dev.tikhon.archfixture").evaluate(fixtures).hasViolation()).as("cli used from below").isTrue();
    }
}
