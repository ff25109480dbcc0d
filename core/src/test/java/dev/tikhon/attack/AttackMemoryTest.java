package dev.tikhon.attack;

import dev.tikhon.engine.Device;
import dev.tikhon.engine.Rng;
import dev.tikhon.engine.Scope;
import dev.tikhon.engine.Tensor;
import dev.tikhon.nn.Module;
import dev.tikhon.models.Models;
import dev.tikhon.train.MemoryTest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Oracle: an attack's memory does not grow with its number of iterations. Each iteration runs in its own
 * scope and updates the attack's state in place; a tensor that escaped would pile up until the call returns,
 * ~200 KB per iteration here, i.e. hundreds of MB over the long runs below.
 */
class AttackMemoryTest {

    @Test
    void longAttacksUseNoMoreMemoryThanShortOnes() {
        Rng.seed(0);
        Module model = Models.build(Models.spec("mlp", List.of(1L, 28L, 28L), 10, Map.of("hidden", List.of(64))));
        model.train(false);
        Tensor x = Tensor.rand(64, 1, 28, 28), y = Tensor.randint(10, Device.CPU, 64);
        check("APGD", () -> new Apgd(Norm.LINF, 0.01, 100, AttackLoss.CE, 1), () -> new Apgd(Norm.LINF, 0.01, 1000, AttackLoss.CE, 1), model, x, y);
        check("Square", () -> new SquareAttack(0.01, 100, 0.8), () -> new SquareAttack(0.01, 1500, 0.8), model, x, y);
        check("DDN", () -> Ddn.standard(50), () -> Ddn.standard(800), model, x, y);
        check("Square-l2", () -> new SquareL2(0.01, 100, 0.8), () -> new SquareL2(0.01, 1500, 0.8), model, x, y);
        // a large constant keeps the margin term falling, so that the early stop does not cut the long run short
        check("Carlini-Wagner", () -> new CarliniWagner(50, 1, 100, 1e-3), () -> new CarliniWagner(800, 1, 100, 1e-3), model, x, y);
        check("TRADES ascent", () -> new TradesPerturbation(Norm.LINF, 0.01, 50, 1e-3).perturb(model, x, y),
                () -> new TradesPerturbation(Norm.LINF, 0.01, 800, 1e-3).perturb(model, x, y));
        // PGD's last iterate: adversarial training's perturbation and the transfer attack's points
        check("PGD last iterate", () -> new Pgd(Norm.LINF, 0.01, 50, 1e-3, true).perturb(model, x, y),
                () -> new Pgd(Norm.LINF, 0.01, 800, 1e-3, true).perturb(model, x, y));
        AttackRegistry.Settings few = TransferTest.linf(0.01), many = AttackRegistry.Settings.evaluation(Norm.LINF, 0.01, 800, 1, 1, 100, 100,
                Pgd.StepSchedule.CONSTANT, 10);
        check("transfer", () -> Transfer.of(model, "self", "pgd", few, 0), () -> Transfer.of(model, "self", "pgd", many, 0), model, x, y);
    }

    private static void check(String name, Supplier<Attack> shortRun, Supplier<Attack> longRun, Module model, Tensor x, Tensor y) {
        check(name, () -> shortRun.get().attack(model, x, y), () -> longRun.get().attack(model, x, y));
    }

    private static void check(String name, Runnable shortRun, Runnable longRun) {
        long shortKb = peakDuring(shortRun);
        shortKb = Math.max(shortKb, peakDuring(shortRun));   // twice: allocator warm-up
        long longKb = peakDuring(longRun);
        System.out.printf("%s: RSS after a short run %d KB, after a 10-16× longer one %d KB%n", name, shortKb, longKb);
        assertThat(longKb - shortKb).as("%s resident-memory growth (KB)", name).isLessThan(60_000);
    }

    /** Resident memory right after the run returns, before its caller's scope frees what it returned. */
    private static long peakDuring(Runnable run) {
        try (Scope s = Scope.open()) {
            run.run();
            System.gc();
            return MemoryTest.residentKb();
        }
    }
}
