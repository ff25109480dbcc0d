package dev.tikhon.engine;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Oracle: the rules in {@link Scope}'s documentation. In strict mode, after a thread's first optimizer step, a tensor
 * made outside any scope is refused with a message naming where it was made; inside a scope, or before the first step
 * (setup), it is not. Scopes nest and report whether one is open.
 */
class ScopeStrictModeTest {

    @AfterEach
    void relax() {
        Scope.strict(false);
    }

    @Test
    void strictModeRefusesAnUnscopedTensorAfterTheFirstStepOnly() {
        Scope.strict(true);
        Tensor setup = Tensor.zeros(2);   // before any step: setup, allowed
        assertThat(setup.numel()).isEqualTo(2);
        Scope.checkStep("optimizer step");
        try (Scope s = Scope.open()) {
            assertThat(Tensor.ones(3).numel()).isEqualTo(3);   // inside a scope: allowed
        }
        assertThatThrownBy(() -> Tensor.ones(4)).isInstanceOf(EngineException.class)
                .hasMessageContaining("outside any Scope after an optimizer step (strict mode)")
                .hasMessageContaining("Tensor[4]")
                .hasMessageContaining(" created at ");   // the first frame outside the engine (here: AssertJ, as this test sits in engine)
        Scope.strict(false);   // counting starts afresh, not strict
        Scope.checkStep("optimizer step");
        assertThat(Tensor.ones(5).numel()).isEqualTo(5);
    }

    @Test
    void scopesNestAndSayWhetherOneIsOpen() {
        assertThat(Scope.isOpen()).isFalse();
        try (Scope outer = Scope.open()) {
            assertThat(Scope.isOpen()).isTrue();
            try (Scope inner = Scope.open()) {
                assertThat(Scope.isOpen()).isTrue();
            }
            assertThat(Scope.isOpen()).isTrue();
        }
        assertThat(Scope.isOpen()).isFalse();
        Scope s = Scope.open();
        assertThat(s).isNotNull();
        s.close();
        assertThat(Scope.isOpen()).isFalse();
    }
}
